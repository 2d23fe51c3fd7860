"""The emotion arc: context, threshold, hysteresis, minimum duration and preset ranges."""

import pytest

from emotion.arc import PRESETS, SentenceEvidence, smooth
from emotion.types import EMOTIONS


def evidence(label: str, confidence: float, intensity: float, paragraph: int = 0, units: int = 15,
             fixed: bool = False) -> SentenceEvidence:
    """Evidence whose probabilities put `confidence` on `label` and spread the rest evenly."""
    rest = (1.0 - confidence) / (len(EMOTIONS) - 1)
    probabilities = tuple(confidence if name == label else rest for name in EMOTIONS)
    return SentenceEvidence(probabilities, intensity, paragraph, units, "zh", fixed)


def labels(decisions) -> list[str]:
    return [decision.label for decision in decisions]


def test_weak_blip_does_not_flicker():
    calm = [evidence("neutral", 0.8, 0.0) for _ in range(5)]
    calm[2] = evidence("surprised", 0.45, 0.35, units=8)  # one short, mildly surprised sentence
    for name in ("news", "vlog"):
        decisions = smooth(calm, PRESETS[name])
        assert labels(decisions)[2] == PRESETS[name].baseline, name
        assert decisions[2].changed


def test_news_shows_only_strongly_charged_content():
    mild = [evidence("neutral", 0.8, 0.0), evidence("sad", 0.6, 0.5, units=40), evidence("neutral", 0.8, 0.0)]
    strong = [evidence("neutral", 0.8, 0.0), evidence("sad", 0.9, 0.9, units=40), evidence("neutral", 0.8, 0.0)]
    assert labels(smooth(mild, PRESETS["news"]))[1] == "neutral"
    assert labels(smooth(mild, PRESETS["storytelling"]))[1] == "sad"
    news = smooth(strong, PRESETS["news"])
    assert labels(news)[1] == "sad"
    assert news[1].intensity <= PRESETS["news"].max_intensity


def test_storytelling_wider_than_news():
    text = [evidence("angry", 0.9, 0.85, units=30) for _ in range(3)]
    story = smooth(text, PRESETS["storytelling"])
    news = smooth(text, PRESETS["news"])
    assert min(d.intensity for d in story) > max(d.intensity for d in news)


def test_hysteresis_keeps_running_label():
    story = [evidence("sad", 0.7, 0.7, units=30), evidence("sad", 0.7, 0.7, units=30)]
    # Third sentence: fearful only slightly ahead of sad.
    rest = [0.02] * len(EMOTIONS)
    rest[EMOTIONS.index("fearful")] = 0.46
    rest[EMOTIONS.index("sad")] = 0.44
    story.append(SentenceEvidence(tuple(rest), 0.6, 0, 30, "zh"))
    assert labels(smooth(story, PRESETS["vlog"])) == ["sad", "sad", "sad"]


def test_clear_mood_change_switches():
    story = [evidence("happy", 0.8, 0.7, units=30), evidence("happy", 0.8, 0.7, units=30),
             evidence("angry", 0.9, 0.8, units=30), evidence("angry", 0.9, 0.8, units=30)]
    for name in PRESETS:
        assert labels(smooth(story, PRESETS[name]))[2:] == ["angry", "angry"], name


def test_fixed_sentences_are_never_changed():
    story = [evidence("neutral", 0.8, 0.0), evidence("surprised", 1.0, 0.3, units=3, fixed=True),
             evidence("neutral", 0.8, 0.0)]
    decisions = smooth(story, PRESETS["news"])
    assert labels(decisions)[1] == "surprised"
    assert decisions[1].intensity == 0.3
    assert not decisions[1].changed


def test_context_does_not_cross_paragraphs():
    # A strongly sad paragraph followed by a borderline one: context from the previous
    # paragraph must not pull the borderline sentence to sad.
    story = [evidence("sad", 0.95, 0.9, paragraph=0, units=40), evidence("sad", 0.95, 0.9, paragraph=0, units=40)]
    rest = [0.05] * len(EMOTIONS)
    rest[EMOTIONS.index("neutral")] = 0.5
    rest[EMOTIONS.index("sad")] = 0.25
    story.append(SentenceEvidence(tuple(rest), 0.0, 1, 40, "zh"))
    assert labels(smooth(story, PRESETS["storytelling"]))[2] == "neutral"


def test_vlog_baseline_is_lightly_happy():
    decisions = smooth([evidence("neutral", 0.9, 0.0, units=40)], PRESETS["vlog"])
    assert labels(decisions) == ["happy"]
    assert decisions[0].intensity == pytest.approx(PRESETS["vlog"].baseline_intensity)


def test_empty_input():
    assert smooth([], PRESETS["news"]) == []


def test_vlog_smile_pauses_inside_a_sad_passage():
    passage = [evidence("sad", 0.9, 0.8, units=40), evidence("neutral", 0.5, 0.0, units=40),
               evidence("sad", 0.9, 0.8, units=40)]
    # The middle sentence's neutral probability wins, but its context is sad: no smile there.
    middle = {name: 0.02 for name in EMOTIONS}
    middle["neutral"], middle["sad"] = 0.5, 0.4
    passage[1] = SentenceEvidence(tuple(middle[name] for name in EMOTIONS), 0.0, 0, 40, "zh")
    decisions = smooth(passage, PRESETS["vlog"])
    assert labels(decisions)[1] == "neutral"
    assert decisions[1].intensity == 0.0


def test_vlog_shows_strong_joy_above_its_baseline():
    joyful = [evidence("happy", 0.95, 1.0, units=40), evidence("happy", 0.95, 1.0, units=40)]
    decisions = smooth(joyful, PRESETS["vlog"])
    assert labels(decisions) == ["happy", "happy"]
    assert min(d.intensity for d in decisions) == PRESETS["vlog"].max_intensity
