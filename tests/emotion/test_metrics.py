"""Precision, recall, F1 and the confusion matrix against values worked out by hand."""

import pytest

from emotion.metrics import evaluate, format_report


def test_scores_match_hand_computation():
    gold = ["happy", "happy", "happy", "sad", "sad", "neutral"]
    predicted = ["happy", "happy", "sad", "sad", "neutral", "neutral"]
    report = evaluate(gold, predicted)
    scores = {score.label: score for score in report.classes}
    # happy: P 2/2, R 2/3; sad: P 1/2, R 1/2; neutral: P 1/2, R 1/1.
    assert scores["happy"].f1 == pytest.approx(0.8)
    assert scores["sad"].f1 == pytest.approx(0.5)
    assert scores["neutral"].f1 == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.confusion[1][1] == 2
    assert report.confusion[1][2] == 1


def test_macro_f1_counts_only_classes_present_in_gold():
    report = evaluate(["happy", "sad"], ["happy", "disgusted"])
    assert [score.label for score in report.classes] == ["happy", "sad"]
    assert report.macro_f1 == pytest.approx(0.5)


def test_report_text_and_errors():
    text = format_report(evaluate(["happy", "sad"], ["happy", "sad"]), "title")
    assert "macro-F1" in text
    assert "confusion" in text
    with pytest.raises(ValueError):
        evaluate([], [])
    with pytest.raises(ValueError):
        evaluate(["happy"], [])
