from pathlib import Path

import pytest

from avatar.errors import AvatarError
from emotion import EMOTIONS, parse_emotion, plan_script

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_inline_tag_overrides_lexicon():
    plan = plan_script("[sad:0.9] I am so happy today!")
    segment = plan.segments[0]
    assert segment.emotion == "sad"
    assert segment.intensity == 0.9
    assert segment.source == "override"
    assert segment.text == "I am so happy today!"
    assert segment.valence < 0


def test_unknown_tag_stays_with_warning():
    plan = plan_script("[Reuters] Markets fell sharply.")
    assert plan.segments[0].text.startswith("[Reuters]")
    assert [notice.key for notice in plan.warnings] == ["warn_unknown_tag"]
    assert "Reuters" in plan.warnings[0].message("en")
    assert "Reuters" in plan.warnings[0].message("zh")


def test_main_language_by_speech_units():
    plan = plan_script("今天我们讨论人工智能的发展。It matters.")
    assert plan.language == "zh"
    assert [s.language for s in plan.segments] == ["zh", "en"]
    assert plan_script("今天我们讨论 AI。", language="en").language == "en"


def test_other_language_sentences_get_notices():
    plan = plan_script("今天天气很好，我们去公园散步吧。Great idea.")
    assert plan.language == "zh"
    assert [notice.key for notice in plan.warnings] == ["warn_english_for_chinese_voice"]
    assert plan.warnings[0].params["index"] == 2


def test_neutral_tag_has_no_intensity():
    plan = plan_script("[neutral:0.9] The meeting starts at ten.")
    assert plan.segments[0].emotion == "neutral"
    assert plan.segments[0].intensity == 0.0


def test_pauses_follow_structure():
    plan = plan_script("一。二？\n\n三。")
    pauses = [s.pause_after_ms for s in plan.segments]
    assert pauses[1] > pauses[0]  # paragraph break after the second sentence
    assert all(p > 0 for p in pauses)


def test_global_emotion_applies_without_tags():
    plan = plan_script("One. [angry] Two.", emotion=("happy", 0.4))
    assert [(s.emotion, s.intensity) for s in plan.segments] == [("happy", 0.4), ("angry", 0.7)]


@pytest.mark.parametrize("script", ["", "   \n\n ", "😀🎉", "……！！"])
def test_empty_script_rejected(script):
    with pytest.raises(AvatarError) as error:
        plan_script(script)
    assert error.value.key == "script_empty"


def test_invalid_language_rejected():
    with pytest.raises(AvatarError) as error:
        plan_script("Hello.", language="fr")
    assert "fr" in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("happy", ("happy", 0.7)), ("sad:0.25", ("sad", 0.25)), ("悲伤:1", ("sad", 1.0))],
)
def test_parse_emotion(value, expected):
    assert parse_emotion(value) == expected


@pytest.mark.parametrize(("value", "key"), [("joyful", "invalid_emotion"), ("sad:1.5", "invalid_intensity"),
                                            ("sad:x", "invalid_intensity")])
