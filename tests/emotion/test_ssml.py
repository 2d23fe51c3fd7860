import math

import pytest

from avatar.errors import AvatarError
from emotion.ssml import Prosody, SsmlSentence, is_ssml, parse_ssml

MSTTS = 'xmlns:mstts="https://www.w3.org/2001/mstts"'


def speak(body: str) -> list[SsmlSentence]:
    return parse_ssml(f"<speak>{body}</speak>")


def texts(sentences: list[SsmlSentence]) -> list[str]:
    return [sentence.text for sentence in sentences]


def error_of(document: str) -> AvatarError:
    with pytest.raises(AvatarError) as caught:
        parse_ssml(document)
    assert caught.value.key == "ssml_invalid"
    return caught.value


# ---- detection and structure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<speak>Hi.</speak>", True),
        ('<speak version="1.1">Hi.</speak>', True),
        ("  \n\t<speak>\nHi.</speak>", True),
        ("\ufeff<speak>Hi.</speak>", True),
        ('\ufeff\n<?xml version="1.0"?><speak>Hi.</speak>', True),
        ("<speakers>Hi.</speakers>", False),
        ("Hello <speak> world", False),
        ("[happy] 今天天气很好。", False),
        ("", False),
    ],
)
def test_is_ssml(text, expected):
    assert is_ssml(text) is expected


def test_plain_text_is_split_into_sentences():
    sentences = speak("First one. Mr. Smith came! 然后他走了。")
    assert texts(sentences) == ["First one.", "Mr. Smith came!", "然后他走了。"]
    for sentence in sentences:
        assert sentence.spoken_text == sentence.text
        assert sentence.paragraph == 0
        assert sentence.emotion is None
        assert sentence.intensity is None
        assert sentence.prosody == Prosody()
        assert sentence.pause_after_ms is None


def test_s_element_is_one_sentence():
    sentences = speak("<s>One. Two. Three.</s><s>Four</s> Five. Six.")
    assert texts(sentences) == ["One. Two. Three.", "Four", "Five.", "Six."]


def test_paragraph_indices():
    document = "Intro. <p>First A. First B.</p> <p> </p> <p><s>Second</s></p> Tail one. Tail two."
    sentences = speak(document)
    assert texts(sentences) == ["Intro.", "First A.", "First B.", "Second", "Tail one.", "Tail two."]
    assert [sentence.paragraph for sentence in sentences] == [0, 1, 1, 2, 3, 3]


def test_text_around_empty_paragraph_is_two_paragraphs():
    sentences = speak("Before. <p/> After.")
    assert [sentence.paragraph for sentence in sentences] == [0, 1]


def test_paragraphs_without_outside_text_start_at_zero():
    sentences = speak("\n  <p>甲。</p>\n  <p>乙。</p>\n")
    assert [sentence.paragraph for sentence in sentences] == [0, 1]


def test_whitespace_is_normalised():
    sentences = speak("<p>\n   今天天气\n   很好，\n   我们出发。\n   It is\n   a   fine\tday.\n</p>")
    assert texts(sentences) == ["今天天气很好，我们出发。", "It is a fine day."]


def test_xml_declaration_bom_and_namespace():
    document = (
        '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
        '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
        '<p xml:lang="zh-CN">你好。</p></speak>'
    )
    assert texts(parse_ssml(document)) == ["你好。"]


def test_entities_and_cdata_are_text():
    assert texts(speak("Salt &amp; pepper &lt;3. <![CDATA[A < B.]]>")) == ["Salt & pepper <3.", "A < B."]


def test_document_without_speech_returns_empty_list():
    assert speak(" <p> ... </p> <break/> ") == []


