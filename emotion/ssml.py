"""Parse a subset of SSML 1.1 into sentences with their prosody, emotion and pauses.

Supported elements: `speak`, `p`, `s`, `break`, `prosody`, `emphasis`, `say-as` and, for
emotion, Azure's `mstts:express-as` (also accepted without the prefix). Any other element,
attribute or attribute value raises `AvatarError("ssml_invalid", ...)` with the 1-based
line and column, so a typo never falls back silently to plain reading.

The parser is expat in non-namespace mode, so `mstts:express-as` works whether or not the
document declares the `mstts` namespace. A DOCTYPE or entity declaration is rejected before
any entity is expanded, which rules out entity-expansion attacks such as "billion laughs".
"""

from __future__ import annotations

import calendar
import logging
import math
import re
from dataclasses import dataclass, field, replace
from xml.parsers import expat

from avatar.errors import AvatarError
from emotion.segment import detect_language, split_sentences
from emotion.types import EMOTIONS, Language, Prosody

__all__ = ["Prosody", "SsmlSentence", "is_ssml", "parse_ssml"]

logger = logging.getLogger(__name__)

# Pause per <break strength=...>, in milliseconds. SSML 1.1 reads a <break> with neither
# attribute as strength="medium".
BREAK_STRENGTH_MS: dict[str, int] = {
    "none": 0, "x-weak": 100, "weak": 250, "medium": 400, "strong": 700, "x-strong": 1000,
}
# One <break time=...> above this is almost certainly a unit typo, such as 1500s for 1500ms.
MAX_BREAK_MS = 60_000

RATE_WORDS: dict[str, float] = {
    "x-slow": 0.7, "slow": 0.85, "medium": 1.0, "fast": 1.2, "x-fast": 1.4, "default": 1.0,
}
PITCH_WORDS: dict[str, float] = {
    "x-low": 0.8, "low": 0.9, "medium": 1.0, "high": 1.1, "x-high": 1.2, "default": 1.0,
}
# "silent" would be minus infinity dB, so it is -60 dB: inaudible, and finite in sums.
SILENT_DB = -60.0
VOLUME_WORDS_DB: dict[str, float] = {
    "silent": SILENT_DB, "x-soft": -12.0, "soft": -6.0, "medium": 0.0, "loud": 4.0, "x-loud": 8.0,
    "default": 0.0,
}
# Limits on the prosody in effect after nesting, so that a deep nest of <emphasis> cannot ask
# the voice for near-endless audio. Beyond these, speech is unintelligible (rate), cartoonish
# (more than an octave of pitch) or clipped (gain), by our judgement rather than a measurement.
RATE_RANGE = (0.25, 4.0)
PITCH_RANGE = (0.5, 2.0)
MAX_VOLUME_DB = 20.0
# Prosody change per <emphasis level=...>. SSML's default level is "moderate".
EMPHASIS_PROSODY: dict[str, Prosody] = {
    "strong": Prosody(rate=0.9, pitch=1.05, volume_db=3.0),
    "moderate": Prosody(rate=0.95, pitch=1.03, volume_db=1.5),
    "none": Prosody(),
    "reduced": Prosody(rate=1.05, pitch=1.0, volume_db=-2.0),
}

# express-as styles (Azure names, plus "surprised" and our own labels) mapped to our labels.
STYLE_EMOTIONS: dict[str, str] = {
    **{label: label for label in EMOTIONS},
    "cheerful": "happy", "excited": "happy", "friendly": "happy", "hopeful": "happy", "joyful": "happy",
    "depressed": "sad", "disappointed": "sad", "embarrassed": "sad",
    "unfriendly": "angry", "shouting": "angry",
    "terrified": "fearful", "scared": "fearful",
    "disgruntled": "disgusted",
    "calm": "neutral", "newscast": "neutral", "narration-professional": "neutral", "chat": "neutral",
    "customerservice": "neutral", "assistant": "neutral",
}
# styledegree runs from 0.01 to 2 with 1 as the default in Azure Speech (the Rust `ssml` crate
# 0.2.0 clamps to the same range). Scaling by 0.7 maps the default to the planner's default
# tag intensity, and 2 (clamped) to the maximum, 1.
STYLEDEGREE_RANGE = (0.01, 2.0)
STYLEDEGREE_TO_INTENSITY = 0.7

SAY_AS_KINDS = ("characters", "spell-out", "cardinal", "ordinal", "date", "time", "telephone")
DATE_FORMATS = ("ymd", "mdy", "dmy", "ym", "md")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

