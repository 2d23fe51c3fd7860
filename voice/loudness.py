"""Integrated loudness (ITU-R BS.1770-4) and loudness normalisation of mono speech.

Loudness is measured in LUFS (loudness units relative to full scale) with the
K-weighting filter, 400 ms blocks overlapping by 75 %, an absolute gate at
-70 LUFS and a relative gate 10 LU below the loudness of the blocks that pass
the absolute gate. A full-scale 997 Hz sine measures -3.01 LUFS.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

from avatar.errors import AvatarError

logger = logging.getLogger(__name__)

# Gating block length and hop, in seconds (BS.1770-4: 400 ms blocks, 75 % overlap).
BLOCK_SECONDS = 0.4
HOP_SECONDS = 0.1
# Blocks quieter than this never count, in LUFS.
ABSOLUTE_GATE_LUFS = -70.0
# Blocks more than this many LU below the absolutely gated loudness do not count.
RELATIVE_GATE_LU = -10.0
# Offset in BS.1770's loudness formula, chosen so that a 997 Hz sine reads its RMS level in dBFS.
LOUDNESS_OFFSET = -0.691

# K-weighting parameters: a high shelf (+4 dB above about 1.7 kHz, the head's
# acoustic effect) and a high-pass (the RLB curve). BS.1770-4 prints the filter
# coefficients only for 48 kHz. The bilinear design below reproduces them from
# these analog values (to 1e-9, see the tests) and so extends them to any rate.
_SHELF_HZ = 1681.974450955533
_SHELF_GAIN_DB = 3.999843853973347
_SHELF_Q = 0.7071752369554196
_SHELF_BANDWIDTH_EXPONENT = 0.4996667741545416
_HIGHPASS_HZ = 38.13547087602444
_HIGHPASS_Q = 0.5003270373238773

# Loudness returned for input with no block above the absolute gate.
SILENCE_LUFS = -math.inf
# The limiter's maximum peak reduction, past which the gain is held back instead. Speech
# mastered for online video commonly takes a few dB of limiting (an estimate, not measured
# here). Then how far its gain curve reaches on each side of a peak, and how many
# measure-and-correct rounds it gets.
MAX_LIMITER_REDUCTION_DB = 9.0
LIMITER_WINDOW_S = 0.01
LIMITER_ROUNDS = 3
# Samples filtered at a time when measuring loudness (about 10 s at 24 kHz).
FILTER_CHUNK = 1 << 18


def k_weighting_filters(
    sample_rate: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Design the two K-weighting biquads for `sample_rate`.

    Returns:
        ((b, a) of the high shelf, (b, a) of the high-pass), each of length 3 with a[0] == 1.
    """
    # 1. High shelf.
    k = math.tan(math.pi * _SHELF_HZ / sample_rate)
    gain = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    band = gain**_SHELF_BANDWIDTH_EXPONENT
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf_b = (
        np.array(
            [gain + band * k / _SHELF_Q + k * k, 2.0 * (k * k - gain), gain - band * k / _SHELF_Q + k * k]
        )
        / a0
    )
    shelf_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _SHELF_Q + k * k) / a0])

    # 2. High-pass.
    k = math.tan(math.pi * _HIGHPASS_HZ / sample_rate)
    a0 = 1.0 + k / _HIGHPASS_Q + k * k
    highpass_b = np.array([1.0, -2.0, 1.0])
    highpass_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HIGHPASS_Q + k * k) / a0])
    return (shelf_b, shelf_a), (highpass_b, highpass_a)


def _check_waveform(waveform: np.ndarray, sample_rate: int) -> None:
    if (
        not isinstance(waveform, np.ndarray)
        or waveform.ndim != 1
        or not np.issubdtype(waveform.dtype, np.floating)
    ):
        raise AvatarError(
            "invalid_waveform", shape=getattr(waveform, "shape", None), dtype=getattr(waveform, "dtype", None)
        )
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AvatarError("invalid_sample_rate", value=sample_rate)


