"""Subtitle cues timed in audio samples, and SRT output.

Each plan segment (one sentence) becomes one or more cues. A long sentence is
split at clause punctuation into parts of readable length, and each part is
timed by the phonemes it covers when the text can be matched to them:

1. Chinese text whose Han characters match the spoken syllables one to one is
   timed per syllable (pinyin initials and finals with a tone digit).
2. Otherwise a boundary is placed proportionally to the characters before it
   and moved to the end of a nearby pause phoneme, because a comma is usually
   spoken as a pause.
3. With no pause nearby, the proportional position is kept.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from avatar.errors import AvatarError
from avatar.fileio import write_text_atomic
from emotion.types import EmotionPlan
from voice.types import Phoneme, Utterance

logger = logging.getLogger(__name__)

# The maximum cue length in display units: a CJK character is 1 unit and any
# other character is 0.5, because Latin glyphs are about half as wide. At the
# compositor's font size a line fits about 16 units whatever the frame size,
# so 28 units (28 Han characters or about 56 Latin ones) fit in two lines.
MAX_CUE_UNITS = 28.0

# A pause shorter than this is a word boundary, not a spoken comma.
_MIN_PAUSE_SECONDS = 0.05
# A pause is used for a boundary only if its middle lies within this fraction
# of the segment's duration from the proportional estimate.
_PAUSE_SNAP_FRACTION = 0.2

_PAUSE_SYMBOLS = frozenset({"sil", "sp", "spn", "pau", "pause"})
# "^" is the Baker corpus symbol for a zero initial (the syllable starts with its vowel).
_PINYIN_INITIALS = frozenset("b p m f d t n l g k h j q x zh ch sh r z c s y w ^".split())
# Full-width clause marks end a clause wherever they are. ASCII marks end one
# only before whitespace, so "1,234" and "3:30" stay whole.
_CJK_CLAUSE_MARKS = "，、；：。！？…"
_ASCII_CLAUSE_MARKS = ",;:.!?"

# Tokens for splitting and wrapping: a run of whitespace, one CJK character
# (including full-width punctuation), or a run of anything else (a Latin word
# with the punctuation attached to it).
_CJK_CLASS = "\u2e80-\u2fff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN_PATTERN = re.compile(rf"\s+|[{_CJK_CLASS}]|[^\s{_CJK_CLASS}]+")
_HAN_PATTERN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Cue:
    """One subtitle shown from `start_sample` (inclusive) to `end_sample` (exclusive).

    Attributes:
        index: cue number in the SRT file, from 1.
        start_sample: first audio sample during which the cue is shown.
        end_sample: first audio sample after the cue.
        text: the text shown, on one line (the compositor wraps it).
    """

    index: int
    start_sample: int
    end_sample: int
    text: str


def display_width(text: str) -> float:
    """Return the width of `text` in units of one CJK character."""
    return sum(1.0 if is_wide(char) else 0.5 for char in text)


def is_wide(char: str) -> bool:
    """Return True for characters drawn at full (CJK) width."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def split_tokens(text: str) -> list[str]:
    """Split `text` into whitespace runs, single CJK characters and Latin words."""
    return _TOKEN_PATTERN.findall(text)


def cues_from_utterance(plan: EmotionPlan, utterance: Utterance, max_units: float = MAX_CUE_UNITS) -> list[Cue]:
    """Build the subtitle cues of a spoken plan, numbered from 1, in time order.

    Each segment's cues lie inside `utterance.segment_spans[i]` and follow one
    another without gaps, so the text stays on screen during commas but not
    during the pause after a sentence. No cue is longer than `max_units` CJK
    character widths unless one word alone is.
    """
    if len(plan.segments) != len(utterance.segment_spans):
        raise AvatarError(
            "timeline_mismatch", segments=len(plan.segments), spans=len(utterance.segment_spans)
        )

    phonemes_by_segment: dict[int, list[Phoneme]] = {}
    for phoneme in utterance.phonemes:
        phonemes_by_segment.setdefault(phoneme.segment, []).append(phoneme)

    cues: list[Cue] = []
    for segment, (span_start, span_end) in zip(plan.segments, utterance.segment_spans, strict=True):
        text = segment.text.strip()
        if not text:
            continue
        if span_end <= span_start:
            logger.warning(
                "segment %d has an empty speech span, so it gets no subtitle: %r", segment.index, text
            )
            continue
        ranges = split_cue_ranges(text, max_units)
        phonemes = [
            phoneme
            for phoneme in phonemes_by_segment.get(segment.index, [])
            if phoneme.end > span_start and phoneme.start < span_end
        ]
        boundaries = _time_boundaries(text, ranges, phonemes, span_start, span_end, utterance.sample_rate)
        for (start_char, end_char), (start_sample, end_sample) in zip(ranges, boundaries, strict=True):
            cues.append(Cue(len(cues) + 1, start_sample, end_sample, text[start_char:end_char].strip()))
    return cues