# Attributes each element accepts. Namespace declarations (xmlns, xmlns:*) and xml:* attributes
# such as xml:lang are accepted on every element and ignored, because one voice reads each
# sentence in the language detected from its text.
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "speak": ("version",),
    "p": (),
    "s": (),
    "break": ("time", "strength"),
    "prosody": ("rate", "pitch", "volume"),
    "emphasis": ("level",),
    "say-as": ("interpret-as", "format"),
    "express-as": ("style", "styledegree", "role"),
    # Azure's samples wrap their text in <voice name="...">. The voice is chosen by the
    # script's language or --voice here, so the element only groups its content.
    "voice": ("name",),
}
_SUPPORTED_ELEMENTS = "speak, voice, p, s, break, prosody, emphasis, say-as, express-as (or mstts:express-as)"
_EXPRESS_AS_PREFIX = "mstts"

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_SIGNED = re.compile(rf"([+-]?)({_NUMBER})(%|st|hz|db|ms|s)?")
# Characters that make a sentence worth speaking: the same set `emotion.segment` uses.
_SPEAKABLE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9]")
# Chinese text has no spaces, so a line break between two CJK characters (ideographs or
# full-width punctuation) disappears. Elsewhere any run of white space becomes one space.
_CJK_CHAR = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_LINE_BREAK = re.compile(rf"(?<={_CJK_CHAR})[^\S\n]*\n\s*(?={_CJK_CHAR})")
_WHITESPACE = re.compile(r"\s+")
_CLOSING_PUNCTUATION = re.compile(r"[,.!?;:，。！？；：、…)\]}）」』”’]+")
_GROUPED_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:[,_' \u00a0\u202f]\d{3})+|\d+)(\.\d+)?")
_ORDINAL = re.compile(r"(\d{1,3}(?:[,_' \u00a0\u202f]\d{3})+|\d+)(st|nd|rd|th)?", re.IGNORECASE)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TELEPHONE = re.compile(r"[\d\s+\-().]+")


@dataclass(frozen=True)
class SsmlSentence:
    """One sentence of an SSML script.

    Attributes:
        text: the visible text of the sentence, whitespace-normalised, as subtitles show it.
        spoken_text: what the voice reads, with say-as content rewritten; equal to `text`
            when the sentence has no say-as.
        paragraph: index of the paragraph among those with sentences, from 0. Each `<p>` is
            a paragraph, and so is each stretch of text outside `<p>` elements.
        emotion: a label from `EMOTIONS`, set by express-as; None where no style applies.
        intensity: 0..1 from express-as styledegree; None where no style applies.
        prosody: the combined prosody and emphasis in effect where the sentence starts.
        pause_after_ms: silence from the `<break>` elements right after the sentence, added
            up; None when no break follows, so the planner decides.
        pause_before_ms: silence from `<break>` elements before the first sentence; 0 for
            every other sentence.
    """

    text: str
    spoken_text: str
    paragraph: int
    emotion: str | None
    intensity: float | None
    prosody: Prosody
    pause_after_ms: int | None
    pause_before_ms: int = 0


class _InvalidValue(ValueError):
    """An invalid attribute value or element content, whose message is the error's reason."""


@dataclass(frozen=True)
class _Style:
    """The settings in effect for a stretch of text. Text under a different style starts a new sentence."""

    paragraph: int  # serial number of the enclosing <p>, or of the stretch of text since the last </p>
    emotion: str | None
    intensity: float | None
    prosody: Prosody


@dataclass(frozen=True)
class _SayAs:
    """A validated say-as element: its visible text and what it becomes when read aloud."""

    interpret_as: str
    text: str
    value: str  # the number, time or digits to read, or "" for a date
    date: tuple[int | None, int | None, int | None] = (None, None, None)  # (year, month, day)

    def spoken(self, language: Language, preceding: str) -> str:
        """Return the spoken form for a sentence in `language`, after the sentence text `preceding`."""
        if self.interpret_as in ("characters", "spell-out", "telephone"):
            return " ".join(self.value)
        if self.interpret_as == "ordinal":
            if language == "en":
                return self.value + _english_ordinal_suffix(int(self.value))
            # A script may already write the 第 itself, as in 第<say-as ...>3</say-as>名.
            return self.value if preceding.rstrip().endswith("第") else "第" + self.value
        if self.interpret_as == "date":
            return _spoken_date(self.date, language)
        return self.value


@dataclass
class _Frame:
    """An open element on the parser's stack."""

    name: str
    style: _Style
    line: int
    column: int
    attributes: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)  # collected content of a say-as


