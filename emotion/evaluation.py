"""Score the shipped classifier on labelled texts (`avatar eval-emotion`).

Accepted inputs:

- `dev:zh` or `dev:en`: the held-out dev split of the training corpora (`emotion.corpora`);
- JSON Lines with `text` and `label` fields;
- TSV or CSV with a header naming `text` and `label` columns.

Labels may use any alias the inline tags accept (happy, joy, 开心, fear, ...). A row with
several comma-separated labels is scored against the one with the highest arousal, as the
corpora are (`emotion.corpora.strongest`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from avatar.errors import AvatarError
from emotion.corpora import load, strongest
from emotion.metrics import Report, evaluate
from emotion.segment import LABEL_ALIASES, detect_language
from emotion.types import EMOTIONS, Language


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """Read (text, label) pairs from a JSON Lines, TSV or CSV file."""
    if path.is_dir():
        raise AvatarError("path_is_directory", path=str(path))
    if not path.is_file():
        raise AvatarError("file_not_found", path=str(path))
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AvatarError("labelled_file_bad", path=str(path), reason=str(error)) from None
    pairs = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise AvatarError("labelled_file_bad", path=str(path), reason=f"line {number}: {error.msg}") from None
            if not isinstance(row, dict):
                raise AvatarError("labelled_file_bad", path=str(path), reason=f"line {number}: not an object")
            pairs.append(_pair(row, path, number))
    else:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(raw.splitlines(), dialect=dialect)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            header = ", ".join(reader.fieldnames[:4]) if reader.fieldnames else "none"
            raise AvatarError("labelled_file_bad", path=str(path), reason=f"the header row ({header}) has no text and label columns")
        for number, row in enumerate(reader, 2):
            pairs.append(_pair(row, path, number))
    if not pairs:
        raise AvatarError("labelled_file_bad", path=str(path), reason="no rows")
    return pairs


def _pair(row: dict, path: Path, number: int) -> tuple[str, str]:
    text = str(row.get("text") or "").strip()
    names = [name.strip().lower() for name in str(row.get("label") or "").split(",") if name.strip()]
    labels = [LABEL_ALIASES.get(name) for name in names]
    if not text or not labels or None in labels:
        raise AvatarError("labelled_file_bad", path=str(path),
                          reason=f"line {number}: needs a text and a known label (one of {', '.join(EMOTIONS)}), "
                                 f"got {row.get('label')!r}")
    return text, strongest([label for label in labels if label is not None])


def evaluate_file(source: str, language: str = "auto") -> tuple[Report, int]:
    """Classify every text of `source` and score the predictions; returns the report and the row count."""
    from emotion.classifier import predict_by_language

    if source.startswith("dev:"):
        split_language = source[4:]
        if split_language not in ("zh", "en"):
            raise AvatarError("labelled_file_bad", path=source, reason="use dev:zh or dev:en")
        try:
            rows = load(split_language, "dev")  # type: ignore[arg-type]
        except FileNotFoundError as error:
            raise AvatarError("emotion_data_missing", path=str(error.filename)) from None
        pairs = [(row.text, row.primary) for row in rows]
        languages: list[Language] = [split_language] * len(pairs)  # type: ignore[list-item]
    else:
        pairs = read_labelled(Path(source))
        languages = [detect_language(text) if language == "auto" else language for text, _ in pairs]  # type: ignore[misc]
    predictions = predict_by_language([text for text, _ in pairs], languages)
    predicted = [prediction.label for prediction in predictions]
    return evaluate([label for _, label in pairs], predicted), len(pairs)