def split_cue_ranges(text: str, max_units: float = MAX_CUE_UNITS) -> list[tuple[int, int]]:
    """Split `text` into (start, end) character ranges of at most `max_units` each.

    Clause punctuation is preferred as a split point. A clause that is too long
    on its own is cut between words (Latin) or characters (CJK). Among the
    splits with the fewest parts, the one with the most even lengths wins.
    """
    pieces: list[tuple[int, int]] = []
    for start, end in _clause_ranges(text):
        if display_width(text[start:end].strip()) <= max_units:
            pieces.append((start, end))
        else:
            pieces.extend(_token_ranges(text, start, end))

    # Dynamic programme over piece boundaries. Each part costs more than any
    # possible sum of squares, so the number of parts is minimised first. The
    # sum of squared widths then favours parts of even length.
    part_cost = (max_units + 1.0) ** 2 * len(pieces)
    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("inf"), -1)] * len(pieces)
    for end_piece in range(1, len(pieces) + 1):
        for start_piece in range(end_piece - 1, -1, -1):
            width = display_width(text[pieces[start_piece][0] : pieces[end_piece - 1][1]].strip())
            if width > max_units and start_piece < end_piece - 1:
                break
            cost = best[start_piece][0] + part_cost + width**2
            if cost < best[end_piece][0]:
                best[end_piece] = (cost, start_piece)

    ranges: list[tuple[int, int]] = []
    end_piece = len(pieces)
    while end_piece > 0:
        start_piece = best[end_piece][1]
        ranges.append((pieces[start_piece][0], pieces[end_piece - 1][1]))
        end_piece = start_piece
    ranges.reverse()
    return ranges


def _clause_ranges(text: str) -> list[tuple[int, int]]:
    """Return the character ranges of the clauses of `text`, each keeping its mark."""
    ranges = []
    start = 0
    for position, char in enumerate(text):
        next_char = text[position + 1] if position + 1 < len(text) else " "
        ends_clause = char in _CJK_CLAUSE_MARKS or (char in _ASCII_CLAUSE_MARKS and next_char.isspace())
        # A run of marks ("?!", "……") stays with its clause.
        if ends_clause and next_char not in _CJK_CLAUSE_MARKS + _ASCII_CLAUSE_MARKS:
            ranges.append((start, position + 1))
            start = position + 1
    if text[start:].strip():
        ranges.append((start, len(text)))
    elif ranges:
        ranges[-1] = (ranges[-1][0], len(text))
    return ranges


