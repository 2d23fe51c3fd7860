import pytest

from emotion.lexicon import label_sentence


@pytest.mark.parametrize(
    ("text", "language", "emotion"),
    [
        ("I am so happy and grateful today!", "en", "happy"),
        ("We are heartbroken by the loss of our friend.", "en", "sad"),
        ("I am furious about this decision.", "en", "angry"),
        ("People were terrified as the fire spread.", "en", "fearful"),
        ("That smell is disgusting.", "en", "disgusted"),
        ("Wow, I am shocked!", "en", "surprised"),
        ("The council meets on Tuesday at ten.", "en", "neutral"),
        ("今天我非常高兴！", "zh", "happy"),
        ("他突然去世，家人悲痛欲绝。", "zh", "sad"),
        ("这个消息让人非常愤怒。", "zh", "angry"),
        ("我很担心孩子的安全。", "zh", "fearful"),
        ("太恶心了，简直令人作呕。", "zh", "disgusted"),
        ("真没想到，他居然赢了！", "zh", "surprised"),
        ("会议于下午三点召开。", "zh", "neutral"),
    ],
)
def test_lexicon_labels(text, language, emotion):
    assert label_sentence(text, language).emotion == emotion


@pytest.mark.parametrize(
    ("plain", "negated", "language"),
    [("I am happy.", "I am not happy.", "en"), ("我很开心。", "我不开心。", "zh")],
)
def test_negation_flips_positive(plain, negated, language):
    assert label_sentence(plain, language).emotion == "happy"
    result = label_sentence(negated, language)
    assert result.emotion != "happy"
    assert result.scores["happy"] == 0.0
    assert result.scores["sad"] > 0.0


@pytest.mark.parametrize(
    ("weak", "strong", "language"),
    [("I am sad.", "I am extremely sad.", "en"), ("我难过。", "我非常难过。", "zh")],
)
def test_intensifier_raises_intensity(weak, strong, language):
    assert label_sentence(strong, language).intensity > label_sentence(weak, language).intensity


def test_exclamation_raises_intensity():
    calm = label_sentence("I am happy.", "en").intensity
    loud = label_sentence("I am happy!!!", "en").intensity
    assert loud > calm


def test_negation_stops_at_comma():
    assert label_sentence("Not today, but I am happy.", "en").emotion == "happy"