@dataclass
class _Chunk:
    """Text under one style, collected until a boundary. A `whole` chunk is inside <s> and never split."""

    style: _Style
    whole: bool
    parts: list[str | _SayAs] = field(default_factory=list)


def is_ssml(text: str) -> bool:
    """Return True when `text`, after white space and a byte order mark, starts with `<speak` or `<?xml`."""
    # Case-insensitive, so that <SPEAK> is reported as invalid SSML instead of read aloud.
    return re.match(r"[\s\ufeff]*<(?:speak(?=[\s>/])|\?xml(?=\s))", text, re.IGNORECASE) is not None


def parse_ssml(text: str) -> list[SsmlSentence]:
    """Parse an SSML document into sentences in reading order.

    Text inside `<s>` is one sentence, and other text is split with `emotion.segment.split_sentences`.
    A `<break>`, or a change of prosody, emphasis or express-as style, also ends a sentence.
    Sentences without a Chinese character, Latin letter or digit are dropped, except that
    trailing punctuation split off by a style change joins the sentence before it.

    Returns:
        The sentences; empty when the document has nothing to speak.

    Raises:
        AvatarError: "ssml_invalid" with the line, column and reason for malformed XML, a
            DOCTYPE or entity declaration, an unknown element or attribute, or an invalid value.
    """
    return _SsmlReader(text).read()