def _block_powers(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """K-weight the audio and return the mean square of each 400 ms gating block, hop 100 ms [T_blocks].

    The filters run over chunks of FILTER_CHUNK samples with their state carried across,
    which gives the same result as one pass. Only the running sum of squares at block
    edges is kept, so memory stays small for scripts of any length.
    """
    block = round(BLOCK_SECONDS * sample_rate)
    hop = round(HOP_SECONDS * sample_rate)
    total = len(waveform)
    if total < block:
        # NOTE: BS.1770 defines no loudness for clips shorter than one block. Such a
        # clip is measured as one shorter block, so short sentences still get a value.
        logger.debug("Clip of %d samples is shorter than one gating block; measured as one block", total)
        starts, edges = np.array([0]), np.array([0, total])
    else:
        starts = np.arange(0, total - block + 1, hop)
        edges = np.unique(np.concatenate(([0], starts, starts + block)))

    # Running sum of squares of the K-weighted signal, sampled at the block edges.
    (shelf_b, shelf_a), (highpass_b, highpass_a) = k_weighting_filters(sample_rate)
    shelf_state = np.zeros(max(len(shelf_a), len(shelf_b)) - 1)
    highpass_state = np.zeros(max(len(highpass_a), len(highpass_b)) - 1)
    sums_at_edges = np.zeros(len(edges))
    running = 0.0
    for offset in range(0, total, FILTER_CHUNK):
        # float64, so the low 38 Hz pole of the high-pass stays stable.
        chunk = waveform[offset : offset + FILTER_CHUNK].astype(np.float64)
        shelved, shelf_state = lfilter(shelf_b, shelf_a, chunk, zi=shelf_state)
        weighted, highpass_state = lfilter(highpass_b, highpass_a, shelved, zi=highpass_state)
        cumulative = running + np.cumsum(weighted * weighted)  # sums up to samples offset+1 ..
        inside = (edges > offset) & (edges <= offset + len(chunk))
        sums_at_edges[inside] = cumulative[edges[inside] - offset - 1]
        running = float(cumulative[-1])

    if total < block:
        return np.array([sums_at_edges[-1] / total])
    index = np.searchsorted(edges, starts)
    return (sums_at_edges[np.searchsorted(edges, starts + block)] - sums_at_edges[index]) / block


def _power_to_lufs(power: float) -> float:
    return LOUDNESS_OFFSET + 10.0 * math.log10(power) if power > 0.0 else SILENCE_LUFS


def integrated_loudness(waveform: np.ndarray, sample_rate: int) -> float:
    """Measure the gated integrated loudness of mono audio (ITU-R BS.1770-4).

    Args:
        waveform: mono samples in -1..1 [T_s], any float dtype.
        sample_rate: samples per second.

    Returns:
        Loudness in LUFS; `-inf` when no block is louder than -70 LUFS (silence or empty input).

    Raises:
        AvatarError: "invalid_waveform" for input that is not 1-D floating point,
            "invalid_sample_rate" for a rate that is not a positive integer.
    """
    _check_waveform(waveform, sample_rate)
    if len(waveform) == 0:
        return SILENCE_LUFS

    # 1. K-weighting, then the mean square per gating block.
    powers = _block_powers(waveform, sample_rate)

    # 2. The absolute gate.
    with np.errstate(divide="ignore"):
        block_lufs = LOUDNESS_OFFSET + 10.0 * np.log10(powers)
    above_absolute = powers[block_lufs > ABSOLUTE_GATE_LUFS]
    if len(above_absolute) == 0:
        return SILENCE_LUFS

    # 3. Relative gate 10 LU below the absolutely gated loudness.
    relative_gate = _power_to_lufs(float(np.mean(above_absolute))) + RELATIVE_GATE_LU
    kept = powers[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
    return _power_to_lufs(float(np.mean(kept)))


def normalize_loudness(
    waveform: np.ndarray,
    sample_rate: int,
    target_lufs: float = -16.0,
    peak_limit: float = 0.98,
    max_reduction_db: float = MAX_LIMITER_REDUCTION_DB,
) -> np.ndarray:
    """Scale mono audio to `target_lufs` integrated loudness without clipping.

    One gain brings the clip to the target. Peaks that the gain lifts above
    `peak_limit` are brought down by a look-ahead peak limiter (`limit_peaks`), not
    clipped: speech has peaks 16-22 dB above its loudness, so -16 LUFS needs a few
    dB of peak reduction. When more than `max_reduction_db` would be needed, the gain
    is held back instead, and a warning logs the loudness reached.

    Args:
        waveform: mono samples in -1..1 [T_s], any float dtype.
        sample_rate: samples per second.
        target_lufs: loudness to reach, in LUFS (-16 suits online video, -23 is EBU R 128 broadcast).
        peak_limit: largest absolute sample allowed after scaling, in 0..1.
        max_reduction_db: most peak reduction the limiter may apply, in dB; 0 disables it.

    Returns:
        float32 samples [T_s]. Silent input (no block above -70 LUFS) comes back unchanged.

    Raises:
        AvatarError: "invalid_waveform", "invalid_sample_rate", or
            "invalid_loudness_target" for a target above 0 LUFS or a peak limit outside 0..1.
    """
    # 1. Check the inputs and measure.
    _check_waveform(waveform, sample_rate)
    if not math.isfinite(target_lufs) or target_lufs > 0.0 or not 0.0 < peak_limit <= 1.0:
        raise AvatarError("invalid_loudness_target", target=target_lufs, peak=peak_limit)
    loudness = integrated_loudness(waveform, sample_rate)
    if not math.isfinite(loudness):
        logger.debug("Silent input of %d samples left unchanged", len(waveform))
        return waveform.astype(np.float32)

    # 2. Choose the gain, held back when the limiter would have to remove too much.
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    peak = float(np.max(np.abs(waveform)))
    ceiling = peak_limit * 10.0 ** (max_reduction_db / 20.0)
    held_back = peak * gain > ceiling
    if held_back:
        gain = ceiling / peak
    scaled = waveform.astype(np.float32) * np.float32(gain)

    # 3. Limit the peaks. Limiting lowers the loudness a little, so the gain is corrected
    #    and the limiter run again. On speech of a few seconds or more two rounds bring it
    #    within about 0.1 LU; a clip of a word or two can stay up to about 1.5 LU short.
    for _ in range(LIMITER_ROUNDS):
        if float(np.max(np.abs(scaled))) <= peak_limit:
            break
        scaled = limit_peaks(scaled, sample_rate, peak_limit)
        if held_back:
            break
        shortfall = target_lufs - integrated_loudness(scaled, sample_rate)
        scaled *= np.float32(10.0 ** (max(0.0, shortfall) / 20.0))
    if float(np.max(np.abs(scaled))) > peak_limit:
        scaled = limit_peaks(scaled, sample_rate, peak_limit)

    reached = integrated_loudness(scaled, sample_rate)
    if held_back:
        logger.warning(
            "Loudness reached %.1f LUFS instead of %.1f LUFS: reaching it would need more than %.0f dB "
            "of peak limiting",
            reached, target_lufs, max_reduction_db,
        )
    elif abs(reached - target_lufs) > 0.5:
        logger.warning("Loudness reached %.1f LUFS instead of %.1f LUFS on a %.2f s clip", reached, target_lufs,
                       len(waveform) / sample_rate)
    return scaled


def limit_peaks(waveform: np.ndarray, sample_rate: int, peak_limit: float) -> np.ndarray:
    """Bring every sample's magnitude to at most `peak_limit` with a smooth gain curve.

    The gain each sample needs is spread over LIMITER_WINDOW_S on both sides by a moving
    minimum, then smoothed by a moving average half as wide. Each averaged value comes
    from minima over windows that contain the sample itself, so the smoothed gain never
    exceeds what the sample needs and the output cannot pass `peak_limit`. The gain moves
    over milliseconds instead of jumping, because a jump would distort like clipping.
    """
    hold = max(1, round(LIMITER_WINDOW_S * sample_rate))
    over = np.flatnonzero(np.abs(waveform) > peak_limit)
    result = waveform.copy()
    if len(over) == 0:
        return result
    # Work only around the peaks: a clip of minutes has a few hundred short regions to
    # limit, and full-length float64 gain curves would cost more memory than the audio.
    breaks = np.flatnonzero(np.diff(over) > 4 * hold)
    for first, last in zip(np.r_[over[0], over[breaks + 1]], np.r_[over[breaks], over[-1]], strict=True):
        start, stop = max(0, first - 2 * hold), min(len(waveform), last + 2 * hold + 1)
        region = waveform[start:stop]
        needed = np.minimum(1.0, peak_limit / np.maximum(np.abs(region), 1e-12))  # [T_region]
        held = minimum_filter1d(needed, size=2 * hold + 1, mode="nearest")
        smooth = uniform_filter1d(held, size=2 * (hold // 2) + 1, mode="nearest")
        # The moving average's float rounding can overshoot by an ulp; never let it pass.
        result[start:stop] = region * np.minimum(smooth, needed)
    return result