def _token_ranges(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Return the ranges of the words (Latin) or characters (CJK) in text[start:end].

    Whitespace stays with the token before it and punctuation with the CJK
    character before it, so no part starts with a space or a mark.
    """
    ranges: list[tuple[int, int]] = []
    position = start
    for token in split_tokens(text[start:end]):
        token_end = position + len(token)
        attaches_to_previous = token.isspace() or (
            len(token) == 1 and unicodedata.category(token).startswith("P")
        )
        if ranges and attaches_to_previous:
            ranges[-1] = (ranges[-1][0], token_end)
        else:
            ranges.append((position, token_end))
        position = token_end
    return ranges


def _time_boundaries(
    text: str,
    ranges: Sequence[tuple[int, int]],
    phonemes: Sequence[Phoneme],
    span_start: int,
    span_end: int,
    sample_rate: int,
) -> list[tuple[int, int]]:
    """Return the (start, end) samples of each cue range inside the segment span."""
    starts = [span_start]
    syllable_starts = _syllable_starts_per_han(text, phonemes)
    pauses = [
        phoneme
        for phoneme in phonemes
        if _is_pause(phoneme.symbol)
        and phoneme.end - phoneme.start >= _MIN_PAUSE_SECONDS * sample_rate
        and span_start < phoneme.start
        and phoneme.end < span_end
    ]
    total_weight = _speech_weight(text) or 1.0
    duration = span_end - span_start

    for start_char, _ in ranges[1:]:
        boundary = None
        han_index = _first_han_at_or_after(text, start_char)
        if syllable_starts is not None and han_index is not None:
            boundary = syllable_starts[han_index]
        if boundary is None:
            fraction = _speech_weight(text[:start_char]) / total_weight
            boundary = span_start + round(duration * fraction)
            nearby = [
                pause
                for pause in pauses
                if abs((pause.start + pause.end) / 2 - boundary) <= _PAUSE_SNAP_FRACTION * duration
            ]
            if nearby:
                boundary = min(nearby, key=lambda pause: abs((pause.start + pause.end) / 2 - boundary)).end
        # Keep every cue at least one sample long and inside the span.
        boundary = min(max(boundary, starts[-1] + 1), span_end - 1)
        starts.append(boundary)

    if len(starts) > span_end - span_start:
        logger.warning("segment span of %d samples is too short for %d cues", duration, len(starts))
    ends = starts[1:] + [span_end]
    return list(zip(starts, ends, strict=True))


def _is_pause(symbol: str) -> bool:
    """Return True for silence phonemes and punctuation pauses (not word spaces)."""
    stripped = symbol.strip()
    if stripped.lower() in _PAUSE_SYMBOLS:
        return True
    return bool(stripped) and all(unicodedata.category(char).startswith("P") for char in stripped)


def _speech_weight(text: str) -> float:
    """Return the spoken length of `text` in display units, ignoring spaces and marks."""
    return sum(
        display_width(char)
        for char in text
        if not char.isspace() and not unicodedata.category(char).startswith("P")
    )


def _first_han_at_or_after(text: str, position: int) -> int | None:
    """Return the index among Han characters of the first one at or after `position`."""
    match = _HAN_PATTERN.search(text, position)
    if match is None:
        return None
    return len(_HAN_PATTERN.findall(text, 0, match.start()))


def _syllable_starts_per_han(text: str, phonemes: Sequence[Phoneme]) -> list[int] | None:
    """Map the n-th Han character to the first sample of the n-th pinyin syllable.

    Returns None when the text is not all Han syllables or the counts differ
    (digits, Latin words or a voice without pinyin symbols), since the mapping
    would then be wrong.
    """
    han_count = len(_HAN_PATTERN.findall(text))
    if han_count == 0 or any(char.isalnum() and not _HAN_PATTERN.match(char) for char in text):
        return None

    syllable_starts: list[int] = []
    pending_initial: int | None = None
    for phoneme in phonemes:
        symbol = phoneme.symbol.strip().lower()
        if len(symbol) >= 2 and symbol[-1] in "12345" and symbol[:-1].isalpha():
            syllable_starts.append(pending_initial if pending_initial is not None else phoneme.start)
            pending_initial = None
        else:
            # The Chinese voice gives some finals 0 samples and drops them; an
            # initial with no final after it is still a syllable of its own.
            if pending_initial is not None:
                syllable_starts.append(pending_initial)
            pending_initial = phoneme.start if symbol in _PINYIN_INITIALS else None
    if pending_initial is not None:
        syllable_starts.append(pending_initial)
    if len(syllable_starts) != han_count:
        logger.debug(
            "%d syllables for %d Han characters: timing cues proportionally", len(syllable_starts), han_count
        )
        return None
    return syllable_starts


def format_timestamp(sample: int, sample_rate: int) -> str:
    """Format a sample position as an SRT timestamp HH:MM:SS,mmm (rounded to the millisecond)."""
    milliseconds = (sample * 1000 + sample_rate // 2) // sample_rate
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    seconds, milliseconds = divmod(milliseconds, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{milliseconds:03d}"


def format_srt(cues: Sequence[Cue], sample_rate: int) -> str:
    """Return the SRT text of `cues`, numbered in order from 1."""
    if sample_rate <= 0:
        raise AvatarError("invalid_sample_rate", value=sample_rate)
    blocks = []
    for number, cue in enumerate(cues, start=1):
        # A blank line ends an SRT cue, so line breaks inside the text are collapsed.
        text = " ".join(cue.text.split())
        start = format_timestamp(cue.start_sample, sample_rate)
        end = format_timestamp(cue.end_sample, sample_rate)
        blocks.append(f"{number}\n{start} --> {end}\n{text}\n")
    return "\n".join(blocks)


def write_srt(cues: Sequence[Cue], sample_rate: int, path: str | os.PathLike[str]) -> Path:
    """Write `cues` as a UTF-8 SRT file, atomically, and return its path.

    The text goes to a temporary file in the same folder that then replaces
    `path`, so a reader never sees a half-written file.
    """
    path = Path(path)
    write_text_atomic(path, format_srt(cues, sample_rate))
    logger.info("wrote %d subtitle cues to %s", len(cues), path)
    return path