class _SsmlReader:
    """One parse: expat handlers that turn elements and text into `SsmlSentence` objects."""

    def __init__(self, text: str) -> None:
        body = text.removeprefix("\ufeff")
        # XML allows no white space before an XML declaration. Strip it, but keep error
        # positions pointing into the caller's text.
        self._line_offset = 0
        self._column_offset = 0
        stripped = body.lstrip()
        if stripped.startswith("<?xml") and stripped != body:
            prefix = body[: len(body) - len(stripped)]
            self._line_offset = prefix.count("\n")
            self._column_offset = len(prefix) - (prefix.rfind("\n") + 1)
            body = stripped
        self._body = body
        self._mark = _choose_mark(body)

        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._characters
        self._parser.StartDoctypeDeclHandler = self._reject_doctype

        self._stack: list[_Frame] = []
        self._chunk: _Chunk | None = None
        self._inside_s = 0
        self._paragraph_serial = 0
        self._last_paragraph_serial: int | None = None
        self._paragraph_count = 0
        self._sentences: list[SsmlSentence] = []
        self._leading_pause_ms = 0
        # Whether punctuation-only text may still join the last sentence. A <break>, <s> or <p>
        # boundary clears it.
        self._attachable = False

    def read(self) -> list[SsmlSentence]:
        try:
            self._parser.Parse(self._body, True)
        except expat.ExpatError as error:
            line, column = self._shift(error.lineno, error.offset + 1)
            reason = (
                f"the XML is malformed ({expat.ErrorString(error.code)}). Check that every tag is "
                "closed in the right order and that & and < in text are written as &amp; and &lt;."
            )
            raise AvatarError("ssml_invalid", line=line, column=column, reason=reason) from None
        logger.debug("parsed SSML into %d sentences", len(self._sentences))
        if self._sentences and self._leading_pause_ms:
            self._sentences[0] = replace(self._sentences[0], pause_before_ms=self._leading_pause_ms)
        return self._sentences

    # ---- positions and errors

    def _shift(self, line: int, column: int) -> tuple[int, int]:
        if line == 1:
            column += self._column_offset
        return line + self._line_offset, column

    def _position(self) -> tuple[int, int]:
        return self._shift(self._parser.CurrentLineNumber, self._parser.CurrentColumnNumber + 1)

    def _error(self, position: tuple[int, int], reason: str) -> AvatarError:
        line, column = position
        return AvatarError("ssml_invalid", line=line, column=column, reason=reason)

    def _reject_doctype(self, *_: object) -> None:
        # Entities can only be declared inside a DOCTYPE, so rejecting it stops every entity
        # declaration before expansion. Expat reports the DOCTYPE after reading its name, so
        # point the error back at the "<!DOCTYPE" itself.
        line, column = self._parser.CurrentLineNumber, self._parser.CurrentColumnNumber
        lines = self._body.split("\n")
        offset = sum(len(text) + 1 for text in lines[: line - 1]) + column
        start = self._body.rfind("<!DOCTYPE", 0, offset + 1)
        if start >= 0:
            line = self._body.count("\n", 0, start) + 1
            column = start - (self._body.rfind("\n", 0, start) + 1)
        raise self._error(self._shift(line, column + 1),
                          "a DOCTYPE declaration is not allowed in SSML scripts, because its entities could "
                          "expand without limit. Remove the DOCTYPE and write the text out in full.")

    # ---- expat handlers

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        position = self._position()
        local = self._local_name(name, position)
        self._check_nesting(local, name, position)
        values = self._check_attributes(local, name, attributes, position)
        style = self._stack[-1].style if self._stack else _Style(0, None, None, Prosody())
        frame = _Frame(local, style, position[0], position[1], values)

        if local == "p":
            self._close_chunk(boundary=True)
            self._paragraph_serial += 1
        elif local == "s":
            self._close_chunk(boundary=True)
            self._inside_s += 1
        elif local == "break":
            self._close_chunk(boundary=True)
            self._add_pause(self._break_ms(values, position))
        elif local == "prosody":
            combined = _combine(style.prosody, self._prosody(values, position))
            frame.style = replace(style, prosody=self._check_prosody_range(combined, position))
        elif local == "emphasis":
            combined = _combine(style.prosody, EMPHASIS_PROSODY[values.get("level", "moderate")])
            frame.style = replace(style, prosody=self._check_prosody_range(combined, position))
        elif local == "express-as":
            emotion, intensity = self._express_as(values, position)
            frame.style = replace(style, emotion=emotion, intensity=intensity)
        elif local in ("speak", "voice") and values:
            logger.debug("ignoring <%s> attributes %s", local, sorted(values))
        self._stack.append(frame)

    def _end(self, name: str) -> None:
        frame = self._stack.pop()
        if frame.name == "say-as":
            self._add_part(self._say_as(frame))
        elif frame.name == "s":
            self._close_chunk(boundary=True)
            self._inside_s -= 1
        elif frame.name == "p":
            self._close_chunk(boundary=True)
            # Text after </p> and before the next <p> forms a paragraph of its own.
            self._paragraph_serial += 1
        elif frame.name == "speak":
            self._close_chunk(boundary=True)

    def _characters(self, data: str) -> None:
        if not self._stack:
            return
        top = self._stack[-1]
        if top.name == "say-as":
            top.text.append(data)
        elif top.name == "break":
            if data.strip():
                raise self._error((top.line, top.column),
                                  f"<break> must be empty, but it contains the text {data.strip()!r}. "
                                  "Move the text after the <break/>.")
        else:
            self._add_part(data)

    # ---- element checks

    def _local_name(self, name: str, position: tuple[int, int]) -> str:
        prefix, _, local = name.rpartition(":")
        if local in _ATTRIBUTES and (not prefix or (prefix == _EXPRESS_AS_PREFIX and local == "express-as")):
            return local
        raise self._error(position, f"the element <{name}> is not supported. Supported elements: "
                                    f"{_SUPPORTED_ELEMENTS}.")

    def _check_nesting(self, local: str, name: str, position: tuple[int, int]) -> None:
        if not self._stack:
            if local != "speak":
                raise self._error(position, f"the root element is <{name}>, but SSML needs <speak> as the "
                                            "root. Wrap the script in <speak>...</speak>.")
            return
        parent = self._stack[-1].name
        if local == "speak":
            raise self._error(position, "<speak> is nested inside another element. Use one <speak> root only.")
        if parent in ("say-as", "break"):
            raise self._error(position, f"<{parent}> can contain only text, but it contains <{name}>. "
                                        f"Move <{name}> outside it.")
        open_names = {frame.name for frame in self._stack}
        if local == "p" and open_names & {"p", "s"}:
            raise self._error(position, "<p> is inside another <p> or an <s>. Close the enclosing element first.")
        if local == "s" and "s" in open_names:
            raise self._error(position, "<s> is inside another <s>. Close the first <s> before starting the next.")

    def _check_attributes(
        self, local: str, name: str, attributes: dict[str, str], position: tuple[int, int]
    ) -> dict[str, str]:
        values: dict[str, str] = {}
        allowed = _ATTRIBUTES[local]
        for attribute, value in attributes.items():
            if attribute == "xmlns" or attribute.startswith(("xmlns:", "xml:")):
                continue
            if attribute not in allowed:
                supported = ", ".join(allowed) if allowed else "none besides xml:lang"
                raise self._error(position, f"<{name}> has the unsupported attribute {attribute}. "
                                            f"Supported attributes: {supported}.")
            values[attribute] = value.strip()
        if local == "break" and "strength" in values and values["strength"] not in BREAK_STRENGTH_MS:
            raise self._error(position, f'<break strength="{values["strength"]}"> is invalid. Use one of '
                                        f"{', '.join(BREAK_STRENGTH_MS)}.")
        if local == "emphasis" and values.get("level", "moderate") not in EMPHASIS_PROSODY:
            raise self._error(position, f'<emphasis level="{values["level"]}"> is invalid. Use one of '
                                        f"{', '.join(EMPHASIS_PROSODY)}.")
        if local == "say-as":
            self._check_say_as_attributes(name, values, position)
        if local == "express-as" and "style" not in values:
            raise self._error(position, f"<{name}> needs a style attribute, such as style=\"cheerful\".")
        return values

    def _check_say_as_attributes(self, name: str, values: dict[str, str], position: tuple[int, int]) -> None:
        kind = values.get("interpret-as")
        if kind is None:
            raise self._error(position, f"<{name}> needs an interpret-as attribute. Use one of "
                                        f"{', '.join(SAY_AS_KINDS)}.")
        if kind not in SAY_AS_KINDS:
            raise self._error(position, f'<{name} interpret-as="{kind}"> is not supported. Use one of '
                                        f"{', '.join(SAY_AS_KINDS)}.")
        if "format" in values:
            if kind != "date":
                raise self._error(position, f'<{name}> has a format, which only interpret-as="date" accepts. '
                                            "Remove the format attribute.")
            if values["format"] not in DATE_FORMATS:
                raise self._error(position, f'<{name} format="{values["format"]}"> is invalid. Use one of '
                                            f"{', '.join(DATE_FORMATS)}.")

    # ---- element values

    def _break_ms(self, values: dict[str, str], position: tuple[int, int]) -> int:
        # SSML 1.1 takes the duration from time when both attributes are present.
        if "time" in values:
            try:
                return _parse_break_time(values["time"])
            except _InvalidValue as error:
                raise self._error(position, str(error)) from None
        return BREAK_STRENGTH_MS[values.get("strength", "medium")]

    def _prosody(self, values: dict[str, str], position: tuple[int, int]) -> Prosody:
        try:
            return Prosody(
                rate=_parse_rate(values["rate"]) if "rate" in values else 1.0,
                pitch=_parse_pitch(values["pitch"]) if "pitch" in values else 1.0,
                volume_db=_parse_volume(values["volume"]) if "volume" in values else 0.0,
            )
        except _InvalidValue as error:
            raise self._error(position, str(error)) from None

    def _check_prosody_range(self, prosody: Prosody, position: tuple[int, int]) -> Prosody:
        nesting = "Nested <prosody> and <emphasis> multiply rates and pitches and add decibels, so use milder values."
        low, high = RATE_RANGE
        if not low <= prosody.rate <= high:
            raise self._error(position, f"the speaking rate here is {prosody.rate:g} times normal, outside the "
                                        f"supported {low:g} to {high:g}. {nesting}")
        low, high = PITCH_RANGE
        if not low <= prosody.pitch <= high:
            raise self._error(position, f"the pitch here is {prosody.pitch:g} times normal, outside the "
                                        f"supported {low:g} to {high:g} (one octave each way). {nesting}")
        if prosody.volume_db > MAX_VOLUME_DB:
            raise self._error(position, f"the volume here is +{prosody.volume_db:g} dB, above the supported "
                                        f"+{MAX_VOLUME_DB:g} dB, where the audio would clip. {nesting}")
        return prosody

    def _express_as(self, values: dict[str, str], position: tuple[int, int]) -> tuple[str, float]:
        style = values["style"]
        emotion = STYLE_EMOTIONS.get(style.lower())
        if emotion is None:
            raise self._error(position, f'the express-as style "{style}" is not supported. Use one of '
                                        f"{', '.join(sorted(STYLE_EMOTIONS))}.")
        degree = 1.0
        if "styledegree" in values:
            try:
                degree = float(values["styledegree"])
            except ValueError:
                degree = math.nan
            low, high = STYLEDEGREE_RANGE
            if not low <= degree <= high:
                raise self._error(position, f'styledegree "{values["styledegree"]}" is invalid. Use a number '
                                            f"from {low} to {high}; 1 is the default strength.")
        return emotion, min(1.0, max(0.0, round(degree * STYLEDEGREE_TO_INTENSITY, 6)))

    def _say_as(self, frame: _Frame) -> _SayAs:
        kind = frame.attributes["interpret-as"]
        content = _WHITESPACE.sub(" ", "".join(frame.text)).strip()
        try:
            return _read_say_as(kind, content, frame.attributes.get("format", "ymd"))
        except _InvalidValue as error:
            raise self._error((frame.line, frame.column), str(error)) from None

    # ---- sentences

    def _add_part(self, part: str | _SayAs) -> None:
        """Add text or a say-as to the current chunk, starting a new chunk where the style changes."""
        if isinstance(part, str) and not part.strip():
            # White space alone never starts a sentence or splits one.
            if self._chunk is not None:
                self._chunk.parts.append(part)
            return
        # p cannot nest, so the serial is that of the open <p>, or of the text since the last </p>.
        style = replace(self._stack[-1].style, paragraph=self._paragraph_serial)
        whole = self._inside_s > 0
        if self._chunk is not None and (self._chunk.style != style or self._chunk.whole != whole):
            self._close_chunk(boundary=False)
        if self._chunk is None:
            self._chunk = _Chunk(style, whole)
        self._chunk.parts.append(part)

    def _close_chunk(self, boundary: bool) -> None:
        chunk, self._chunk = self._chunk, None
        if chunk is not None:
            self._emit(chunk)
        if boundary:
            self._attachable = False

    def _emit(self, chunk: _Chunk) -> None:
        """Turn a chunk into sentences. Each say-as goes through splitting as one mark character."""
        say_as_parts = [part for part in chunk.parts if isinstance(part, _SayAs)]
        marked = "".join(part if isinstance(part, str) else self._mark for part in chunk.parts)
        normalised = _normalise_space(marked)
        if not normalised:
            return
        # Closing punctuation right after a style change ends the sentence before it.
        closing = _CLOSING_PUNCTUATION.match(normalised)
        if closing and self._attachable and self._sentences:
            self._attach(closing.group(), closing.group())
            normalised = normalised[closing.end() :].lstrip()
            if not normalised:
                return
        pieces = [normalised] if chunk.whole else split_sentences(normalised)

        used = 0
        for piece in pieces:
            count = piece.count(self._mark)
            items = say_as_parts[used : used + count]
            used += count
            text, spoken = self._fill(piece, items)
            if not _SPEAKABLE.search(text):
                self._attach(text, spoken)
                continue
            self._sentences.append(
                SsmlSentence(
                    text=text,
                    spoken_text=spoken,
                    paragraph=self._paragraph_index(chunk.style.paragraph),
                    emotion=chunk.style.emotion,
                    intensity=chunk.style.intensity,
                    prosody=chunk.style.prosody,
                    pause_after_ms=None,
                )
            )
            self._attachable = True

    def _fill(self, piece: str, items: list[_SayAs]) -> tuple[str, str]:
        """Put the say-as text back into `piece` for display, and its spoken form for the voice."""
        pieces = piece.split(self._mark)
        text = pieces[0]
        for item, after in zip(items, pieces[1:], strict=True):
            text += item.text + after
        language = detect_language(text)
        spoken = pieces[0]
        for item, after in zip(items, pieces[1:], strict=True):
            spoken += item.spoken(language, spoken) + after
        return text, spoken

    def _attach(self, text: str, spoken: str) -> None:
        if self._attachable and self._sentences:
            last = self._sentences[-1]
            self._sentences[-1] = replace(last, text=last.text + text, spoken_text=last.spoken_text + spoken)
        else:
            logger.debug("dropping SSML text with nothing to speak: %r", text)

    def _add_pause(self, milliseconds: int) -> None:
        if not self._sentences:
            self._leading_pause_ms += milliseconds
            return
        last = self._sentences[-1]
        total = milliseconds if last.pause_after_ms is None else last.pause_after_ms + milliseconds
        self._sentences[-1] = replace(last, pause_after_ms=total)

    def _paragraph_index(self, serial: int) -> int:
        # Serial numbers also count empty paragraphs, but indices count only those with sentences.
        if serial != self._last_paragraph_serial:
            self._last_paragraph_serial = serial
            self._paragraph_count += 1
        return self._paragraph_count - 1


