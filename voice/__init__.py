"""Voice stage: EmotionPlan -> Utterance (text normalisation, TTS engines, prosody, timing).

Importing this package loads no model and no TTS library: each engine loads
its model, onnxruntime or LiteRT on first use.
"""

from __future__ import annotations

from voice.normalize_zh import normalize_zh
from voice.resample import resample

# Imported by name so that `voice.synthesize` is the function, not the module
# of the same name.
from voice.synthesize import VoiceInfo, list_voices, synthesize
from voice.types import Phoneme, Utterance

__all__ = ["Phoneme", "Utterance", "VoiceInfo", "list_voices", "normalize_zh", "resample", "synthesize"]