def test_parse_emotion_rejects(value, key):
    with pytest.raises(AvatarError) as error:
        parse_emotion(value)
    assert error.value.key == key


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present")
def test_real_scripts_plan():
    for path in sorted((DATA / "scripts_en").glob("*.txt")):
        plan = plan_script(path.read_text(encoding="utf-8"))
        assert plan.language == "en", path.name
        assert all(s.emotion in EMOTIONS and 0.0 <= s.intensity <= 1.0 for s in plan.segments)
    rows = (DATA / "news_text" / "zh_news_scripts.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for row in rows:
        plan = plan_script(row.split("\t")[-1])
        assert plan.language == "zh"
        assert len(plan.segments) >= 2


def test_ssml_script_planned():
    script = (
        '<speak><p><s>Good evening.</s> <prosody rate="slow">This part is slow</prosody> and this is not.'
        '<break time="800ms"/></p><p><mstts:express-as style="sad" styledegree="1">We lost the cup.</mstts:express-as>'
        ' Call <say-as interpret-as="telephone">555-1234</say-as>.</p></speak>'
    )
    plan = plan_script(script)
    texts = [segment.text for segment in plan.segments]
    assert texts == ["Good evening.", "This part is slow", "and this is not.", "We lost the cup.", "Call 555-1234."]
    assert plan.segments[1].prosody.rate < 1.0
    assert plan.segments[1].pause_after_ms == 0  # split mid-sentence by the prosody change
    assert plan.segments[2].pause_after_ms == 800
    assert plan.segments[3].emotion == "sad"
    assert plan.segments[3].source == "override"
    assert plan.segments[4].spoken_text == "Call 5 5 5 1 2 3 4."
    assert [segment.paragraph for segment in plan.segments] == [0, 0, 0, 1, 1]


def test_invalid_ssml_reports_position():
    with pytest.raises(AvatarError) as error:
        plan_script('<speak>\n  <prosody rate="warp">Hi.</prosody>\n</speak>')
    assert error.value.key == "ssml_invalid"
    assert error.value.params["line"] == 2
    assert "第 2 行" in error.value.message("zh")


def test_digits_only_sentence_takes_main_language():
    plan = plan_script("今天的比分很接近。3:2！")
    assert [segment.language for segment in plan.segments] == ["zh", "zh"]
    assert plan.warnings == ()


def test_espeak_voice_gets_no_language_notices():
    plan = plan_script("今天天气很好，我们去公园散步吧。Great idea.", voice="espeak-de")
    assert plan.warnings == ()


def test_ssml_break_is_fixed_pause():
    plan = plan_script('<speak><s>Hello there.</s><break time="1s"/><s>Goodbye.</s></speak>')
    assert plan.segments[0].pause_after_ms == 1000
    assert plan.segments[0].pause_fixed
    assert not plan.segments[1].pause_fixed


def test_ssml_pieces_of_one_sentence_share_label():
    plan = plan_script('<speak><s>我今天<emphasis>非常</emphasis>高兴，真是太好了！</s></speak>')
    assert len(plan.segments) == 3
    assert {segment.emotion for segment in plan.segments} == {"happy"}
    assert len({segment.intensity for segment in plan.segments}) == 1
    assert [segment.pause_after_ms == 0 for segment in plan.segments] == [True, True, False]


def test_foreign_script_sentence_gets_notice():
    plan = plan_script("今天天气很好。こんにちは、世界。")
    keys = [notice.key for notice in plan.warnings]
    assert keys == ["warn_foreign_script"]
    assert plan.warnings[0].params == {"index": 2, "voice": "espeak-ja"}
    assert "espeak-ja" in plan.warnings[0].message("zh")


STORY = ("今天早上，我终于收到了梦寐以求的录取通知书，太开心了！全家人都为我高兴。"
         "可是下午传来消息，外婆住院了，我心里很难过。医生说情况不太乐观。"
         "晚上我们赶到医院，外婆却笑着说自己没事。听到这句话，我的眼泪一下子就流了下来。")


def test_presets_shape_the_same_script_differently():
    plans = {preset: plan_script(STORY, preset=preset) for preset in ("news", "vlog", "storytelling")}
    emotional = {preset: sum(s.emotion != "neutral" for s in plan.segments) for preset, plan in plans.items()}
    peak = {preset: max(s.intensity for s in plan.segments) for preset, plan in plans.items()}
    assert emotional["news"] < emotional["storytelling"]
    assert peak["news"] <= 0.5 < peak["storytelling"]
    assert all(plan.preset == preset for preset, plan in plans.items())
    assert plans["news"].ramp_ms > plans["vlog"].ramp_ms
    # The story turns from joy to sadness; storytelling shows both.
    labels = [s.emotion for s in plans["storytelling"].segments]
    assert labels[0] == "happy"
    assert "sad" in labels[2:]
    assert {s.source for s in plans["storytelling"].segments} <= {"classifier", "preset"}


def test_unknown_preset_is_rejected():
    with pytest.raises(AvatarError) as caught:
        plan_script("Hello.", preset="opera")
    assert caught.value.key == "invalid_preset"
    assert "news" in caught.value.message("zh")


def test_lexicon_labeller_is_still_available():
    plan = plan_script("我今天非常高兴！", labeller="lexicon", preset="storytelling")
    assert plan.segments[0].emotion == "happy"
    assert plan.segments[0].source == "lexicon"