# ---- attribute values


def _combine(outer: Prosody, inner: Prosody) -> Prosody:
    """Apply `inner` within `outer`: rates and pitches multiply, decibels add."""
    # Rounding keeps equal combinations equal, so they never split a sentence by float noise.
    # Anything at or below SILENT_DB is silent, so quieter sums stop there.
    return Prosody(
        rate=round(outer.rate * inner.rate, 6),
        pitch=round(outer.pitch * inner.pitch, 6),
        volume_db=max(SILENT_DB, round(outer.volume_db + inner.volume_db, 6)),
    )


def _split_number(value: str) -> tuple[str, float, str] | None:
    """Split "+20%" into ("+", 20.0, "%"), or return None when `value` is not a number with optional sign and unit."""
    match = _SIGNED.fullmatch(value.strip().lower())
    if match is None:
        return None
    return match.group(1), float(match.group(2)), match.group(3) or ""


def _parse_rate(value: str) -> float:
    """Parse a prosody rate into a speaking-rate multiplier."""
    if value.lower() in RATE_WORDS:
        return RATE_WORDS[value.lower()]
    usage = (f'prosody rate "{value}" is invalid. Use x-slow, slow, medium, fast or x-fast, a percentage '
             "such as 80% or +20%, or a multiplier such as 1.2.")
    parts = _split_number(value)
    if parts is None:
        raise _InvalidValue(usage)
    sign, number, unit = parts
    if unit == "%" and sign:
        # A signed percentage is a change: +20% is 1.2 times, -20% is 0.8 times.
        rate = 1.0 + (number if sign == "+" else -number) / 100.0
    elif unit == "%":
        rate = number / 100.0
    elif unit == "" and not sign:
        rate = number
    else:
        raise _InvalidValue(usage)
    if rate <= 0.0:
        raise _InvalidValue(f'prosody rate "{value}" gives a speed of {rate:g} times normal. Use a rate above zero, '
                          "such as 50% or -50%.")
    return rate