# ---- prosody


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ('rate="x-slow"', Prosody(rate=0.7)),
        ('rate="slow"', Prosody(rate=0.85)),
        ('rate="medium"', Prosody(rate=1.0)),
        ('rate="fast"', Prosody(rate=1.2)),
        ('rate="x-fast"', Prosody(rate=1.4)),
        ('rate="80%"', Prosody(rate=0.8)),
        ('rate="+20%"', Prosody(rate=1.2)),
        ('rate="-25%"', Prosody(rate=0.75)),
        ('rate="1.5"', Prosody(rate=1.5)),
        ('pitch="x-low"', Prosody(pitch=0.8)),
        ('pitch="low"', Prosody(pitch=0.9)),
        ('pitch="high"', Prosody(pitch=1.1)),
        ('pitch="x-high"', Prosody(pitch=1.2)),
        ('pitch="+10%"', Prosody(pitch=1.1)),
        ('pitch="-10%"', Prosody(pitch=0.9)),
        ('pitch="+12st"', Prosody(pitch=2.0)),
        ('pitch="-12st"', Prosody(pitch=0.5)),
        ('volume="silent"', Prosody(volume_db=-60.0)),
        ('volume="x-soft"', Prosody(volume_db=-12.0)),
        ('volume="soft"', Prosody(volume_db=-6.0)),
        ('volume="medium"', Prosody(volume_db=0.0)),
        ('volume="loud"', Prosody(volume_db=4.0)),
        ('volume="x-loud"', Prosody(volume_db=8.0)),
        ('volume="+6dB"', Prosody(volume_db=6.0)),
        ('volume="-3.5dB"', Prosody(volume_db=-3.5)),
        ('rate="slow" pitch="+2st" volume="loud"', Prosody(rate=0.85, pitch=round(2 ** (2 / 12), 6), volume_db=4.0)),
    ],
)
def test_prosody_values(attribute, expected):
    sentences = speak(f"<prosody {attribute}>Hello there.</prosody>")
    assert len(sentences) == 1
    assert sentences[0].prosody == expected


def test_semitones_are_exponential():
    (sentence,) = speak('<prosody pitch="+2st">Hi.</prosody>')
    assert math.isclose(sentence.prosody.pitch, 2 ** (2 / 12), rel_tol=1e-6)


def test_nested_prosody_combines():
    document = (
        '<prosody rate="80%" pitch="high" volume="-3dB">Outer. '
        '<prosody rate="fast" pitch="+10%" volume="+6dB">Inner.</prosody> Outer again.</prosody> Plain.'
    )
    sentences = speak(document)
    assert texts(sentences) == ["Outer.", "Inner.", "Outer again.", "Plain."]
    assert sentences[0].prosody == Prosody(rate=0.8, pitch=1.1, volume_db=-3.0)
    assert sentences[1].prosody.rate == pytest.approx(0.96)
    assert sentences[1].prosody.pitch == pytest.approx(1.21)
    assert sentences[1].prosody.volume_db == pytest.approx(3.0)
    assert sentences[2].prosody == sentences[0].prosody
    assert sentences[3].prosody == Prosody()


def test_prosody_change_splits_sentence():
    sentences = speak('This is <prosody rate="slow">very slow</prosody> speech.')
    assert texts(sentences) == ["This is", "very slow", "speech."]
    assert [sentence.prosody.rate for sentence in sentences] == [1.0, 0.85, 1.0]


def test_prosody_change_splits_inside_s():
    sentences = speak('<s>这是<prosody volume="loud">重点</prosody>内容</s>')
    assert texts(sentences) == ["这是", "重点", "内容"]
    assert [sentence.prosody.volume_db for sentence in sentences] == [0.0, 4.0, 0.0]


def test_prosody_without_text_does_not_split():
    sentences = speak('Keep <prosody rate="fast"> </prosody>together. <prosody rate="medium">Same</prosody> style.')
    assert texts(sentences) == ["Keep together.", "Same style."]


def test_trailing_punctuation_joins_previous_sentence():
    sentences = speak('<prosody rate="fast">Wow</prosody>! That is big.')
    assert texts(sentences) == ["Wow!", "That is big."]
    assert sentences[0].prosody.rate == 1.2


# ---- emphasis


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("strong", Prosody(rate=0.9, pitch=1.05, volume_db=3.0)),
        ("moderate", Prosody(rate=0.95, pitch=1.03, volume_db=1.5)),
        ("none", Prosody()),
        ("reduced", Prosody(rate=1.05, pitch=1.0, volume_db=-2.0)),
    ],
)
def test_emphasis_levels(level, expected):
    (sentence,) = speak(f'<emphasis level="{level}">Really.</emphasis>')
    assert sentence.prosody == expected


def test_emphasis_default_is_moderate():
    (sentence,) = speak("<emphasis>Really.</emphasis>")
    assert sentence.prosody == Prosody(rate=0.95, pitch=1.03, volume_db=1.5)


