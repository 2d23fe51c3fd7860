"""Sentiment report over a script or a file of texts (`avatar analyze`).

The input is read line by line and classified in chunks of `CHUNK_LINES`, so a file of 100k
lines streams in bounded memory. Two units:

- "line": one result per non-empty input line (a post, a comment, a headline), as `--json` prints;
- "sentence": each line split into sentences, as a script is planned.

Each result carries its language, label, intensity, valence and source ("classifier", or
"override" when a line starts with an inline tag such as `[sad]`). `Distribution` sums them up.
The raw classifier output is reported here, without a style preset's arc: it describes the text,
not how a presenter would perform it (`avatar plan` shows that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from avatar.errors import AvatarError
from emotion.planner import DEFAULT_OVERRIDE_INTENSITY
from emotion.segment import detect_language, is_speakable, parse_tag, split_sentences
from emotion.ssml import is_ssml
from emotion.types import EMOTIONS, VALENCE_AROUSAL, Language

Unit = Literal["line", "sentence"]
# Lines classified per call: large enough for the classifier to batch texts of similar length.
CHUNK_LINES = 2048


@dataclass(frozen=True)
class AnalysisRow:
    """One analysed text.

    Attributes:
        line: input line number, from 1.
        text: the line or sentence.
        language: "zh" or "en".
        label: a label in `EMOTIONS`.
        intensity: 0..1.
        valence: -1..1, scaled by intensity.
        source: "classifier" or "override" (an inline tag).
        probabilities: per label in `EMOTIONS`; one-hot for an override.
    """

    line: int
    text: str
    language: Language
    label: str
    intensity: float
    valence: float
    source: str
    probabilities: tuple[float, ...]

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "text": self.text,
            "language": self.language,
            "label": self.label,
            "intensity": self.intensity,
            "valence": self.valence,
            "source": self.source,
            "probabilities": dict(zip(EMOTIONS, self.probabilities, strict=True)),
        }


@dataclass
class Distribution:
    """Counts per label, overall and per language, with mean intensity and valence."""

    counts: Counter = field(default_factory=Counter)
    by_language: dict[str, Counter] = field(default_factory=dict)
    intensity_sum: Counter = field(default_factory=Counter)
    valence_sum: float = 0.0

    def add(self, row: AnalysisRow) -> None:
        self.counts[row.label] += 1
        self.by_language.setdefault(row.language, Counter())[row.label] += 1
        self.intensity_sum[row.label] += row.intensity
        self.valence_sum += row.valence

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(label, count, share, mean intensity) for every label, in `EMOTIONS` order."""
        total = self.total or 1
        return [(label, self.counts[label], self.counts[label] / total,
                 self.intensity_sum[label] / self.counts[label] if self.counts[label] else 0.0)
                for label in EMOTIONS]

    @property
    def mean_valence(self) -> float:
        return self.valence_sum / self.total if self.total else 0.0


def _texts(lines: Iterable[str], unit: Unit, skipped: list[int]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if number == 1 and is_ssml(line):
            raise AvatarError("analyze_ssml")
        if not is_speakable(line):
            if line:
                skipped.append(number)  # emoji or punctuation only: nothing a classifier can read
            continue
        if unit == "line":
            yield number, line
        else:
            for sentence in split_sentences(line):
                if is_speakable(sentence):
                    yield number, sentence


def analyze(lines: Iterable[str], unit: Unit = "line", language: str = "auto",
            chunk_lines: int = CHUNK_LINES, skipped: list[int] | None = None) -> Iterator[AnalysisRow]:
    """Classify each line (or sentence) of `lines`, in input order, a chunk at a time.

    Args:
        lines: the input, one text per item (a file object streams).
        unit: "line" or "sentence".
        language: "auto" detects each text's language; "zh" or "en" forces it.
        skipped: receives the numbers of non-empty lines with nothing to classify (emoji only).

    Raises:
        AvatarError: the input is SSML, which `avatar plan` reads instead.
    """
    from emotion.classifier import predict_by_language

    chunk: list[tuple[int, str]] = []

    def flush() -> Iterator[AnalysisRow]:
        prepared = []
        for number, raw in chunk:
            text, tag, _, _ = parse_tag(raw)
            lang: Language = detect_language(text) if language == "auto" else language  # type: ignore[assignment]
            prepared.append((number, text.strip(), lang, tag))
        results: dict[int, AnalysisRow] = {}
        positions = [i for i, item in enumerate(prepared) if item[3] is None]
        predictions = predict_by_language([prepared[i][1] for i in positions], [prepared[i][2] for i in positions])
        for i, prediction in zip(positions, predictions, strict=True):
            number, text, lang, _ = prepared[i]
            results[i] = AnalysisRow(number, text, lang, prediction.label, prediction.intensity,
                                     _valence(prediction.label, prediction.intensity), "classifier",
                                     prediction.probabilities)
        for i, (number, text, lang, tag) in enumerate(prepared):
            if tag is not None:
                intensity = tag.intensity if tag.intensity is not None else DEFAULT_OVERRIDE_INTENSITY
                if tag.emotion == "neutral":
                    intensity = 0.0
                results[i] = AnalysisRow(number, text, lang, tag.emotion, intensity,
                                         _valence(tag.emotion, intensity), "override",
                                         tuple(float(label == tag.emotion) for label in EMOTIONS))
        yield from (results[i] for i in range(len(prepared)))

    for item in _texts(lines, unit, skipped if skipped is not None else []):
        chunk.append(item)
        if len(chunk) >= chunk_lines:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def _valence(label: str, intensity: float) -> float:
    return round(VALENCE_AROUSAL[label][0] * intensity, 3)