def _parse_pitch(value: str) -> float:
    """Parse a prosody pitch into a mean-pitch multiplier."""
    if value.lower() in PITCH_WORDS:
        return PITCH_WORDS[value.lower()]
    parts = _split_number(value)
    if parts is not None and parts[2] == "hz":
        raise _InvalidValue(f'prosody pitch "{value}" is in Hz, which is not supported because each voice has a '
                          "fixed pitch range. Use a percentage or semitones instead, such as +10% or -2st.")
    if parts is None or not parts[0] or parts[2] not in ("%", "st"):
        raise _InvalidValue(f'prosody pitch "{value}" is invalid. Use x-low, low, medium, high or x-high, a '
                          "signed percentage such as +10% or -10%, or semitones such as +2st.")
    sign, number, unit = parts
    change = number if sign == "+" else -number
    pitch = 1.0 + change / 100.0 if unit == "%" else 2.0 ** (change / 12.0)
    if pitch <= 0.0:
        raise _InvalidValue(f'prosody pitch "{value}" lowers the pitch to zero or below. Use a change above '
                          "-100%, such as -20%.")
    return round(pitch, 6)


def _parse_volume(value: str) -> float:
    """Parse a prosody volume into a loudness change in dB."""
    if value.lower() in VOLUME_WORDS_DB:
        return VOLUME_WORDS_DB[value.lower()]
    parts = _split_number(value)
    if parts is None or not parts[0] or parts[2] != "db":
        raise _InvalidValue(f'prosody volume "{value}" is invalid. Use silent, x-soft, soft, medium, loud or '
                          "x-loud, or a signed change in decibels such as +6dB or -3dB.")
    sign, number, _ = parts
    return number if sign == "+" else -number