def test_emphasis_combines_with_prosody_and_splits():
    sentences = speak('<prosody rate="fast" volume="+2dB">It is <emphasis level="strong">huge</emphasis> news.</prosody>')
    assert texts(sentences) == ["It is", "huge", "news."]
    assert sentences[1].prosody.rate == pytest.approx(1.08)
    assert sentences[1].prosody.pitch == pytest.approx(1.05)
    assert sentences[1].prosody.volume_db == pytest.approx(5.0)
    assert sentences[0].prosody == sentences[2].prosody == Prosody(rate=1.2, volume_db=2.0)


def test_silent_volume_stays_at_floor():
    (sentence,) = speak('<prosody volume="silent"><prosody volume="soft">Hush.</prosody></prosody>')
    assert sentence.prosody.volume_db == -60.0


def test_emphasis_none_does_not_split():
    assert texts(speak('One <emphasis level="none">plain</emphasis> sentence.')) == ["One plain sentence."]


# ---- breaks


@pytest.mark.parametrize(
    ("attributes", "pause"),
    [
        ('time="500ms"', 500),
        ('time="1.5s"', 1500),
        ('time="0ms"', 0),
        ('time="250.4ms"', 250),
        ('strength="none"', 0),
        ('strength="x-weak"', 100),
        ('strength="weak"', 250),
        ('strength="medium"', 400),
        ('strength="strong"', 700),
        ('strength="x-strong"', 1000),
        ("", 400),
        ('time="2s" strength="weak"', 2000),
    ],
)
def test_break_pause(attributes, pause):
    sentences = speak(f"First. <break {attributes}/> Second.")
    assert texts(sentences) == ["First.", "Second."]
    assert sentences[0].pause_after_ms == pause
    assert sentences[1].pause_after_ms is None


def test_consecutive_breaks_add_up():
    sentences = speak('<p>甲。</p><break time="300ms"/>\n<break strength="strong"/><p><break time="1s"/>乙。</p>')
    assert texts(sentences) == ["甲。", "乙。"]
    assert sentences[0].pause_after_ms == 2000


def test_break_splits_sentence_in_the_middle():
    sentences = speak('<s>Wait for it <break time="800ms"/> now.</s> After <break strength="weak"/>that.')
    assert texts(sentences) == ["Wait for it", "now.", "After", "that."]
    assert [sentence.pause_after_ms for sentence in sentences] == [800, None, 250, None]


def test_break_before_first_sentence_leads_it():
    sentences = speak('<break time="2s"/>Hello.')
    assert texts(sentences) == ["Hello."]
    assert sentences[0].pause_after_ms is None
    assert sentences[0].pause_before_ms == 2000


def test_break_keeps_punctuation_apart():
    # After a break, punctuation alone has no sentence to join and is dropped.
    assert texts(speak('Hello<break time="1s"/>. World.')) == ["Hello", "World."]


# ---- say-as


