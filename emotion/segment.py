"""Split a plain-text script into sentences, read inline emotion tags, detect language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from emotion.types import EMOTIONS, Language

# Chinese aliases accepted in inline tags, so a Chinese script can write [开心] or [悲伤:0.8].
LABEL_ALIASES: dict[str, str] = {
    **{label: label for label in EMOTIONS},
    "joy": "happy", "sadness": "sad", "anger": "angry", "surprise": "surprised",
    "fear": "fearful", "disgust": "disgusted", "calm": "neutral",
    "中性": "neutral", "平静": "neutral", "开心": "happy", "高兴": "happy", "快乐": "happy",
    "悲伤": "sad", "难过": "sad", "伤心": "sad", "愤怒": "angry", "生气": "angry",
    "惊讶": "surprised", "吃惊": "surprised", "恐惧": "fearful", "害怕": "fearful", "厌恶": "disgusted",
}

# A sentence ends at Chinese 。！？；… or at English . ! ? ; followed by white space or the end,
# together with any closing quotes or brackets right after the mark.
_SENTENCE_END = re.compile(
    r"""(?:[。！？；]+|…+|\.{3,}|[.!?;]+(?=[\s"'”’)\]」』]|$))["'”’)\]」』]*""",
)
# Abbreviations whose final dot does not end a sentence.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "a.m", "p.m", "no", "jr", "sr", "inc", "ltd", "co",
                  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig", "approx"}
_TAG = re.compile(r"^\s*\[\s*([^\[\]:：]+?)\s*(?:[:：]\s*([^\[\]]*?)\s*)?\]\s*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# Any letter or digit of any script: the neural voices read Chinese and English, and the
# espeak-ng voices many other languages.
_SPEAKABLE = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class InlineTag:
    """An emotion tag written at the start of a sentence, such as `[sad:0.8]`."""

    emotion: str
    intensity: float | None


@dataclass(frozen=True)
class RawSentence:
    """One sentence before labelling.

    Attributes:
        text: the sentence with a recognised tag removed.
        paragraph: index of its blank-line paragraph.
        last_in_paragraph: whether a paragraph break follows it.
        tag: the recognised inline tag, if any.
        unknown_tag: a bracketed word at the start that is not an emotion label (kept in `text`).
        bad_intensity: an intensity string after a known label that is not a number in 0..1.
    """

    text: str
    paragraph: int
    last_in_paragraph: bool
    tag: InlineTag | None = None
    unknown_tag: str | None = None
    bad_intensity: str | None = None


def split_paragraphs(script: str) -> list[str]:
    """Split on blank lines; single line breaks inside a paragraph become spaces (or nothing between CJK)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", script.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        joined = lines[0]
        for line in lines[1:]:
            # No space between two CJK characters, as Chinese text has none.
            glue = "" if _CJK.match(joined[-1]) and _CJK.match(line[0]) else " "
            joined += glue + line
        paragraphs.append(joined)
    return paragraphs


def is_speakable(text: str) -> bool:
    """Return whether `text` has a letter or digit to speak (not only punctuation, emoji or space)."""
    return _SPEAKABLE.search(text) is not None


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences at Chinese and English end punctuation."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.end()
        if match.group().startswith(".") and len(match.group().rstrip("\"'”’)]」』")) == 1:
            word = re.search(r"([A-Za-z.]+)$", paragraph[start : match.start()])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
        piece = paragraph[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def parse_tag(sentence: str) -> tuple[str, InlineTag | None, str | None, str | None]:
    """Read a leading `[label]` or `[label:intensity]` tag.

    Returns the text without a recognised tag, the tag, an unknown bracketed word (left in the
    text), and an invalid intensity string (the label still applies, at its default intensity).
    """
    match = _TAG.match(sentence)
    if not match:
        return sentence, None, None, None
    word, value = match.group(1), match.group(2)
    label = LABEL_ALIASES.get(word.strip().lower())
    if label is None:
        return sentence, None, word, None
    text = sentence[match.end() :]
    if value is None or value == "":
        return text, InlineTag(label, None), None, None
    try:
        intensity = float(value)
    except ValueError:
        return text, InlineTag(label, None), None, value
    if not 0.0 <= intensity <= 1.0:
        return text, InlineTag(label, None), None, value
    return text, InlineTag(label, intensity), None, None


def read_sentences(script: str) -> list[RawSentence]:
    """Split a script into tagged sentences, dropping sentences with nothing to speak."""
    result: list[RawSentence] = []
    for paragraph_index, paragraph in enumerate(split_paragraphs(script)):
        pieces = [piece for piece in split_sentences(paragraph) if _SPEAKABLE.search(piece) or _TAG.match(piece)]
        for position, piece in enumerate(pieces):
            text, tag, unknown, bad = parse_tag(piece)
            if not _SPEAKABLE.search(text):
                continue
            result.append(
                RawSentence(
                    text=text.strip(),
                    paragraph=paragraph_index,
                    last_in_paragraph=position == len(pieces) - 1,
                    tag=tag,
                    unknown_tag=unknown,
                    bad_intensity=bad,
                )
            )
    return result


def detect_language(text: str) -> Language:
    """Return "zh" when Chinese characters outnumber English words, else "en".

    Each Chinese character and each English word counts as one spoken unit, which matches how
    long each takes to say better than counting raw characters.
    """
    chinese = len(_CJK.findall(text))
    english = len(_LATIN_WORD.findall(text))
    return "zh" if chinese >= english and chinese > 0 else "en"


# Writing systems that the Chinese and English voices cannot read, by the start of their
# Unicode character names, and the espeak-ng language code that reads them.
FOREIGN_SCRIPTS: dict[str, str] = {
    "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "ARABIC": "ar", "CYRILLIC": "ru",
    "GREEK": "el", "HEBREW": "he", "THAI": "th", "DEVANAGARI": "hi",
}  # fmt: skip


def foreign_script_language(text: str) -> str | None:
    """Return the espeak-ng language code of the first letter from a `FOREIGN_SCRIPTS` system, or None."""
    for character in text:
        if ord(character) < 0x370:  # ASCII and Latin letters: the common case, skipped quickly
            continue
        name = unicodedata.name(character, "")
        for script, language in FOREIGN_SCRIPTS.items():
            if name.startswith(script):
                return language
    return None


def has_language_evidence(text: str) -> bool:
    """Return whether `text` contains a Chinese character or an English word.

    A sentence of digits and symbols only ("2024!") belongs to no language by itself; the
    planner gives it the script's main language.
    """
    return bool(_CJK.search(text) or _LATIN_WORD.search(text))


def speech_units(text: str) -> int:
    """Count spoken units (Chinese characters plus English words) for weighting languages."""
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text))
