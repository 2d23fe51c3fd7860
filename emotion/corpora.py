"""Labelled emotion corpora, mapped into the one label space `EMOTIONS`.

Sources (all in `../shared/data/emotion_text`, read in place):

- SMP2020-EWECT Weibo (zh): one label per post; fear -> fearful, surprise -> surprised,
  neural/neutral -> neutral. It has no disgust class.
- NLPCC 2018 code-switched Weibo (zh with English words): five True/False emotion flags; no flag
  -> neutral. The text comes word-segmented with spaces, which real input never has, so the
  spaces between CJK characters are removed.
- GoEmotions mapped to Ekman's six + neutral (en): comma-separated label ids.

Multi-label rows keep every label for training (`labels`) and one for evaluation (`primary`):
the label with the highest arousal in `VALENCE_AROUSAL`, because the stronger emotion is the one
a presenter would show. Only angry and surprised share an arousal value, and `strongest` breaks
that tie by valence (the negative one wins).

The Chinese corpora come as one file each, so a dev split is held out here: a row goes to dev
when a hash of its source and id falls in the lowest `DEV_PERCENT` percent. That keeps the split
the same on every machine and across retraining. English uses the GoEmotions dev file.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emotion.types import EMOTIONS, VALENCE_AROUSAL, Language

Split = Literal["train", "dev"]

DEV_PERCENT = 15

SMP2020_FILE = "zh_smp2020_weibo_emotion_train.jsonl"
NLPCC_FILE = "zh_en_nlpcc2018_codeswitch_emotion_train.xml"
GOEMOTIONS_FILES = {"train": "en_goemotions_ekman_train.tsv", "dev": "en_goemotions_ekman_dev.tsv"}
GOEMOTIONS_LABELS = "en_goemotions_ekman_labels.txt"

SMP2020_LABELS = {
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fear": "fearful",
    "surprise": "surprised",
    "neural": "neutral",  # the SMP2020 release spells it so
    "neutral": "neutral",
}
NLPCC_LABELS = {
    "Happiness": "happy",
    "Sadness": "sad",
    "Anger": "angry",
    "Fear": "fearful",
    "Surprise": "surprised",
}
GOEMOTIONS_EKMAN = {
    "anger": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "joy": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprise": "surprised",
}

_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A space with a CJK character or full-width punctuation on at least one side is a segmenter's.
_SEGMENTER_SPACE = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
# The NLPCC file looks like XML but is not well-formed (bare "<" and "&" in the text), so
# its fixed layout is read with patterns. The segmenter also split entities: "& # 039 ;".
_NLPCC_TWEET = re.compile(r'<Tweet id="([^"]*)">(.*?)</Tweet>', re.DOTALL)
_NLPCC_CONTENT = re.compile(r"<Content>(.*?)</Content>", re.DOTALL)
_SPLIT_NUMERIC_ENTITY = re.compile(r"&\s*#\s*(\d+)\s*;?")
_SPLIT_NAMED_ENTITY = re.compile(r"&\s*([a-z]+)\s*;")


@dataclass(frozen=True)
class LabelledText:
    """One labelled text.

    Attributes:
        text: the text as a user would type it.
        labels: every label the annotators gave, in `EMOTIONS` order.
        primary: the one label used for evaluation (see the module docstring).
        source: corpus name ("smp2020", "nlpcc2018" or "goemotions").
        key: the row's id within its source.
    """

    text: str
    labels: tuple[str, ...]
    primary: str
    source: str
    key: str


def data_root() -> Path:
    """Return the emotion_text folder: $AVATAR_EMOTION_DATA, or ../shared/data/emotion_text."""
    configured = os.environ.get("AVATAR_EMOTION_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emotion_text"


def strongest(labels: list[str] | tuple[str, ...]) -> str:
    """Return the label with the highest arousal; negative valence breaks a tie."""
    return max(labels, key=lambda label: (VALENCE_AROUSAL[label][1], -VALENCE_AROUSAL[label][0]))


def _labelled(text: str, labels: set[str], source: str, key: str) -> LabelledText:
    ordered = tuple(label for label in EMOTIONS if label in labels)
    return LabelledText(text=text, labels=ordered, primary=strongest(ordered), source=source, key=key)


def in_dev(source: str, key: str) -> bool:
    """Return whether a row of a single-file corpus belongs to the held-out dev split."""
    digest = hashlib.sha256(f"{source}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < DEV_PERCENT


def read_smp2020(path: Path) -> Iterator[LabelledText]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            label = SMP2020_LABELS.get(row["label"])
            if label is None:
                raise ValueError(f"{path}:{line_number}: unknown label {row['label']!r}")
            text = row["text"].strip()
            if text:
                yield _labelled(text, {label}, "smp2020", str(row["id"]))


def join_segmented(text: str) -> str:
    """Undo word segmentation: drop spaces next to CJK characters, keep those between Latin words."""
    return _SEGMENTER_SPACE.sub("", " ".join(text.split()))


def read_nlpcc(path: Path) -> Iterator[LabelledText]:
    for match in _NLPCC_TWEET.finditer(path.read_text(encoding="utf-8")):
        key, body = match.groups()
        flags = {label for name, label in NLPCC_LABELS.items() if re.search(rf"<{name}>\s*T\s*</{name}>", body)}
        content = _NLPCC_CONTENT.search(body)
        raw = content.group(1) if content else ""
        raw = _SPLIT_NUMERIC_ENTITY.sub(lambda entity: f"&#{entity.group(1)};", raw)
        raw = _SPLIT_NAMED_ENTITY.sub(lambda entity: f"&{entity.group(1)};", raw)
        text = join_segmented(html.unescape(raw))
        if text:
            yield _labelled(text, flags or {"neutral"}, "nlpcc2018", key)


def read_goemotions(path: Path, names: list[str]) -> Iterator[LabelledText]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            text, ids, key = parts[0].strip(), parts[1], parts[2]
            try:
                labels = {GOEMOTIONS_EKMAN[names[int(i)]] for i in ids.split(",")}
            except (ValueError, IndexError, KeyError) as error:
                raise ValueError(f"{path}:{line_number}: bad label ids {ids!r}") from error
            if text:
                yield _labelled(text, labels, "goemotions", key)


def load(language: Language, split: Split, root: Path | None = None) -> list[LabelledText]:
    """Read all labelled texts of one language and split."""
    root = root or data_root()
    if language == "zh":
        rows = [*read_smp2020(root / SMP2020_FILE), *read_nlpcc(root / NLPCC_FILE)]
        return [row for row in rows if in_dev(row.source, row.key) == (split == "dev")]
    names = (root / GOEMOTIONS_LABELS).read_text(encoding="utf-8").split()
    return list(read_goemotions(root / GOEMOTIONS_FILES[split], names))