@pytest.mark.parametrize(
    ("body", "text", "spoken"),
    [
        ('Say <say-as interpret-as="characters">AI</say-as> now.', "Say AI now.", "Say A I now."),
        ('我们用<say-as interpret-as="characters">GPU</say-as>训练。', "我们用GPU训练。", "我们用G P U训练。"),
        ('Spell <say-as interpret-as="spell-out">NASA</say-as>.', "Spell NASA.", "Spell N A S A."),
        ('It costs <say-as interpret-as="cardinal">1,234,567</say-as> dollars.',
         "It costs 1,234,567 dollars.", "It costs 1,234,567 dollars."),
        ('温度是<say-as interpret-as="cardinal">-3.5</say-as>度。', "温度是-3.5度。", "温度是-3.5度。"),
        ('共有<say-as interpret-as="cardinal">12 000</say-as>人。', "共有12 000人。", "共有12,000人。"),
        ('She came <say-as interpret-as="ordinal">21</say-as> overall.', "She came 21 overall.",
         "She came 21st overall."),
        ('The <say-as interpret-as="ordinal">12</say-as> time.', "The 12 time.", "The 12th time."),
        ('The <say-as interpret-as="ordinal">102</say-as> floor.', "The 102 floor.", "The 102nd floor."),
        ('The <say-as interpret-as="ordinal">3rd</say-as> day.', "The 3rd day.", "The 3rd day."),
        ('他获得<say-as interpret-as="ordinal">21</say-as>名。', "他获得21名。", "他获得第21名。"),
        ('他获得第<say-as interpret-as="ordinal">3</say-as>名。', "他获得第3名。", "他获得第3名。"),
        ('今天是<say-as interpret-as="date">2024-03-05</say-as>。', "今天是2024-03-05。", "今天是2024年3月5日。"),
        ('Today is <say-as interpret-as="date">2024-03-05</say-as>.', "Today is 2024-03-05.",
         "Today is March 5, 2024."),
        ('Due <say-as interpret-as="date" format="mdy">12/31/2023</say-as>.', "Due 12/31/2023.",
         "Due December 31, 2023."),
        ('截止<say-as interpret-as="date" format="dmy">31.12.2023</say-as>。', "截止31.12.2023。",
         "截止2023年12月31日。"),
        ('Since <say-as interpret-as="date" format="ym">2020/02</say-as>.', "Since 2020/02.", "Since February 2020."),
        ('生日是<say-as interpret-as="date" format="md">02-29</say-as>。', "生日是02-29。", "生日是2月29日。"),
        ('On <say-as interpret-as="date" format="md">7-4</say-as> we rest.', "On 7-4 we rest.", "On July 4 we rest."),
        ('会议在<say-as interpret-as="time">09:30</say-as>开始。', "会议在09:30开始。", "会议在09:30开始。"),
        ('It starts at <say-as interpret-as="time">18:05:30</say-as>.', "It starts at 18:05:30.",
         "It starts at 18:05:30."),
        ('请拨打<say-as interpret-as="telephone">110</say-as>。', "请拨打110。", "请拨打1 1 0。"),
        ('Call <say-as interpret-as="telephone">+1 (555) 010-2000</say-as>.', "Call +1 (555) 010-2000.",
         "Call 1 5 5 5 0 1 0 2 0 0 0."),
    ],
)
def test_say_as(body, text, spoken):
    (sentence,) = speak(body)
    assert sentence.text == text
    assert sentence.spoken_text == spoken


def test_say_as_is_not_split_by_its_dots():
    sentences = speak('Grades <say-as interpret-as="characters">A. B.</say-as> passed. Others failed.')
    assert texts(sentences) == ["Grades A. B. passed.", "Others failed."]
    assert sentences[0].spoken_text == "Grades A . B . passed."


def test_say_as_whitespace_is_trimmed():
    (sentence,) = speak('Code <say-as interpret-as="characters">\n  A B\n </say-as> works.')
    assert sentence.text == "Code A B works."
    assert sentence.spoken_text == "Code A B works."


def test_several_say_as_in_one_sentence():
    (sentence,) = speak(
        '第<say-as interpret-as="ordinal">2</say-as>场在<say-as interpret-as="date">2025-01-02</say-as>，'
        '电话<say-as interpret-as="telephone">12-34</say-as>。'
    )
    assert sentence.text == "第2场在2025-01-02，电话12-34。"
    assert sentence.spoken_text == "第2场在2025年1月2日，电话1 2 3 4。"


# ---- express-as


@pytest.mark.parametrize(
    ("style", "emotion"),
    [
        ("cheerful", "happy"), ("excited", "happy"), ("friendly", "happy"), ("hopeful", "happy"), ("joyful", "happy"),
        ("sad", "sad"), ("depressed", "sad"), ("disappointed", "sad"), ("embarrassed", "sad"),
        ("angry", "angry"), ("unfriendly", "angry"), ("shouting", "angry"),
        ("terrified", "fearful"), ("fearful", "fearful"), ("scared", "fearful"),
        ("disgruntled", "disgusted"), ("disgusted", "disgusted"),
        ("surprised", "surprised"),
        ("calm", "neutral"), ("neutral", "neutral"), ("newscast", "neutral"), ("narration-professional", "neutral"),
        ("chat", "neutral"), ("customerservice", "neutral"), ("assistant", "neutral"),
        ("happy", "happy"), ("Cheerful", "happy"),
    ],
)
def test_express_as_style_mapping(style, emotion):
    (sentence,) = speak(f'<express-as style="{style}">Good morning.</express-as>')
    assert sentence.emotion == emotion
    assert sentence.intensity == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("degree", "intensity"),
    [("0.01", 0.007), ("0.5", 0.35), ("1", 0.7), ("1.2", 0.84), ("2", 1.0)],
)
def test_express_as_styledegree(degree, intensity):
    (sentence,) = speak(f'<express-as style="sad" styledegree="{degree}">唉。</express-as>')
    assert sentence.intensity == pytest.approx(intensity)


