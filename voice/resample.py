"""Change an Utterance's sample rate while keeping its phoneme timing exact."""

from __future__ import annotations

import logging
from math import gcd

import numpy as np

from avatar.errors import AvatarError
from voice.types import Phoneme, Utterance

logger = logging.getLogger(__name__)


def _scale_boundaries(ends: list[int], old_rate: int, new_rate: int, new_length: int) -> list[int]:
    """Map phoneme end samples to the new rate, keeping every span at least one sample.

    The last end is fixed to `new_length`, so the spans tile the new waveform.
    """
    scaled = [round(end * new_rate / old_rate) for end in ends]
    scaled[-1] = new_length
    # Very short phonemes can round to zero length: push ends forward, then pull
    # them back from the fixed last end, so each span keeps at least one sample.
    previous = 0
    for index in range(len(scaled)):
        scaled[index] = max(scaled[index], previous + 1)
        previous = scaled[index]
    following = new_length + 1
    for index in range(len(scaled) - 1, -1, -1):
        scaled[index] = min(scaled[index], following - 1)
        following = scaled[index]
    return scaled


def resample(utterance: Utterance, sample_rate: int) -> Utterance:
    """Return `utterance` at `sample_rate`, resampled with a polyphase filter.

    Phoneme boundaries are scaled and rounded, and the last one is set to the
    new length, so the spans still tile the waveform. Segment spans move with
    the phoneme boundaries they share.

    Raises:
        AvatarError: when `sample_rate` is not a positive integer.
    """
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AvatarError("invalid_sample_rate", value=sample_rate)
    if sample_rate == utterance.sample_rate:
        return utterance
    from scipy.signal import resample_poly

    old_rate = utterance.sample_rate
    divisor = gcd(sample_rate, old_rate)
    samples = resample_poly(utterance.waveform.astype(np.float64), sample_rate // divisor, old_rate // divisor)
    # The anti-aliasing filter can overshoot slightly past full scale.
    waveform = np.clip(samples, -1.0, 1.0).astype(np.float32)
    if len(waveform) < len(utterance.phonemes):
        raise AvatarError("invalid_sample_rate", value=sample_rate)

    ends = [phoneme.end for phoneme in utterance.phonemes]
    mapping = {0: 0}
    phonemes: list[Phoneme] = []
    if ends:
        new_ends = _scale_boundaries(ends, old_rate, sample_rate, len(waveform))
        start = 0
        for phoneme, end in zip(utterance.phonemes, new_ends, strict=True):
            phonemes.append(Phoneme(phoneme.symbol, start, end, phoneme.segment))
            mapping[phoneme.end] = end
            start = end

    def move(sample: int) -> int:
        if sample in mapping:
            return mapping[sample]
        return min(round(sample * sample_rate / old_rate), len(waveform))

    spans = tuple((move(start), move(end)) for start, end in utterance.segment_spans)
    result = Utterance(waveform, sample_rate, tuple(phonemes), spans, utterance.voice, utterance.failures)
    result.validate()
    logger.debug("Resampled %s from %d Hz to %d Hz", utterance.voice, old_rate, sample_rate)
    return result
