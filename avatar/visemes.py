"""Mouth-shape targets (visemes) for the phoneme symbols the voices produce.

Two voices feed this table. The English piper voice writes espeak-ng IPA one
character at a time, with stress marks ("ˈ", "ˌ") joined to the next phoneme
and the length mark "ː" to the previous one. The Chinese voice writes pinyin
initials ("zh", "b") and finals with a tone digit ("ong1", "ian2", "v3" for ü,
"ii"/"iii" for the apical vowels after z c s / zh ch sh r). Both use "sil"
for pauses. Each symbol maps to one or more `VisemeTarget`s that share its
time span; Chinese finals and English diphthongs are sequences.

The target values are hand-set from phonetics (jaw height and lip rounding of
each vowel), not fitted to data.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisemeTarget:
    """The mouth shape a phoneme aims at, with its strength in coarticulation.

    Attributes:
        opening: inner-lip opening, 0 (lips together) .. 1 (widest vowel).
        width: lip width, -1 (fully rounded, narrowest) .. 0 (rest) .. 1 (fully spread).
        opening_dominance: strength with which the phoneme keeps its opening
            against its neighbours. Bilabial closures and pauses are strongest.
        width_dominance: the same for width; rounded glides are strong, most
            consonants weak so that a vowel's rounding spreads over them.
    """

    opening: float
    width: float
    opening_dominance: float
    width_dominance: float
    vowel: bool = False


def _vowel(opening: float, width: float) -> VisemeTarget:
    return VisemeTarget(opening, width, 1.0, 1.0, vowel=True)


def _consonant(opening: float, width: float, opening_dominance: float, width_dominance: float) -> VisemeTarget:
    return VisemeTarget(opening, width, opening_dominance, width_dominance)


SILENCE = VisemeTarget(0.0, 0.0, 3.0, 1.0)
# Symbols never seen before: a relaxed half-open mouth that yields to its neighbours.
UNKNOWN = VisemeTarget(0.3, 0.0, 0.3, 0.3)

# Single sounds, keyed by the normalised symbol (see `normalize_symbol`).
SOUNDS: dict[str, VisemeTarget] = {
    # Spread and front vowels.
    "i": _vowel(0.25, 0.8),
    "ɪ": _vowel(0.30, 0.55),
    "e": _vowel(0.45, 0.6),
    "ɛ": _vowel(0.55, 0.45),
    "æ": _vowel(0.75, 0.45),
    "ᵻ": _vowel(0.30, 0.35),
    "ɨ": _vowel(0.22, 0.35),  # Chinese apical vowel after z c s
    # Open and central vowels.
    "a": _vowel(0.90, 0.2),
    "ɑ": _vowel(0.95, 0.0),
    "ɐ": _vowel(0.60, 0.05),
    "ʌ": _vowel(0.65, 0.05),
    "ə": _vowel(0.40, 0.0),
    "ɜ": _vowel(0.45, -0.1),
    "ɤ": _vowel(0.45, 0.0),  # Chinese "e"
    "ʅ": _vowel(0.22, -0.2),  # Chinese apical vowel after zh ch sh r
    "ɚ": _vowel(0.35, -0.3),
    "ɝ": _vowel(0.35, -0.3),
    # Rounded vowels: narrower than every spread vowel.
    "ɒ": _vowel(0.80, -0.35),
    "ɔ": _vowel(0.70, -0.6),
    "o": _vowel(0.55, -0.8),
    "ʊ": _vowel(0.35, -0.75),
    "u": _vowel(0.30, -1.0),
    "y": _vowel(0.22, -0.9),  # Chinese ü
    "ɥ": _consonant(0.15, -0.85, 1.0, 1.5),  # Chinese ü as a glide
    # Bilabials close the lips whatever their neighbours do.
    "p": _consonant(0.0, 0.0, 8.0, 0.3),
    "b": _consonant(0.0, 0.0, 8.0, 0.3),
    "m": _consonant(0.0, 0.0, 8.0, 0.3),
    # Labiodentals rest the lower lip on the upper teeth.
    "f": _consonant(0.06, 0.0, 3.0, 0.3),
    "v": _consonant(0.06, 0.0, 3.0, 0.3),
    # Dentals and alveolars: small opening, shape mostly from the vowel.
    "θ": _consonant(0.18, 0.1, 1.0, 0.3),
    "ð": _consonant(0.18, 0.1, 1.0, 0.3),
    "t": _consonant(0.15, 0.1, 0.7, 0.2),
    "d": _consonant(0.15, 0.1, 0.7, 0.2),
    "n": _consonant(0.15, 0.1, 0.6, 0.2),
    "l": _consonant(0.25, 0.1, 0.5, 0.2),
    "ɾ": _consonant(0.20, 0.1, 0.4, 0.2),
    "s": _consonant(0.12, 0.3, 0.8, 0.4),
    "z": _consonant(0.12, 0.3, 0.8, 0.4),
    "c": _consonant(0.12, 0.3, 0.8, 0.4),  # pinyin c [tsʰ]
    # Postalveolars and retroflexes protrude and round the lips.
    "ʃ": _consonant(0.15, -0.5, 0.8, 0.9),
    "ʒ": _consonant(0.15, -0.5, 0.8, 0.9),
    "zh": _consonant(0.15, -0.35, 0.8, 0.7),
    "ch": _consonant(0.15, -0.35, 0.8, 0.7),
    "sh": _consonant(0.15, -0.35, 0.8, 0.7),
    "ɹ": _consonant(0.25, -0.45, 0.6, 0.7),
    "r": _consonant(0.22, -0.4, 0.6, 0.7),
    # Palatals spread the lips.
    "j": _consonant(0.18, 0.5, 0.6, 0.6),
    "q": _consonant(0.15, 0.5, 0.7, 0.6),
    "x": _consonant(0.15, 0.5, 0.7, 0.6),  # pinyin x [ɕ]; espeak-ng en-us does not emit IPA x
    "ç": _consonant(0.20, 0.4, 0.6, 0.5),
    # Velars and glottals take the shape of the vowel around them.
    "k": _consonant(0.30, 0.0, 0.4, 0.2),
    "g": _consonant(0.30, 0.0, 0.4, 0.2),
    "ɡ": _consonant(0.30, 0.0, 0.4, 0.2),
    "ŋ": _consonant(0.25, 0.0, 0.4, 0.2),
    "h": _consonant(0.40, 0.0, 0.1, 0.05),
    "ʔ": _consonant(0.10, 0.0, 0.5, 0.2),
    # Rounded glides.
    "w": _consonant(0.12, -0.9, 1.2, 1.5),
    "ʍ": _consonant(0.12, -0.9, 1.2, 1.5),
}

# Multi-character IPA that espeak-ng may write as one token.
COMPOUNDS: dict[str, tuple[tuple[str, float], ...]] = {
    "tʃ": (("t", 0.3), ("ʃ", 0.7)),
    "dʒ": (("d", 0.3), ("ʒ", 0.7)),
    "aɪ": (("a", 0.6), ("ɪ", 0.4)),
    "aʊ": (("a", 0.55), ("ʊ", 0.45)),
    "eɪ": (("e", 0.6), ("ɪ", 0.4)),
    "oʊ": (("o", 0.55), ("ʊ", 0.45)),
    "ɔɪ": (("ɔ", 0.55), ("ɪ", 0.45)),
}

# Pinyin finals (tone digit removed) as (sound, share of the span) sequences.
# Medials are short, the nucleus long, codas medium.
FINALS: dict[str, tuple[tuple[str, float], ...]] = {
    "a": (("a", 1.0),),
    "ai": (("a", 0.6), ("e", 0.4)),
    "an": (("a", 0.65), ("n", 0.35)),
    "ang": (("ɑ", 0.65), ("ŋ", 0.35)),
    "ao": (("ɑ", 0.55), ("ʊ", 0.45)),
    "e": (("ɤ", 1.0),),
    "ei": (("e", 0.6), ("ɪ", 0.4)),
    "en": (("ə", 0.6), ("n", 0.4)),
    "eng": (("ə", 0.6), ("ŋ", 0.4)),
    "er": (("ɚ", 1.0),),
    "i": (("i", 1.0),),
    "ia": (("j", 0.3), ("a", 0.7)),
    "ian": (("j", 0.25), ("ɛ", 0.45), ("n", 0.3)),
    "iang": (("j", 0.25), ("ɑ", 0.45), ("ŋ", 0.3)),
    "iao": (("j", 0.2), ("ɑ", 0.45), ("ʊ", 0.35)),
    "ie": (("j", 0.3), ("ɛ", 0.7)),
    "ii": (("ɨ", 1.0),),
    "iii": (("ʅ", 1.0),),
    "in": (("i", 0.6), ("n", 0.4)),
    "ing": (("i", 0.6), ("ŋ", 0.4)),
    "iong": (("j", 0.25), ("ʊ", 0.45), ("ŋ", 0.3)),
    "iou": (("j", 0.25), ("o", 0.4), ("u", 0.35)),
    "o": (("o", 1.0),),
    "ong": (("ʊ", 0.65), ("ŋ", 0.35)),
    "ou": (("o", 0.55), ("ʊ", 0.45)),
    "u": (("u", 1.0),),
    "ua": (("w", 0.3), ("a", 0.7)),
    "uai": (("w", 0.25), ("a", 0.45), ("e", 0.3)),
    "uan": (("w", 0.25), ("a", 0.45), ("n", 0.3)),
    "uang": (("w", 0.25), ("ɑ", 0.45), ("ŋ", 0.3)),
    "uei": (("w", 0.3), ("e", 0.4), ("ɪ", 0.3)),
    "uen": (("w", 0.3), ("ə", 0.4), ("n", 0.3)),
    "ueng": (("w", 0.3), ("ə", 0.4), ("ŋ", 0.3)),
    "uo": (("w", 0.35), ("o", 0.65)),
    "v": (("y", 1.0),),
    "van": (("ɥ", 0.3), ("ɛ", 0.4), ("n", 0.3)),
    "ve": (("ɥ", 0.35), ("ɛ", 0.65)),
    "vn": (("y", 0.6), ("n", 0.4)),
}

SILENCE_SYMBOLS = frozenset({"sil", "sp", "spn", "pau", "pad", "eos", "_", "^", "$", ",", ".", "!", "?", ";", ":", "…", "-"})

# Marks that change stress, length, tone or phonation but not the lip shape.
_IGNORED_CHARACTERS = frozenset("ˈˌːˑʰʲˤ˞0123456789'")

_warned_symbols: set[str] = set()


def normalize_symbol(symbol: str) -> str:
    """Strip stress, length and tone marks, prosody tags and diacritics; lower-case the rest."""
    text = symbol.strip().lower()
    if "#" in text:
        # Prosody tags ("#0".."#4") may stay glued to a neighbour.
        text = text.split("#", 1)[0]
    decomposed = unicodedata.normalize("NFD", text)
    kept = [
        character
        for character in decomposed
        if character not in _IGNORED_CHARACTERS and not unicodedata.combining(character)
    ]
    return unicodedata.normalize("NFC", "".join(kept))


def viseme_targets(symbol: str) -> tuple[tuple[VisemeTarget, float], ...]:
    """Map one phoneme symbol to (target, share of its span) pairs.

    Symbols with a tone digit are pinyin finals and are looked up there first,
    because pinyin "e" is [ɤ], not IPA [e]. An unknown symbol is logged once
    and gets a neutral half-open target.
    """
    raw = symbol.strip()
    if raw.lower() in SILENCE_SYMBOLS or raw == "" or raw.startswith("#"):
        return ((SILENCE, 1.0),)
    key = normalize_symbol(raw)
    if key == "" or key in SILENCE_SYMBOLS:
        return ((SILENCE, 1.0),)

    has_tone = raw[-1:].isdigit()
    if has_tone and key in FINALS:
        return tuple((SOUNDS[sound], share) for sound, share in FINALS[key])
    if key in SOUNDS:
        return ((SOUNDS[key], 1.0),)
    if key in COMPOUNDS:
        return tuple((SOUNDS[sound], share) for sound, share in COMPOUNDS[key])
    if key in FINALS:
        return tuple((SOUNDS[sound], share) for sound, share in FINALS[key])
    # Unseen IPA clusters: split into single sounds when every one is known.
    if len(key) > 1 and all(character in SOUNDS for character in key):
        share = 1.0 / len(key)
        return tuple((SOUNDS[character], share) for character in key)

    if symbol not in _warned_symbols:
        _warned_symbols.add(symbol)
        logger.warning("no viseme for phoneme %r; using a neutral mouth shape", symbol)
    return ((UNKNOWN, 1.0),)