@pytest.mark.parametrize(
    "document",
    [
        f'<speak {MSTTS}><mstts:express-as style="angry">Stop!</mstts:express-as></speak>',
        '<speak><mstts:express-as style="angry">Stop!</mstts:express-as></speak>',
        '<speak xmlns="http://www.w3.org/2001/10/synthesis"><express-as style="angry">Stop!</express-as></speak>',
    ],
)
def test_express_as_prefix_forms(document):
    (sentence,) = parse_ssml(document)
    assert sentence.emotion == "angry"


def test_express_as_nesting_and_sentence_split():
    document = (
        '<express-as style="cheerful">好消息！<express-as style="sad" styledegree="0.5">但也有'
        "坏消息</express-as>，真的。</express-as>结束。"
    )
    sentences = speak(document)
    assert texts(sentences) == ["好消息！", "但也有坏消息，", "真的。", "结束。"]
    assert [sentence.emotion for sentence in sentences] == ["happy", "sad", "happy", None]
    assert [sentence.intensity for sentence in sentences] == [pytest.approx(0.7), pytest.approx(0.35),
                                                              pytest.approx(0.7), None]


# ---- errors


@pytest.mark.parametrize(
    ("document", "line", "column", "reason_part"),
    [
        # Malformed XML: expat's position of the mismatched end tag's name.
        ("<speak>\n<p>\n<s>Hello</p>\n</speak>", 3, 11, "malformed (mismatched tag)"),
        ("<speak>\n  <p>\n  <break time=500ms/></p></speak>", 3, 15, "malformed"),
        ("<speak>Unclosed", 1, 16, "malformed"),
        ("", 1, 1, "malformed"),
        ("<speak>Fish & chips</speak>", 1, 14, "&amp;"),
        ("<speak>&nbsp;</speak>", 1, 8, "undefined entity"),
        # Bad attribute values: the element's start.
        ('<speak>\n  <p>\n    <prosody rate="fastest">Hi.</prosody>\n  </p>\n</speak>', 3, 5, 'rate "fastest"'),
        ('<speak><prosody rate="0%">Hi.</prosody></speak>', 1, 8, "above zero"),
        ('<speak><prosody rate="+2st">Hi.</prosody></speak>', 1, 8, 'rate "+2st"'),
        ('<speak>\n<prosody pitch="200Hz">Hi.</prosody></speak>', 2, 1, "percentage or semitones"),
        ('<speak><prosody pitch="+20Hz">Hi.</prosody></speak>', 1, 8, "in Hz"),
        ('<speak><prosody pitch="110%">Hi.</prosody></speak>', 1, 8, "signed percentage"),
        ('<speak><prosody volume="50">Hi.</prosody></speak>', 1, 8, "decibels"),
        ('<speak><prosody rate="20%">Hi.</prosody></speak>', 1, 8, "outside the supported 0.25 to 4"),
        ('<speak><prosody rate="x-slow"><prosody rate="30%">Hi.</prosody></prosody></speak>', 1, 31,
         "0.21 times normal"),
        ('<speak><prosody pitch="+13st">Hi.</prosody></speak>', 1, 8, "one octave"),
        ('<speak><prosody volume="+15dB">' + "<emphasis>" * 4 + "Hi." + "</emphasis>" * 4 + "</prosody></speak>",
         1, 62, "+21 dB"),
        # The 29th nested reduced emphasis takes the rate past 4 (1.05 ** 29 = 4.12).
        ("<speak>" + '<emphasis level="reduced">' * 40 + "Hi." + "</emphasis>" * 40 + "</speak>", 1, 736,
         "4.1161"),
        ('<speak><prosody contour="(0%,+20Hz)">Hi.</prosody></speak>', 1, 8, "unsupported attribute contour"),
        ('<speak>Hi. <break time="-5ms"/></speak>', 1, 12, 'break time "-5ms"'),
        ('<speak>Hi. <break time="5"/></speak>', 1, 12, "milliseconds or seconds"),
        ('<speak>Hi. <break time="90s"/></speak>', 1, 12, "maximum"),
        ('<speak>Hi. <break strength="huge"/></speak>', 1, 12, "x-weak"),
        ("<speak>Hi. <break>now</break></speak>", 1, 12, "must be empty"),
        ('<speak><emphasis level="loud">Hi.</emphasis></speak>', 1, 8, "moderate"),
        ('<speak><express-as style="whispering">Hi.</express-as></speak>', 1, 8, "cheerful"),
        ('<speak><express-as styledegree="1">Hi.</express-as></speak>', 1, 8, "needs a style"),
        ('<speak><express-as style="sad" styledegree="3">Hi.</express-as></speak>', 1, 8, "from 0.01 to 2"),
        ('<speak><express-as style="sad" styledegree="much">Hi.</express-as></speak>', 1, 8, "styledegree"),
        # Unknown elements, wrong nesting and a wrong root.
        ('<speak>\n  <audio src="x.wav">Hi.</audio>\n</speak>', 2, 3, "<audio> is not supported"),
        ('<speak><other:express-as style="sad">Hi.</other:express-as></speak>', 1, 8, "not supported"),
        ("<speak><mstts:prosody>Hi.</mstts:prosody></speak>", 1, 8, "not supported"),
        ("<p>Hi.</p>", 1, 1, "root"),
        ("<speak><s>One <s>two</s></s></speak>", 1, 15, "<s> is inside another <s>"),
        ("<speak><p>One <p>two</p></p></speak>", 1, 15, "<p> is inside"),
        ("<speak><speak>Hi.</speak></speak>", 1, 8, "nested"),
        ('<speak><say-as interpret-as="characters"><emphasis>A</emphasis></say-as></speak>', 1, 42,
         "only text"),
        # say-as content and attributes: the say-as start.
        ('<speak>A <say-as interpret-as="cardinal">12a</say-as>.</speak>', 1, 10, 'cardinal "12a"'),
        ('<speak>A <say-as interpret-as="cardinal">1,23</say-as>.</speak>', 1, 10, "not a number"),
        ('<speak>A <say-as interpret-as="ordinal">-2</say-as>.</speak>', 1, 10, "whole number"),
        ('<speak>A <say-as interpret-as="date">2024-13-01</say-as>.</speak>', 1, 10, "month 13"),
        ('<speak>A <say-as interpret-as="date">2023-02-29</say-as>.</speak>', 1, 10, "28 days"),
        ('<speak>A <say-as interpret-as="date">24-03-05</say-as>.</speak>', 1, 10, "four digits"),
        ('<speak>A <say-as interpret-as="date" format="dmy">2024-03</say-as>.</speak>', 1, 10, "format dmy"),
        ('<speak>A <say-as interpret-as="date" format="ydm">2024-03-05</say-as>.</speak>', 1, 10, "ymd, mdy"),
        ('<speak>A <say-as interpret-as="time">25:00</say-as>.</speak>', 1, 10, "24-hour"),
        ('<speak>A <say-as interpret-as="time" format="hms24">10:00</say-as>.</speak>', 1, 10, "format"),
        ('<speak>A <say-as interpret-as="telephone">call-me</say-as>.</speak>', 1, 10, "phone number"),
        ('<speak>A <say-as interpret-as="currency">$5</say-as>.</speak>', 1, 10, "characters, spell-out"),
        ("<speak>A <say-as>5</say-as>.</speak>", 1, 10, "needs an interpret-as"),
        ('<speak>A <say-as interpret-as="cardinal"> </say-as>.</speak>', 1, 10, "empty"),
    ],
)
def test_invalid_ssml_position(document, line, column, reason_part):
    error = error_of(document)
    assert error.params["line"] == line
    assert error.params["column"] == column
    assert reason_part in error.params["reason"]


