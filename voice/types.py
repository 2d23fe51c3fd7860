"""Typed objects produced by the voice stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Phoneme:
    """One phoneme (or pause) with its span in the waveform.

    Attributes:
        symbol: IPA for the English voice; pinyin initials and finals (with tone
            digit) for the Chinese voice; "sil" for silence and pauses.
        start: first sample, inclusive.
        end: last sample, exclusive.
        segment: index of the plan segment it belongs to.
    """

    symbol: str
    start: int
    end: int
    segment: int


@dataclass(frozen=True)
class Utterance:
    """The spoken script: one waveform and its phoneme timing.

    Invariants (checked by `validate()`): the phoneme spans tile the waveform
    exactly, in order, with no gaps or overlaps, from sample 0 to `len(waveform)`.

    Attributes:
        waveform: float32 mono samples in -1..1, shape [T_s].
        sample_rate: samples per second.
        phonemes: every phoneme and pause, in time order.
        segment_spans: (start, end) samples of each plan segment's speech,
            excluding the pause that follows it; one entry per segment.
        voice: the voice id that spoke it.
        failures: sentences that could not be spoken and became silence, as
            (segment index, reason) pairs; empty when every sentence was spoken.
    """

    waveform: np.ndarray
    sample_rate: int
    phonemes: tuple[Phoneme, ...]
    segment_spans: tuple[tuple[int, int], ...]
    voice: str
    failures: tuple[tuple[int, str], ...] = ()

    @classmethod
    def from_spans(
        cls, waveform: np.ndarray, sample_rate: int, spans: list[tuple[str, int]], segment: int, voice: str
    ) -> Utterance:
        """Build a one-segment utterance from (symbol, length in samples) spans laid end to end.

        Neighbouring "sil" spans merge into one. Raises ValueError when the spans do not
        tile `waveform` exactly.
        """
        phonemes: list[Phoneme] = []
        position = 0
        for symbol, length in spans:
            if phonemes and symbol == "sil" and phonemes[-1].symbol == "sil":
                previous = phonemes.pop()
                phonemes.append(Phoneme("sil", previous.start, position + length, segment))
            else:
                phonemes.append(Phoneme(symbol, position, position + length, segment))
            position += length
        utterance = cls(waveform, sample_rate, tuple(phonemes), ((0, len(waveform)),), voice)
        utterance.validate()
        return utterance

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.waveform) / self.sample_rate

    def validate(self) -> None:
        """Raise ValueError when the phoneme spans do not tile the waveform."""
        if self.waveform.dtype != np.float32 or self.waveform.ndim != 1:
            raise ValueError(f"waveform must be float32 mono, got {self.waveform.dtype} {self.waveform.shape}")
        position = 0
        for phoneme in self.phonemes:
            if phoneme.start != position or phoneme.end <= phoneme.start:
                raise ValueError(f"phoneme {phoneme} does not start at sample {position} or is empty")
            position = phoneme.end
        if position != len(self.waveform):
            raise ValueError(f"phonemes end at sample {position}, waveform has {len(self.waveform)}")
