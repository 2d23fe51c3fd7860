import pytest

from emotion.segment import detect_language, parse_tag, read_sentences, split_paragraphs, split_sentences


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("今天天气很好。我们去公园吧！你去吗？", ["今天天气很好。", "我们去公园吧！", "你去吗？"]),
        ("He said “走吧。”然后离开了。", ["He said “走吧。”", "然后离开了。"]),
        ("Prices rose 3.5 percent. Mr. Smith disagreed!", ["Prices rose 3.5 percent.", "Mr. Smith disagreed!"]),
        ("Wait... what? Really!", ["Wait...", "what?", "Really!"]),
        ("没有结尾标点的一句", ["没有结尾标点的一句"]),
        ("第一句；第二句。", ["第一句；", "第二句。"]),
        ('She asked, "Why?" He shrugged.', ['She asked, "Why?"', "He shrugged."]),
    ],
)
def test_split_sentences(paragraph, expected):
    assert split_sentences(paragraph) == expected


def test_paragraphs_join_lines():
    script = "第一行\n第二行\n\n\nEnglish line\nnext line\n \n"
    assert split_paragraphs(script) == ["第一行第二行", "English line next line"]


@pytest.mark.parametrize(
    ("sentence", "emotion", "intensity", "unknown"),
    [
        ("[happy] Great news.", "happy", None, None),
        ("[sad:0.8] 很遗憾。", "sad", 0.8, None),
        ("[悲伤：0.3]今天下雨。", "sad", 0.3, None),
        ("[ANGRY] Stop it.", "angry", None, None),
        ("[Reuters] Markets fell.", None, None, "Reuters"),
        ("No tag here.", None, None, None),
    ],
)
def test_parse_tag(sentence, emotion, intensity, unknown):
    text, tag, unknown_word, _ = parse_tag(sentence)
    assert (tag.emotion if tag else None) == emotion
    assert (tag.intensity if tag else None) == intensity
    assert unknown_word == unknown
    if tag:
        assert "[" not in text
    else:
        assert text == sentence


def test_tag_with_bad_intensity_keeps_label():
    text, tag, _, bad = parse_tag("[sad:loud] Bad news.")
    assert tag is not None
    assert tag.emotion == "sad"
    assert tag.intensity is None
    assert bad == "loud"
    assert text == "Bad news."


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("今天天气很好。", "zh"),
        ("The weather is fine.", "en"),
        ("我们用 GDP 来衡量经济。", "zh"),
        ("I love 北京 very much.", "en"),
        ("2024!", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_sentences_without_speech_dropped():
    sentences = read_sentences("……\n\n😀😀\n\n真的。")
    assert [s.text for s in sentences] == ["真的。"]


def test_last_in_paragraph_marked():
    sentences = read_sentences("一。二。\n\n三。")
    assert [s.last_in_paragraph for s in sentences] == [False, True, True]
    assert [s.paragraph for s in sentences] == [0, 0, 1]


def test_month_abbreviation_does_not_end_sentence():
    assert split_sentences("It opens Mar. 5th. Come early.") == ["It opens Mar. 5th.", "Come early."]