def _parse_break_time(value: str) -> int:
    """Parse a break time such as "500ms" or "1.5s" into whole milliseconds."""
    parts = _split_number(value)
    if parts is None or parts[0] or parts[2] not in ("ms", "s"):
        raise _InvalidValue(f'break time "{value}" is invalid. Use a duration in milliseconds or seconds, '
                          "such as 500ms or 1.5s.")
    _, number, unit = parts
    milliseconds = round(number * 1000.0) if unit == "s" else round(number)
    if milliseconds > MAX_BREAK_MS:
        raise _InvalidValue(f'break time "{value}" is {milliseconds} ms, longer than the maximum of '
                          f"{MAX_BREAK_MS} ms. Check the unit: ms or s.")
    return milliseconds


# ---- say-as


def _read_say_as(kind: str, content: str, date_format: str) -> _SayAs:
    """Validate say-as content and prepare its spoken form."""
    if not content:
        raise _InvalidValue(f'<say-as interpret-as="{kind}"> is empty. Put the text to read inside it.')
    if kind in ("characters", "spell-out"):
        return _SayAs(kind, content, "".join(content.split()))
    if kind == "cardinal":
        match = _GROUPED_NUMBER.fullmatch(content)
        if match is None:
            raise _InvalidValue(f'say-as cardinal "{content}" is not a number. Write digits, optionally '
                              "grouped by commas, such as 1,234,567 or 3.5.")
        sign = "-" if match.group(1) == "-" else ""
        # Grouped with commas, so that neither voice's normaliser takes 1234 for a year.
        whole = int(re.sub(r"\D", "", match.group(2)))
        grouped = f"{whole:,}"
        return _SayAs(kind, content, sign + grouped + (match.group(3) or ""))
    if kind == "ordinal":
        match = _ORDINAL.fullmatch(content)
        if match is None:
            raise _InvalidValue(f'say-as ordinal "{content}" is not a whole number. Write digits such as 21 '
                              "or 21st.")
        return _SayAs(kind, content, str(int(re.sub(r"\D", "", match.group(1)))))
    if kind == "date":
        return _SayAs(kind, content, "", _read_date(content, date_format))
    if kind == "time":
        return _SayAs(kind, content, _read_time(content))
    digits = re.sub(r"\D", "", content)
    if _TELEPHONE.fullmatch(content) is None or not digits:
        raise _InvalidValue(f'say-as telephone "{content}" is not a phone number. Use digits with optional '
                          "+, -, spaces, dots and brackets, such as +86 10-1234-5678.")
    # NOTE: the spoken form keeps only the digits, so a leading + (international prefix) is not read.
    return _SayAs(kind, content, digits)


