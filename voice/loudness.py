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
# The limiter: most peak reduction it may apply before the gain is held back instead
# (speech mastered for online video commonly takes a few dB), how far its gain curve
# reaches on each side of a peak, and how many measure-and-correct rounds it gets.
MAX_LIMITER_REDUCTION_DB = 9.0
LIMITER_WINDOW_S = 0.01
LIMITER_ROUNDS = 3


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


def _block_powers(weighted: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean square of each 400 ms gating block, hop 100 ms [T_blocks]."""
    block = round(BLOCK_SECONDS * sample_rate)
    hop = round(HOP_SECONDS * sample_rate)
    if len(weighted) < block:
        # NOTE: BS.1770 defines no loudness for clips shorter than one block. Such a
        # clip is measured as one shorter block, so short sentences still get a value.
        logger.debug(
            "Clip of %d samples is shorter than one gating block; measured as one block", len(weighted)
        )
        return np.array([float(np.mean(weighted**2))])
    cumulative = np.concatenate(([0.0], np.cumsum(weighted**2)))
    starts = np.arange(0, len(weighted) - block + 1, hop)
    return (cumulative[starts + block] - cumulative[starts]) / block


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

    # 1. K-weighting, in float64 so the low 38 Hz pole stays stable.
    (shelf_b, shelf_a), (highpass_b, highpass_a) = k_weighting_filters(sample_rate)
    weighted = lfilter(highpass_b, highpass_a, lfilter(shelf_b, shelf_a, waveform.astype(np.float64)))

    # 2. Mean square per gating block, then the absolute gate.
    powers = _block_powers(weighted, sample_rate)
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
    scaled = waveform.astype(np.float64) * gain

    # 3. Limit the peaks. Limiting lowers the loudness a little, so the gain is corrected
    #    and the limiter run again; two rounds bring it within about 0.1 LU.
    for _ in range(LIMITER_ROUNDS):
        if float(np.max(np.abs(scaled))) <= peak_limit:
            break
        scaled = limit_peaks(scaled, sample_rate, peak_limit)
        if held_back:
            break
        shortfall = target_lufs - integrated_loudness(scaled, sample_rate)
        scaled *= 10.0 ** (max(0.0, shortfall) / 20.0)
    if float(np.max(np.abs(scaled))) > peak_limit:
        scaled = limit_peaks(scaled, sample_rate, peak_limit)

    if held_back:
        logger.warning(
            "Loudness reached %.1f LUFS instead of %.1f LUFS: reaching it would need more than %.0f dB "
            "of peak limiting",
            integrated_loudness(scaled, sample_rate), target_lufs, max_reduction_db,
        )
    return scaled.astype(np.float32)


def limit_peaks(waveform: np.ndarray, sample_rate: int, peak_limit: float) -> np.ndarray:
    """Bring every sample's magnitude to at most `peak_limit` with a smooth gain curve.

    The gain each sample needs is spread over LIMITER_WINDOW_S on both sides by a moving
    minimum, then smoothed by a moving average half as wide. Each averaged value comes
    from minima over windows that contain the sample itself, so the smoothed gain never
    exceeds what the sample needs: the output cannot pass `peak_limit`, and the gain
    moves over milliseconds instead of jumping, which would distort like clipping.
    """
    hold = max(1, round(LIMITER_WINDOW_S * sample_rate))
    magnitude = np.abs(waveform)
    needed = np.minimum(1.0, peak_limit / np.maximum(magnitude, 1e-12))  # [T_s]
    held = minimum_filter1d(needed, size=2 * hold + 1, mode="nearest")
    smooth = uniform_filter1d(held, size=2 * (hold // 2) + 1, mode="nearest")
    # The moving average's float rounding can overshoot by an ulp; never let it pass.
    return waveform * np.minimum(smooth, needed)
