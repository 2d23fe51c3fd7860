import numpy as np
import pytest

from avatar.errors import AvatarError
from emotion.types import EmotionPlan
from tests.voice.conftest import make_segment
from voice import list_voices, synthesize
from voice.prosody import profile_for


def test_list_voices():
    voices = {voice.id: voice for voice in list_voices()}
    assert list(voices)[:2] == ["zh-baker", "en-joe"]
    assert {"espeak-en", "espeak-ja", "espeak-ko", "espeak-cmn"} <= set(voices)
    assert voices["espeak-ko"].language == "ko"
    assert voices["zh-baker"].sample_rate == 24000
    assert voices["en-joe"].language == "en"
    assert "non-commercial" in voices["zh-baker"].licence


def test_chinese_plan_spans_and_pauses():
    plan = EmotionPlan(
        (
            make_segment(0, "GDP增长了5.2%。", "zh", "happy", 0.6, pause_ms=400),
            make_segment(1, "!!!", "zh", "sad", 1.0, pause_ms=200),
            make_segment(2, "We use AI.", "en", "neutral", 0.0),
        ),
        "zh",
    )
    calls = []
    utterance = synthesize(plan, progress=lambda done, total: calls.append((done, total)))

    utterance.validate()
    assert utterance.voice == "zh-baker"
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert len(utterance.segment_spans) == 3
    for index, (start, end) in enumerate(utterance.segment_spans):
        inside = [p for p in utterance.phonemes if start <= p.start < end]
        assert inside and all(p.segment == index for p in inside)
    # The 400 ms pause after segment 0, scaled by happy's pause factor at intensity 0.6,
    # is one "sil" between its span and the next.
    first_end, second_start = utterance.segment_spans[0][1], utterance.segment_spans[1][0]
    scale = profile_for("happy", 0.6).pause_scale
    assert second_start - first_end == round(400 * scale * 24000 / 1000)
    pause = next(p for p in utterance.phonemes if p.start == first_end)
    assert (pause.symbol, pause.segment) == ("sil", 0)
    assert not np.any(utterance.waveform[first_end:second_start])
    # Nothing speakable: a short silence, not an error.
    silent = [p for p in utterance.phonemes if p.segment == 1]
    assert {p.symbol for p in silent} == {"sil"}
    # The English sentence is spelled by the Chinese voice, not dropped.
    assert len([p for p in utterance.phonemes if p.segment == 2 and p.symbol != "sil"]) > 10
    assert float(np.max(np.abs(utterance.waveform))) < 1.0


def test_english_plan_from_real_script(data_dir):
    paragraphs = (data_dir / "scripts_en" / "en01_city_news.txt").read_text(encoding="utf-8").split("\n\n")
    sentences = [paragraphs[0].strip(), paragraphs[1].split(". ")[1].strip()]
    plan = EmotionPlan(
        tuple(make_segment(i, text, "en", "neutral", 0.0, pause_ms=250) for i, text in enumerate(sentences)), "en"
    )
    first = synthesize(plan, seed=3)
    second = synthesize(plan, seed=3)
    first.validate()
    assert first.voice == "en-joe"
    assert first.sample_rate == 22050
    assert np.array_equal(first.waveform, second.waveform)
    # "$4.2 million" is read, so the sentence is long: over 2.5 s of speech.
    start, end = first.segment_spans[1]
    assert (end - start) / first.sample_rate > 2.5


def test_english_voice_skips_chinese(caplog):
    caplog.set_level("WARNING")
    plan = EmotionPlan((make_segment(0, "你好", "zh", "neutral", 0.0), make_segment(1, "Hello.", "en", "neutral", 0.0)), "en")
    utterance = synthesize(plan)
    utterance.validate()
    assert "skipped letters it cannot read" in caplog.text
    assert {p.symbol for p in utterance.phonemes if p.segment == 0} == {"sil"}


