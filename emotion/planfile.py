"""The emotion plan as an editable file: JSON, or the same table as CSV.

`avatar plan SCRIPT -o PLAN.json` (or `.csv`) writes one row per sentence. A user changes
`emotion` and `intensity` in any editor or spreadsheet, and `avatar render SCRIPT --plan PLAN`
uses those labels instead of the classifier's. Inline tags and SSML emotion in the script
still win. The sentence texts are kept in the file so that a plan made for another version of
the script is caught, with the first sentence that differs, instead of silently shifting labels.

JSON layout (CSV has the same columns as the sentence objects, one row each):

    {"format": "empathy-avatar emotion plan", "version": 1, "preset": "news", "language": "zh",
     "sentences": [{"index": 1, "text": "...", "language": "zh", "emotion": "happy",
                    "intensity": 0.6, "valence": 0.48, "source": "classifier"}, ...]}
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from avatar.errors import AvatarError
from avatar.fileio import write_text_atomic
from emotion.segment import LABEL_ALIASES
from emotion.types import EMOTIONS, EmotionPlan

PLAN_FORMAT = "empathy-avatar emotion plan"
PLAN_VERSION = 1
CSV_COLUMNS = ("index", "text", "language", "emotion", "intensity", "valence", "source")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class EditedPlan:
    """Labels read from a plan file, one per sentence, in order.

    Attributes:
        path: the file, for messages.
        texts: each sentence's text as the file has it.
        emotions: (label, intensity) per sentence.
        preset: the preset named in the file, if any.
    """

    path: Path
    texts: tuple[str, ...]
    emotions: tuple[tuple[str, float], ...]
    preset: str | None = None

    def check_matches(self, script_texts: list[str]) -> None:
        """Raise when the script's sentences are not the ones the plan was made for."""
        for index, (planned, actual) in enumerate(zip(self.texts, script_texts, strict=False)):
            if _SPACE.sub(" ", planned).strip() != _SPACE.sub(" ", actual).strip():
                raise AvatarError("plan_text_mismatch", path=str(self.path), index=index + 1,
                                  planned=_short(planned), actual=_short(actual))
        if len(self.texts) != len(script_texts):
            raise AvatarError("plan_length_mismatch", path=str(self.path), planned=len(self.texts),
                              actual=len(script_texts))


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plan_rows(plan: EmotionPlan) -> list[dict]:
    return [
        {
            "index": segment.index + 1,
            "text": segment.text,
            "language": segment.language,
            "emotion": segment.emotion,
            "intensity": round(segment.intensity, 3),
            "valence": round(segment.valence, 3),
            "source": segment.source,
        }
        for segment in plan.segments
    ]


def plan_to_json(plan: EmotionPlan) -> str:
    document = {"format": PLAN_FORMAT, "version": PLAN_VERSION, "preset": plan.preset, "language": plan.language,
                "sentences": plan_rows(plan)}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def plan_to_csv(plan: EmotionPlan) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(plan_rows(plan))
    return buffer.getvalue()


def write_plan(plan: EmotionPlan, path: Path) -> None:
    """Write the plan as CSV when `path` ends in .csv, else as JSON; atomically."""
    text = plan_to_csv(plan) if path.suffix.lower() == ".csv" else plan_to_json(plan)
    # A BOM lets spreadsheet programs open the CSV as UTF-8 (Chinese text stays readable).
    write_text_atomic(path, ("\ufeff" + text) if path.suffix.lower() == ".csv" else text)


def read_plan(path: Path) -> EditedPlan:
    """Read a JSON or CSV plan file; every problem names the file, the row and the fix."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AvatarError("plan_not_found", path=str(path)) from None
    except UnicodeDecodeError:
        raise AvatarError("plan_not_utf8", path=str(path)) from None
    except OSError as error:
        raise AvatarError("plan_unreadable", path=str(path), reason=str(error)) from None
    if path.suffix.lower() == ".csv":
        rows, preset = list(csv.DictReader(io.StringIO(raw))), None
        missing = {"text", "emotion"} - set(rows[0] if rows else {})
        if missing:
            raise AvatarError("plan_bad_row", path=str(path), row=1, reason=f"missing columns: {', '.join(sorted(missing))}")
    else:
        try:
            document = json.loads(raw)
        except json.JSONDecodeError as error:
            raise AvatarError("plan_unreadable", path=str(path), reason=f"line {error.lineno}: {error.msg}") from None
        if not isinstance(document, dict) or not isinstance(document.get("sentences"), list):
            raise AvatarError("plan_unreadable", path=str(path), reason="no \"sentences\" list")
        rows, preset = document["sentences"], document.get("preset")
    if not rows:
        raise AvatarError("plan_unreadable", path=str(path), reason="no sentences")
    texts, emotions = [], []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise AvatarError("plan_bad_row", path=str(path), row=number, reason="not an object")
        texts.append(str(row.get("text", "")))
        emotions.append(row_emotion(row, path, number))
    return EditedPlan(path, tuple(texts), tuple(emotions), preset if isinstance(preset, str) else None)


def row_emotion(row: dict, path: Path, number: int) -> tuple[str, float]:
    """Return (label, intensity) of one plan row; a blank intensity means 0.7 (0 for neutral).

    Raises:
        AvatarError: `plan_bad_emotion` or `plan_bad_intensity`, naming `path` and row `number`.
    """
    label = LABEL_ALIASES.get(str(row.get("emotion", "")).strip().lower())
    if label is None:
        raise AvatarError("plan_bad_emotion", path=str(path), row=number, value=str(row.get("emotion", "")),
                          choices=", ".join(EMOTIONS))
    value = row.get("intensity", "")
    if value in ("", None):
        return label, 0.0 if label == "neutral" else 0.7
    try:
        intensity = float(value)
    except (TypeError, ValueError):
        intensity = -1.0
    if not 0.0 <= intensity <= 1.0:
        raise AvatarError("plan_bad_intensity", path=str(path), row=number, value=str(value))
    return label, intensity
