"""Conversion between audio samples and video frames.

All stage timing is kept in integer audio samples. This module is the one
place where samples become frame indices, so rounding is done the same way
everywhere (frame k shows the instant k / fps, the start of its interval).
"""

from __future__ import annotations

import math


def num_frames_for(num_samples: int, sample_rate: int, fps: int) -> int:
    """Return how many frames cover `num_samples` of audio (the last one partially)."""
    if num_samples <= 0:
        return 0
    return math.ceil(num_samples * fps / sample_rate)


def sample_to_frame(sample: int, sample_rate: int, fps: int) -> int:
    """Return the index of the frame whose interval contains `sample`."""
    return (sample * fps) // sample_rate


def frame_to_sample(frame: int, sample_rate: int, fps: int) -> int:
    """Return the first sample shown by `frame` (the frame's start instant)."""
    return -((-frame * sample_rate) // fps)