def _read_date(content: str, date_format: str) -> tuple[int | None, int | None, int | None]:
    fields = re.split(r"[-/.\s]+", content)
    example = {"ymd": "2024-03-05", "mdy": "03/05/2024", "dmy": "05.03.2024", "ym": "2024-03", "md": "03-05"}
    usage = (f'say-as date "{content}" does not match format {date_format}. Write the date as digits '
             f"separated by -, / or ., such as {example[date_format]}.")
    if len(fields) != len(date_format) or not all(field_.isdigit() for field_ in fields):
        raise _InvalidValue(usage)
    parts = dict(zip(date_format, (int(field_) for field_ in fields), strict=True))
    year, month, day = parts.get("y"), parts.get("m"), parts.get("d")
    if "y" in date_format and len(fields[date_format.index("y")]) != 4:
        raise _InvalidValue(f'say-as date "{content}" has a year that is not four digits. Write the full year, '
                          "such as 2024.")
    if month is not None and not 1 <= month <= 12:
        raise _InvalidValue(f'say-as date "{content}" has the month {month}. Use a month from 1 to 12, and '
                          f"check that the format {date_format} matches the order of the fields.")
    if day is not None and month is not None:
        # Without a year, allow 29 February by checking against a leap year.
        last_day = calendar.monthrange(year if year else 2000, month)[1]
        if not 1 <= day <= last_day:
            raise _InvalidValue(f'say-as date "{content}" has the day {day}, but that month has {last_day} days. '
                                f"Check the day and that the format {date_format} matches the order of the fields.")
    return year, month, day


def _read_time(content: str) -> str:
    match = _TIME.fullmatch(content)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59 or int(match.group(3) or 0) > 59:
        raise _InvalidValue(f'say-as time "{content}" is invalid. Write a 24-hour time such as 09:30 or 18:05:30.')
    return content


def _spoken_date(date: tuple[int | None, int | None, int | None], language: Language) -> str:
    year, month, day = date
    if language == "zh":
        return "".join(
            f"{value}{unit}" for value, unit in ((year, "年"), (month, "月"), (day, "日")) if value is not None
        )
    month_name = _MONTH_NAMES[month - 1] if month is not None else ""
    if day is None:
        return f"{month_name} {year}"
    if year is None:
        return f"{month_name} {day}"
    return f"{month_name} {day}, {year}"


def _english_ordinal_suffix(number: int) -> str:
    if number % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


# ---- text


def _normalise_space(text: str) -> str:
    return _WHITESPACE.sub(" ", _CJK_LINE_BREAK.sub("", text)).strip()


def _choose_mark(text: str) -> str:
    """Pick a private-use character absent from `text` to stand for say-as elements while splitting."""
    for code in range(0xE000, 0xF900):
        if chr(code) not in text:
            return chr(code)
    raise AvatarError("ssml_invalid", line=1, column=1,
                      reason="the script uses every private-use character, which the parser needs one of. "
                             "Remove the private-use characters.")
