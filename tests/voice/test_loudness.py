import logging

import numpy as np
import pytest

from avatar.errors import AvatarError
from emotion.types import EmotionPlan
from tests.voice.conftest import make_segment
from voice import synthesize
from voice.loudness import integrated_loudness, k_weighting_filters, limit_peaks, normalize_loudness

# One short natural sentence per voice.
SENTENCES = {
    "zh-baker": ("zh", "今天的天气非常好，我们一起去公园散步吧。"),
    "en-joe": ("en", "Heavy rain flooded more than three hundred homes overnight."),
}


def sine(frequency: float, amplitude: float, seconds: float, sample_rate: int) -> np.ndarray:
    time = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency * time)).astype(np.float32)


@pytest.fixture(scope="module")
def speech() -> dict[str, tuple[np.ndarray, int]]:
    """Real neutral speech from each voice, as (samples, sample rate)."""
    spoken = {}
    for voice, (language, text) in SENTENCES.items():
        utterance = synthesize(
            EmotionPlan((make_segment(0, text, language, "neutral", 0.0),), language), voice=voice,
            loudness_lufs=None,
        )
        spoken[voice] = (utterance.waveform, utterance.sample_rate)
    return spoken


def test_k_weighting_matches_bs1770_at_48k():
    # Coefficients printed in ITU-R BS.1770-4, tables 1 and 2.
    (shelf_b, shelf_a), (highpass_b, highpass_a) = k_weighting_filters(48000)
    np.testing.assert_allclose(shelf_b, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-9)
    np.testing.assert_allclose(shelf_a, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-9)
    np.testing.assert_allclose(highpass_b, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(highpass_a, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-9)


@pytest.mark.parametrize("sample_rate", [48000, 24000, 22050, 16000])
def test_full_scale_997_hz_sine(sample_rate):
    assert integrated_loudness(sine(997.0, 1.0, 2.0, sample_rate), sample_rate) == pytest.approx(
        -3.01, abs=0.05
    )


@pytest.mark.parametrize("level_db", [-6.0, -20.0, -40.0])
def test_1_khz_sine_at_known_level(level_db):
    # A sine of peak level L dBFS has an RMS of L - 3.01 dB, and K-weighting gains about 0 dB at 1 kHz.
    measured = integrated_loudness(sine(1000.0, 10 ** (level_db / 20), 3.0, 22050), 22050)
    assert measured == pytest.approx(level_db - 3.01, abs=0.5)


def test_relative_gate_ignores_quiet_part():
    # 2 s at -23 LUFS then 2 s 30 dB quieter: the quiet blocks fall under the -10 LU gate.
    # 17 blocks lie in the loud part and 3 straddle the step with 3/4, 1/2 and 1/4 of
    # its power, so the gated mean power is 18.5 / 20 of the loud part's. Without the
    # relative gate the result would be about -26 LUFS.
    loud = sine(1000.0, 10 ** (-20 / 20), 2.0, 24000)
    quiet = sine(1000.0, 10 ** (-50 / 20), 2.0, 24000)
    measured = integrated_loudness(np.concatenate([loud, quiet]), 24000)
    assert measured == pytest.approx(-23.01 + 10 * np.log10(18.5 / 20), abs=0.1)


def test_absolute_gate_returns_minus_infinity():
    assert integrated_loudness(sine(1000.0, 10 ** (-80 / 20), 1.0, 24000), 24000) == -np.inf
    assert integrated_loudness(np.zeros(24000, np.float32), 24000) == -np.inf


def test_clip_shorter_than_one_block():
    measured = integrated_loudness(sine(1000.0, 0.5, 0.2, 24000), 24000)
    assert measured == pytest.approx(20 * np.log10(0.5) - 3.01, abs=0.5)


@pytest.mark.parametrize(("voice", "target"), [("zh-baker", -16.0), ("zh-baker", -23.0), ("en-joe", -16.0), ("en-joe", -23.0)])
def test_speech_reaches_target(speech, voice, target):
    waveform, sample_rate = speech[voice]
    normalized = normalize_loudness(waveform, sample_rate, target_lufs=target)
    assert normalized.dtype == np.float32
    assert normalized.shape == waveform.shape
    assert integrated_loudness(normalized, sample_rate) == pytest.approx(target, abs=0.5)
    assert float(np.max(np.abs(normalized))) <= 0.98 + 1e-6


def test_english_speech_reaches_minus_16_with_limiter(speech, caplog):
    # The joe voice's peaks lie about 22 dB above its loudness, so -16 LUFS would need
    # peaks near +6 dBFS: the limiter takes them down instead of clipping them.
    waveform, sample_rate = speech["en-joe"]
    crest_db = 20 * np.log10(float(np.max(np.abs(waveform)))) - integrated_loudness(waveform, sample_rate)
    assert crest_db > 16.0 + 20 * np.log10(0.98)
    with caplog.at_level(logging.WARNING, logger="voice.loudness"):
        normalized = normalize_loudness(waveform, sample_rate, target_lufs=-16.0)
    assert float(np.max(np.abs(normalized))) <= 0.98 + 1e-6
    assert integrated_loudness(normalized, sample_rate) == pytest.approx(-16.0, abs=0.5)
    assert "Loudness reached" not in caplog.text


def test_limiter_leaves_quiet_samples_alone():
    waveform = sine(200.0, 0.2, 1.0, 24000)
    waveform[12000:12010] = 1.5  # a burst far above the limit
    limited = limit_peaks(waveform.astype(np.float64), 24000, 0.98)
    assert float(np.max(np.abs(limited))) <= 0.98 + 1e-9
    # Samples more than two limiter windows away keep their value.
    np.testing.assert_allclose(limited[:11000], waveform[:11000], atol=1e-9)
    np.testing.assert_allclose(limited[13000:], waveform[13000:], atol=1e-9)


def test_limiter_disabled_holds_gain_back(speech, caplog):
    waveform, sample_rate = speech["en-joe"]
    with caplog.at_level(logging.WARNING, logger="voice.loudness"):
        normalized = normalize_loudness(waveform, sample_rate, target_lufs=-16.0, max_reduction_db=0.0)
    assert float(np.max(np.abs(normalized))) == pytest.approx(0.98, abs=1e-4)
    assert integrated_loudness(normalized, sample_rate) < -17.0
    assert "Loudness reached" in caplog.text


def test_quiet_input_with_click_held_back(caplog):
    # A click on a very quiet tone: reaching -10 LUFS would need the limiter to take the
    # click down by far more than its maximum, so the gain is held back.
    waveform = sine(1000.0, 0.01, 2.0, 24000)
    waveform[12000] = 0.5
    with caplog.at_level(logging.WARNING, logger="voice.loudness"):
        normalized = normalize_loudness(waveform, 24000, target_lufs=-10.0)
    assert float(np.max(np.abs(normalized))) <= 0.98 + 1e-6
    assert integrated_loudness(normalized, 24000) < -10.0 - 1.0
    assert "Loudness reached" in caplog.text


def test_silence_unchanged():
    silence = np.zeros(24000, np.float32)
    result = normalize_loudness(silence, 24000)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, silence)
    whisper = sine(1000.0, 1e-5, 1.0, 24000)
    np.testing.assert_array_equal(normalize_loudness(whisper, 24000), whisper)
    assert normalize_loudness(np.zeros(0, np.float32), 24000).shape == (0,)


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ((np.zeros((2, 100), np.float32), 24000), "invalid_waveform"),
        ((np.zeros(100, np.int16), 24000), "invalid_waveform"),
        ((np.zeros(100, np.float32), 0), "invalid_sample_rate"),
        ((np.zeros(100, np.float32), 24000, 3.0), "invalid_loudness_target"),
        ((np.zeros(100, np.float32), 24000, -16.0, 1.5), "invalid_loudness_target"),
    ],
)
def test_rejects_bad_input(arguments, key):
    with pytest.raises(AvatarError) as error:
        normalize_loudness(*arguments)
    assert error.value.key == key
