"""Typed objects produced by the emotion stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Language = Literal["zh", "en"]
Source = Literal["lexicon", "override", "classifier", "preset", "plan", "none"]

# One label space for every stage. Order is fixed: it indexes embeddings later.
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted")

# (valence, arousal) per label, each in -1..1, after Russell's circumplex model
# of affect; the values place each basic emotion in its usual quadrant.
VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happy": (0.8, 0.5),
    "sad": (-0.7, -0.4),
    "angry": (-0.6, 0.8),
    "surprised": (0.2, 0.8),
    "fearful": (-0.6, 0.6),
    "disgusted": (-0.7, 0.3),
}


@dataclass(frozen=True)
class Prosody:
    """Explicit voice changes for one sentence, on top of its emotion (from SSML).

    Attributes:
        rate: speaking-rate multiplier; above 1 is faster.
        pitch: mean-pitch multiplier; above 1 is higher.
        volume_db: loudness change in decibels; positive is louder.
    """

    rate: float = 1.0
    pitch: float = 1.0
    volume_db: float = 0.0


@dataclass(frozen=True)
class Segment:
    """One sentence of the script with its emotion.

    Attributes:
        index: position in the plan, from 0.
        text: the sentence as it is shown in subtitles (inline tags removed).
        language: "zh" or "en".
        emotion: a label from `EMOTIONS`.
        intensity: 0 (barely) .. 1 (strongest).
        valence: -1 (negative) .. 1 (positive), scaled by intensity.
        arousal: -1 (calm) .. 1 (excited), scaled by intensity.
        source: where the label came from: "classifier" or "lexicon" (the labeller), "override"
            (an inline tag, SSML or --emotion), "plan" (an edited plan file) or "preset" (the
            style preset's arc changed the labeller's label; see `emotion.arc`), or "none"
            (no labeller ran: `avatar normalize` only needs the sentences).
        paragraph: index of the blank-line paragraph the sentence belongs to.
        pause_after_ms: silence after the sentence, in milliseconds.
        spoken_text: what the voice reads when it differs from `text` (SSML say-as); None: `text`.
        prosody: explicit rate, pitch and volume changes (SSML prosody and emphasis).
        pause_fixed: whether `pause_after_ms` was set explicitly (SSML break), so the
            emotion must not stretch or shorten it.
        pause_before_ms: silence before the sentence, in milliseconds (an SSML break before
            the first sentence); 0 otherwise.
    """

    index: int
    text: str
    language: Language
    emotion: str
    intensity: float
    valence: float
    arousal: float
    source: Source
    paragraph: int = 0
    pause_after_ms: int = 0
    spoken_text: str | None = None
    prosody: Prosody = field(default_factory=Prosody)
    pause_fixed: bool = False
    pause_before_ms: int = 0


@dataclass(frozen=True)
class Notice:
    """A warning for the user, kept as a message key so it can be shown in either language.

    Attributes:
        key: message key in `avatar.i18n.MESSAGES`.
        params: values for the message template.
    """

    key: str
    params: dict[str, object] = field(default_factory=dict)

    def message(self, language: str | None = None) -> str:
        """Format the notice in `language` ("zh" or "en"; None: the UI language)."""
        from avatar.i18n import translate

        return translate(self.key, language, **self.params)


@dataclass(frozen=True)
class EmotionPlan:
    """The script as sentences with emotions, in reading order.

    Attributes:
        segments: the sentences; never empty.
        language: the script's main language, which selects the voice.
        warnings: notes for the user about the script, such as an unknown bracketed tag.
        preset: the style preset that shaped the emotions (`emotion.arc.PRESETS`).
        ramp_ms: time over which the face moves from one sentence's emotion to the next.
    """

    segments: tuple[Segment, ...]
    language: Language
    warnings: tuple[Notice, ...] = field(default=())
    preset: str = "vlog"
    ramp_ms: int = 300