def test_doctype_is_rejected_at_its_start():
    document = '<?xml version="1.0"?>\n<!DOCTYPE speak [\n  <!ENTITY name "Ada">\n]>\n<speak>&name;</speak>'
    error = error_of(document)
    assert (error.params["line"], error.params["column"]) == (2, 1)
    assert "DOCTYPE" in error.params["reason"]


def test_entity_expansion_attack_is_rejected():
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">' for level in range(1, 10)
    ]
    document = "<!DOCTYPE speak [" + "".join(entities) + "]>\n<speak>&lol9;</speak>"
    error = error_of(document)
    assert (error.params["line"], error.params["column"]) == (1, 1)


def test_external_entity_is_rejected():
    document = '<!DOCTYPE speak SYSTEM "file:///etc/passwd">\n<speak>Hi.</speak>'
    error = error_of(document)
    assert (error.params["line"], error.params["column"]) == (1, 1)


def test_error_position_counts_whitespace_before_declaration():
    error = error_of('\n\n  <?xml version="1.0"?><speak><audio/></speak>')
    assert (error.params["line"], error.params["column"]) == (3, 31)


def test_error_message_in_both_languages():
    error = error_of('<speak>\n<prosody rate="fastest">Hi.</prosody></speak>')
    assert error.message("en").startswith("Invalid SSML at line 2, column 1: prosody rate \"fastest\" is invalid.")
    assert error.message("zh").startswith("SSML 第 2 行第 1 列有误：prosody rate \"fastest\" is invalid.")


