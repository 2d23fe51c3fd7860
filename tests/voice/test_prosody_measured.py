"""Measured effect sizes of the emotional prosody, on real speech from both voices.

Each voice speaks one news sentence four times in one plan (neutral, happy, sad,
angry), and Praat measures each sentence within its span. Measuring inside one
utterance keeps the comparison fair when `synthesize` scales the whole script to
a loudness target: one gain moves every sentence alike.
"""

from dataclasses import dataclass

import numpy as np
import parselmouth
import pytest

from emotion.types import EmotionPlan
from tests.voice.conftest import make_segment
from voice import synthesize
from voice.synthesize import VOICES
from voice.types import Utterance

# (language, sentence) per voice: the same news item in each language.
SENTENCES = {
    "zh-baker": ("zh", "受强降雨影响，该县东部三百多户房屋一夜之间被淹，两人仍然下落不明。"),
    "en-joe": (
        "en",
        "In other news, heavy rain flooded more than 300 homes in the east of the county overnight.",
    ),
}
EMOTIONS = ("neutral", "happy", "sad", "angry")
# Praat pitch analysis step, in seconds.
TIME_STEP = 0.01
# Window around each voiced frame for its energy, in seconds.
ENERGY_WINDOW = 0.04


@dataclass(frozen=True)
class Measurement:
    """Prosody of one spoken sentence.

    Attributes:
        mean_f0: mean pitch of voiced frames, in Hz.
        f0_spread: 10th to 90th percentile of voiced pitch, in semitones.
        rate: phonemes per second, counting only the time of non-"sil" phonemes.
        energy_db: mean power of the voiced frames, in dB relative to full scale.
    """

    mean_f0: float
    f0_spread: float
    rate: float
    energy_db: float


def measure(utterance: Utterance, index: int, pitch_floor: float, pitch_ceiling: float) -> Measurement:
    start, end = utterance.segment_spans[index]
    samples = utterance.waveform[start:end].astype(np.float64)
    sound = parselmouth.Sound(samples, sampling_frequency=utterance.sample_rate)
    pitch = sound.to_pitch(TIME_STEP, pitch_floor, pitch_ceiling)
    frequencies = pitch.selected_array["frequency"]
    voiced = frequencies > 0
    semitones = 12 * np.log2(frequencies[voiced])

    half = round(ENERGY_WINDOW / 2 * utterance.sample_rate)
    centres = np.round(pitch.xs()[voiced] * utterance.sample_rate).astype(int)
    powers = [np.mean(samples[max(0, centre - half) : centre + half] ** 2) for centre in centres]

    speech = [p for p in utterance.phonemes if p.segment == index and p.symbol != "sil"]
    speech_seconds = sum(p.end - p.start for p in speech) / utterance.sample_rate
    return Measurement(
        mean_f0=float(frequencies[voiced].mean()),
        f0_spread=float(np.percentile(semitones, 90) - np.percentile(semitones, 10)),
        rate=len(speech) / speech_seconds,
        energy_db=float(10 * np.log10(np.mean(powers))),
    )


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, Measurement]]:
    """Measurement per voice and emotion, each emotion at full intensity."""
    results = {}
    for voice, (language, text) in SENTENCES.items():
        segments = tuple(
            make_segment(i, text, language, emotion, 1.0, pause_ms=300) for i, emotion in enumerate(EMOTIONS)
        )
        utterance = synthesize(EmotionPlan(segments, language), voice=voice)
        info = VOICES[voice]
        results[voice] = {
            emotion: measure(utterance, i, info.pitch_floor, info.pitch_ceiling)
            for i, emotion in enumerate(EMOTIONS)
        }
    return results


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_happy_raises_mean_f0(measured, voice):
    ratio = measured[voice]["happy"].mean_f0 / measured[voice]["neutral"].mean_f0
    assert ratio >= 1.05, f"happy/neutral mean F0 ratio {ratio:.3f}"


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_happy_widens_f0_range(measured, voice):
    ratio = measured[voice]["happy"].f0_spread / measured[voice]["neutral"].f0_spread
    assert ratio >= 1.15, f"happy/neutral F0 spread ratio {ratio:.3f}"


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_sad_slows_speaking_rate(measured, voice):
    ratio = measured[voice]["sad"].rate / measured[voice]["neutral"].rate
    assert ratio <= 0.92, f"sad/neutral speaking rate ratio {ratio:.3f}"


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_sad_narrows_f0_range(measured, voice):
    ratio = measured[voice]["sad"].f0_spread / measured[voice]["neutral"].f0_spread
    assert ratio <= 0.85, f"sad/neutral F0 spread ratio {ratio:.3f}"


@pytest.mark.parametrize("voice", list(SENTENCES))
def test_angry_raises_energy(measured, voice):
    difference = measured[voice]["angry"].energy_db - measured[voice]["neutral"].energy_db
    assert difference >= 2.0, f"angry - neutral voiced energy {difference:+.2f} dB"