def test_unknown_voice_rejected():
    plan = EmotionPlan((make_segment(0, "你好", "zh", "neutral", 0.0),), "zh")
    with pytest.raises(AvatarError) as error:
        synthesize(plan, voice="zh-robot")
    assert error.value.key == "invalid_voice"
    assert "zh-baker" in str(error.value)


def test_failed_sentence_reported_rest_delivered():
    # 呣 has the pinyin "m2", which the Baker front end cannot split into initial and final.
    plan = EmotionPlan((make_segment(0, "好的。", "zh", "neutral", 0.0), make_segment(1, "呣。", "zh", "neutral", 0.0),
                        make_segment(2, "谢谢。", "zh", "neutral", 0.0)), "zh")
    utterance = synthesize(plan)
    utterance.validate()
    assert [index for index, _ in utterance.failures] == [1]
    assert "呣" in utterance.failures[0][1]
    first, _, last = utterance.segment_spans
    assert np.abs(utterance.waveform[first[0] : first[1]]).max() > 0.05
    assert np.abs(utterance.waveform[last[0] : last[1]]).max() > 0.05


def test_only_sentence_failing_raises():
    plan = EmotionPlan((make_segment(0, "呣。", "zh", "neutral", 0.0),), "zh")
    with pytest.raises(AvatarError) as error:
        synthesize(plan)
    assert error.value.key == "voice_failed"
    assert error.value.params["index"] == 1
    assert "呣" in error.value.params["text"]


def test_unreadable_character_skipped(caplog):
    caplog.set_level("WARNING", logger="voice.zhtts_engine")
    plan = EmotionPlan((make_segment(0, "呣，好的。", "zh", "neutral", 0.0),), "zh")
    utterance = synthesize(plan)
    utterance.validate()
    assert "呣" in caplog.text
    assert utterance.duration > 0.5


def test_espeak_voice_speaks_plan():
    plan = EmotionPlan((make_segment(0, "Guten Tag.", "en", "happy", 0.8), make_segment(1, "Wie geht es?", "en", "neutral", 0.0)),
                       "en")
    utterance = synthesize(plan, voice="espeak-de")
    utterance.validate()
    assert utterance.voice == "espeak-de"
    assert len(utterance.segment_spans) == 2


def test_voice_that_reads_nothing_rejected():
    plan = EmotionPlan((make_segment(0, "今天天气很好。", "zh", "neutral", 0.0),), "en")
    with pytest.raises(AvatarError) as error:
        synthesize(plan)
    assert error.value.key == "nothing_for_voice"
    assert error.value.params["voice"] == "en-joe"


def test_fixed_pause_not_scaled_by_emotion():
    from dataclasses import replace

    segment = replace(make_segment(0, "Good morning.", "en", "sad", 1.0, pause_ms=1000), pause_fixed=True)
    plan = EmotionPlan((segment, make_segment(1, "Thanks.", "en", "neutral", 0.0)), "en")
    utterance = synthesize(plan)
    gap = utterance.segment_spans[1][0] - utterance.segment_spans[0][1]
    assert gap == 22050


def test_other_script_suggests_espeak_voice():
    plan = EmotionPlan((make_segment(0, "안녕하세요.", "zh", "neutral", 0.0),), "zh")
    with pytest.raises(AvatarError) as error:
        synthesize(plan)
    assert error.value.params["suggestion"] == "espeak-ko"


def test_pause_before_first_sentence():
    from dataclasses import replace

    segment = replace(make_segment(0, "Hello there.", "en", "neutral", 0.0, pause_ms=300), pause_before_ms=500)
    utterance = synthesize(EmotionPlan((segment,), "en"))
    utterance.validate()
    assert utterance.segment_spans[0][0] == 500 * 22050 // 1000
    assert utterance.phonemes[0].symbol == "sil"
    assert not np.any(utterance.waveform[: utterance.segment_spans[0][0]])