# ---- a realistic script


def test_bilingual_news_script():
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" {MSTTS} xml:lang="zh-CN">
  <p>
    <mstts:express-as style="newscast">
      <s>各位观众晚上好，今天是<say-as interpret-as="date">2024-03-05</say-as>。</s>
      <s>欢迎收看晚间新闻。</s>
    </mstts:express-as>
    <break time="700ms"/>
  </p>
  <p>
    <mstts:express-as style="cheerful" styledegree="1.4">
      我国选手在决赛中获得<say-as interpret-as="ordinal">1</say-as>名，
      <emphasis level="strong">打破了世界纪录</emphasis>！
    </mstts:express-as>
  </p>
  <p xml:lang="en-US">
    <mstts:express-as style="sad">
      In other news, the storm left <say-as interpret-as="cardinal">12,000</say-as> homes without power.
      <prosody rate="slow" volume="-2dB">Our thoughts are with them.</prosody>
    </mstts:express-as>
    <break strength="strong"/>
    For help, call <say-as interpret-as="telephone">800-555-0199</say-as>.
  </p>
</speak>
"""
    sentences = parse_ssml(document)
    assert texts(sentences) == [
        "各位观众晚上好，今天是2024-03-05。",
        "欢迎收看晚间新闻。",
        "我国选手在决赛中获得1名，",
        "打破了世界纪录！",
        "In other news, the storm left 12,000 homes without power.",
        "Our thoughts are with them.",
        "For help, call 800-555-0199.",
    ]
    assert [sentence.spoken_text for sentence in sentences] == [
        "各位观众晚上好，今天是2024年3月5日。",
        "欢迎收看晚间新闻。",
        "我国选手在决赛中获得第1名，",
        "打破了世界纪录！",
        "In other news, the storm left 12,000 homes without power.",
        "Our thoughts are with them.",
        "For help, call 8 0 0 5 5 5 0 1 9 9.",
    ]
    assert [sentence.paragraph for sentence in sentences] == [0, 0, 1, 1, 2, 2, 2]
    assert [sentence.emotion for sentence in sentences] == [
        "neutral", "neutral", "happy", "happy", "sad", "sad", None,
    ]
    assert sentences[2].intensity == pytest.approx(0.98)
    assert sentences[3].prosody == Prosody(rate=0.9, pitch=1.05, volume_db=3.0)
    assert sentences[5].prosody == Prosody(rate=0.85, volume_db=-2.0)
    assert [sentence.pause_after_ms for sentence in sentences] == [None, 700, None, None, None, 700, None]


def test_azure_voice_wrapper_accepted():
    script = (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" '
        'xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="en-US">'
        '<voice name="en-US-JennyNeural"><mstts:express-as style="cheerful" role="YoungAdultFemale">'
        "That would be just amazing!</mstts:express-as></voice></speak>"
    )
    sentences = parse_ssml(script)
    assert [sentence.text for sentence in sentences] == ["That would be just amazing!"]
    assert sentences[0].emotion == "happy"


def test_voice_rejects_unknown_attribute():
    with pytest.raises(AvatarError) as error:
        parse_ssml('<speak><voice gender="female">Hi.</voice></speak>')
    assert error.value.params["line"] == 1
    assert "gender" in error.value.params["reason"]


def test_leading_break_becomes_pause_before():
    sentences = parse_ssml('<speak><break time="700ms"/><break strength="weak"/><s>Hello.</s><s>Bye.</s></speak>')
    assert [sentence.pause_before_ms for sentence in sentences] == [950, 0]
