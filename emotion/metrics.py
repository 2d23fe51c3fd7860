"""Classification metrics: per-class precision, recall and F1, macro-F1, confusion matrix.

Macro-F1 averages over the classes present in the gold labels of the evaluation set, so the
Chinese corpora, which have no disgust class, are scored over six classes.
A predicted class that never occurs in the gold labels still costs precision elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emotion.types import EMOTIONS


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Scores of one classifier on one evaluation set.

    Attributes:
        classes: per-class scores for the labels present in the gold set, in `EMOTIONS` order.
        macro_f1: mean F1 over `classes`.
        accuracy: share of exact matches.
        confusion: rows gold, columns predicted, both over all of `EMOTIONS`.
    """

    classes: list[ClassScore]
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]

    def to_dict(self) -> dict:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "classes": {
                score.label: {
                    "precision": round(score.precision, 4),
                    "recall": round(score.recall, 4),
                    "f1": round(score.f1, 4),
                    "support": score.support,
                }
                for score in self.classes
            },
            "confusion": {"labels": list(EMOTIONS), "rows_gold_columns_predicted": self.confusion},
        }


def evaluate(gold: Sequence[str], predicted: Sequence[str]) -> Report:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to evaluate: the evaluation set is empty")
    index = {label: i for i, label in enumerate(EMOTIONS)}
    confusion = [[0] * len(EMOTIONS) for _ in EMOTIONS]
    for truth, guess in zip(gold, predicted, strict=True):
        confusion[index[truth]][index[guess]] += 1
    classes = []
    for label, i in index.items():
        support = sum(confusion[i])
        if support == 0:
            continue
        true_positive = confusion[i][i]
        predicted_count = sum(row[i] for row in confusion)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        classes.append(ClassScore(label, precision, recall, f1, support))
    macro_f1 = sum(score.f1 for score in classes) / len(classes)
    accuracy = sum(confusion[i][i] for i in range(len(EMOTIONS))) / len(gold)
    return Report(classes, macro_f1, accuracy, confusion)


def format_report(report: Report, title: str) -> str:
    """Format a plain-text table: per-class scores, then the confusion matrix."""
    lines = [title, f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for score in report.classes:
        lines.append(
            f"{score.label:<10} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>7.3f} {score.support:>8d}"
        )
    lines.append(f"{'macro-F1':<10} {'':>9} {'':>7} {report.macro_f1:>7.3f} {sum(s.support for s in report.classes):>8d}")
    lines.append(f"{'accuracy':<10} {'':>9} {'':>7} {report.accuracy:>7.3f}")
    lines.append("")
    lines.append("confusion (rows: gold, columns: predicted)")
    short = [label[:5] for label in EMOTIONS]
    lines.append(" " * 10 + "".join(f"{name:>7}" for name in short))
    for label, row in zip(EMOTIONS, report.confusion, strict=True):
        if sum(row) or any(r[EMOTIONS.index(label)] for r in report.confusion):
            lines.append(f"{label:<10}" + "".join(f"{count:>7d}" for count in row))
    return "\n".join(lines)
