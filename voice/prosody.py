"""Emotional prosody: speaking rate, pitch level, pitch range and loudness per emotion.

Neither voice model exposes emotion, so each emotion is rendered with four
controls. The speaking rate goes into the model (FastSpeech2 `speed_ratios`,
piper `length_scale`), which keeps the phoneme timing exact. Pitch is changed
afterwards with Praat's PSOLA (through parselmouth), which leaves the length of
the audio unchanged, so the phoneme spans stay valid.

Profiles at full intensity (intensity 0..1 scales each value's distance from neutral):

| emotion   | speed | mean F0 | F0 range | gain (dB) | pauses |
|-----------|-------|---------|----------|-----------|--------|
| neutral   | 1.00  | x1.00   | x1.00    |  0.0      | x1.00  |
| happy     | 1.10  | x1.12   | x1.30    | +1.5      | x0.90  |
| sad       | 0.82  | x0.92   | x0.70    | -3.0      | x1.30  |
| angry     | 1.08  | x1.06   | x1.35    | +4.5      | x0.85  |
| surprised | 1.05  | x1.15   | x1.45    | +2.0      | x0.90  |
| fearful   | 1.12  | x1.10   | x0.85    | -1.0      | x0.85  |
| disgusted | 0.92  | x0.95   | x0.90    |  0.0      | x1.10  |

Speed above 1 is faster. Pauses multiplies the silence after the sentence (sad
speakers pause longer, agitated ones shorter). Mean F0 multiplies the pitch; F0 range multiplies the
excursions around the sentence's median pitch on a log-frequency scale. The
directions follow the usual findings on vocal emotion: joy and anger are faster,
higher and wider, sadness slower, lower, narrower and softer, fear fast and high
with a narrow range. The amounts are this project's choice, tuned by ear and
checked by measurement (tests/voice/test_prosody_measured.py). The piper voice
slowed by only 6-7 % when asked for 0.86, so sad uses 0.82 to speak at least
8 % slower. Angry gets +4.5 dB because the loudness stage's peak limiter takes
back part of a loud sentence's gain (+2.65 dB measured before limiting fell to
+1.9 dB after it at +3.5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from avatar.errors import AvatarError
from emotion.types import EMOTIONS

logger = logging.getLogger(__name__)

# Highest peak after the gain: just under full scale, so nothing clips.
PEAK_LIMIT = 0.98
# Praat pitch analysis step, in seconds (Praat's own default for manipulation).
PITCH_TIME_STEP = 0.01


@dataclass(frozen=True)
class ProsodyProfile:
    """The voice changes that express one emotion.

    Attributes:
        speed: speaking-rate factor; above 1 is faster.
        f0_shift: multiplier of the mean pitch; above 1 is higher.
        f0_range: multiplier of pitch excursions (log scale); above 1 is livelier.
        gain_db: loudness change in decibels; positive is louder.
        pause_scale: multiplier of the pause after the sentence; above 1 is longer.
    """

    speed: float = 1.0
    f0_shift: float = 1.0
    f0_range: float = 1.0
    gain_db: float = 0.0
    pause_scale: float = 1.0

    @property
    def changes_pitch(self) -> bool:
        return abs(self.f0_shift - 1.0) > 1e-3 or abs(self.f0_range - 1.0) > 1e-3


PROFILES: dict[str, ProsodyProfile] = {
    "neutral": ProsodyProfile(),
    "happy": ProsodyProfile(speed=1.10, f0_shift=1.12, f0_range=1.30, gain_db=1.5, pause_scale=0.90),
    "sad": ProsodyProfile(speed=0.82, f0_shift=0.92, f0_range=0.70, gain_db=-3.0, pause_scale=1.30),
    "angry": ProsodyProfile(speed=1.08, f0_shift=1.06, f0_range=1.35, gain_db=4.5, pause_scale=0.85),
    "surprised": ProsodyProfile(speed=1.05, f0_shift=1.15, f0_range=1.45, gain_db=2.0, pause_scale=0.90),
    "fearful": ProsodyProfile(speed=1.12, f0_shift=1.10, f0_range=0.85, gain_db=-1.0, pause_scale=0.85),
    "disgusted": ProsodyProfile(speed=0.92, f0_shift=0.95, f0_range=0.90, gain_db=0.0, pause_scale=1.10),
}


def profile_for(emotion: str, intensity: float) -> ProsodyProfile:
    """Return the profile of `emotion` scaled by `intensity` (0: neutral, 1: full).

    Raises:
        AvatarError: for an unknown emotion or an intensity outside 0..1.
    """
    if emotion not in PROFILES:
        raise AvatarError("invalid_emotion", value=emotion, choices=", ".join(EMOTIONS))
    if not 0.0 <= intensity <= 1.0:
        raise AvatarError("invalid_intensity", value=intensity)
    full = PROFILES[emotion]
    return ProsodyProfile(
        speed=1.0 + (full.speed - 1.0) * intensity,
        f0_shift=1.0 + (full.f0_shift - 1.0) * intensity,
        f0_range=1.0 + (full.f0_range - 1.0) * intensity,
        gain_db=full.gain_db * intensity,
        pause_scale=1.0 + (full.pause_scale - 1.0) * intensity,
    )


def shift_pitch(
    waveform: np.ndarray,
    sample_rate: int,
    f0_shift: float,
    f0_range: float,
    pitch_floor: float,
    pitch_ceiling: float,
) -> np.ndarray:
    """Raise or lower the pitch and widen or narrow its range, keeping the length.

    Praat's pitch track (`To Manipulation`) is used rather than a WORLD tracker,
    which locks onto the second harmonic of low male voices. Each pitch point f
    becomes `median * f0_shift * (f / median) ** f0_range`, and PSOLA
    (overlap-add) resynthesises the sound.

    Args:
        waveform: float32 mono samples [T_s].
        pitch_floor, pitch_ceiling: the voice's pitch search range in Hz.

    Returns:
        float32 samples [T_s], the same length as `waveform`.
    """
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(waveform.astype(np.float64), sampling_frequency=sample_rate)
    manipulation = call(sound, "To Manipulation", PITCH_TIME_STEP, pitch_floor, pitch_ceiling)
    pitch_tier = call(manipulation, "Extract pitch tier")
    if call(pitch_tier, "Get number of points") == 0:
        logger.debug("No voiced frames found; pitch left unchanged")
        return waveform.astype(np.float32)
    # The median is robust to octave errors at voicing edges.
    pitch = sound.to_pitch(PITCH_TIME_STEP, pitch_floor, pitch_ceiling)
    median = call(pitch, "Get quantile", 0.0, 0.0, 0.5, "Hertz")
    if not np.isfinite(median) or median <= 0:
        logger.debug("No median pitch found; pitch left unchanged")
        return waveform.astype(np.float32)
    call(pitch_tier, "Formula", f"{median * f0_shift} * (self / {median}) ^ {f0_range}")
    call([pitch_tier, manipulation], "Replace pitch tier")
    resynthesised = call(manipulation, "Get resynthesis (overlap-add)")
    samples = resynthesised.values[0].astype(np.float32)  # [T_s'], within a few samples of T_s

    # Overlap-add may end a few samples early or late: restore the exact length
    # so that the phoneme spans still tile the waveform.
    output = np.zeros(len(waveform), np.float32)
    length = min(len(samples), len(waveform))
    output[:length] = samples[:length]
    return output


def apply_gain(waveform: np.ndarray, gain_db: float, peak_limit: float = PEAK_LIMIT) -> np.ndarray:
    """Scale by `gain_db`, then lower the whole signal if its peak would exceed `peak_limit`."""
    scaled = waveform * np.float32(10.0 ** (gain_db / 20.0))
    peak = float(np.max(np.abs(scaled))) if len(scaled) else 0.0
    if peak > peak_limit:
        logger.debug("Gain of %.1f dB limited to keep the peak at %.2f", gain_db, peak_limit)
        scaled *= np.float32(peak_limit / peak)
    return scaled.astype(np.float32)


def normalize_peak(waveform: np.ndarray, peak: float) -> np.ndarray:
    """Scale so the largest absolute sample is `peak`; silence stays silence."""
    current = float(np.max(np.abs(waveform))) if len(waveform) else 0.0
    if current < 1e-6:
        return waveform.astype(np.float32)
    return (waveform * np.float32(peak / current)).astype(np.float32)


def apply_prosody(
    waveform: np.ndarray,
    sample_rate: int,
    profile: ProsodyProfile,
    pitch_floor: float,
    pitch_ceiling: float,
) -> np.ndarray:
    """Apply a profile's pitch and gain to speech already spoken at its speed.

    Returns:
        float32 samples of exactly the input length.
    """
    output = waveform.astype(np.float32)
    if profile.changes_pitch:
        output = shift_pitch(output, sample_rate, profile.f0_shift, profile.f0_range, pitch_floor, pitch_ceiling)
    return apply_gain(output, profile.gain_db)
