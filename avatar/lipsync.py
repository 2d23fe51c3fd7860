"""Lip-sync measurement from a finished video file alone (no SyncNet weights needed).

Method:

1. Decode every video frame and track the face with mediapipe FaceMesh (video
   mode, refined landmarks, one face). Per frame, with the face height being
   the distance from forehead landmark 10 to chin landmark 152:
   - mouth opening: inner-lip gap, landmarks 13 to 14, over the face height;
   - mouth width: lip corners 61 to 291, over the face height;
   - lip-corner height: how far the mean of the corners lies above the mouth
     centre (the middle of 13 and 14) along the face's vertical axis, over
     the face height. It is positive when the corners are up, as in a smile;
   - inner-brow height: inner brow points (55, 107, 285, 336) above the eye
     centres (lids 159, 145, 386, 374), along the same axis, over the face
     height.
   Frames where no face is found are counted and left out (NaN).
2. Decode the audio to 16 kHz mono and take the RMS level in dB over each
   video frame's interval. The speech level is the 95th percentile of the
   10 ms window levels; levels are floored 40 dB below it so that digital
   silence does not dominate the correlation.
3. Pearson-correlate mouth opening with loudness at lags -5..+5 frames. A
   positive lag means the mouth moves that many frames after the sound. The
   peak lag should be 0 (or ±1) for good sync, with a clearly positive peak.
4. Find silences: runs of 10 ms windows at least 30 dB below the speech level
   lasting at least 300 ms. For each, take the largest mouth opening over the
   frames inside it, skipping the first and last frame to allow for
   coarticulation, and divide by the median opening during speech. A closed
   mouth in pauses gives a ratio well below 1.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from avatar.errors import AvatarError
from avatar.media import audio_decode_command, probe
from avatar.timing import frame_to_sample

logger = logging.getLogger(__name__)

ANALYSIS_SAMPLE_RATE = 16_000
MAX_LAG_FRAMES = 5
MIN_SILENCE_SECONDS = 0.3
SILENCE_BELOW_SPEECH_DB = 30.0
FLOOR_BELOW_SPEECH_DB = 40.0
_WINDOW_SECONDS = 0.01
_SPEECH_PERCENTILE = 95

# FaceMesh landmark indices (478-point topology with refined landmarks).
_FOREHEAD, _CHIN = 10, 152
_UPPER_INNER_LIP, _LOWER_INNER_LIP = 13, 14
_LEFT_MOUTH_CORNER, _RIGHT_MOUTH_CORNER = 61, 291
_INNER_BROWS = (55, 107, 285, 336)
_EYELIDS = (159, 145, 386, 374)


@dataclass(frozen=True)
class Silence:
    """A pause in the audio.

    Attributes:
        start: start in seconds.
        end: end in seconds.
        max_opening_ratio: largest mouth opening inside the pause (edge frames
            skipped) over the median opening during speech; None when no frame
            inside it has a face.
    """

    start: float
    end: float
    max_opening_ratio: float | None


@dataclass(frozen=True)
class LipSyncReport:
    """The lip-sync measurement of one video: mouth motion against audio loudness.

    Per-frame arrays have shape [T_f], NaN where no face was found, and every
    face measure is divided by the face height (landmark 10 to 152).

    Attributes:
        path: the video measured.
        fps: its frame rate.
        num_frames: frames decoded.
        frames_without_face: frames where FaceMesh found no face.
        lags: lags tried, in frames, [-MAX_LAG_FRAMES..MAX_LAG_FRAMES].
        correlations: Pearson correlation of opening and loudness at each lag
            (NaN where too few frames overlap).
        peak_lag_frames: the lag with the highest correlation; positive means
            the mouth lags the sound.
        peak_correlation: the correlation at that lag.
        correlation_at_zero: the correlation at lag 0.
        silences: pauses of at least MIN_SILENCE_SECONDS.
        max_silence_opening_ratio: the largest `max_opening_ratio` over the
            silences; None without silences or without faces inside them.
        speech_median_opening: median mouth opening over frames with speech.
        mouth_opening: inner-lip gap per frame.
        mouth_width: lip-corner distance per frame.
        lip_corner_height: lip corners above the mouth centre per frame.
        inner_brow_height: inner brows above the eye centres per frame.
        loudness_db: floored RMS level per frame, in dB relative to full scale.
        speech_frames: True for frames at speech level and outside silences.
    """

    path: Path
    fps: float
    num_frames: int
    frames_without_face: int
    lags: np.ndarray
    correlations: np.ndarray
    peak_lag_frames: int
    peak_correlation: float
    correlation_at_zero: float
    silences: tuple[Silence, ...]
    max_silence_opening_ratio: float | None
    speech_median_opening: float
    mouth_opening: np.ndarray
    mouth_width: np.ndarray
    lip_corner_height: np.ndarray
    inner_brow_height: np.ndarray
    loudness_db: np.ndarray
    speech_frames: np.ndarray


@dataclass(frozen=True)
class FaceMeasures:
    """Face measures per frame, each of shape [T_f] and NaN where no face was found."""

    mouth_opening: np.ndarray
    mouth_width: np.ndarray
    lip_corner_height: np.ndarray
    inner_brow_height: np.ndarray

    @property
    def frames_without_face(self) -> int:
        return int(np.isnan(self.mouth_opening).sum())


def measure_lipsync(path: str | os.PathLike[str], max_lag: int = MAX_LAG_FRAMES) -> LipSyncReport:
    """Measure lip sync of the video at `path` from its own frames and audio (method in the module docstring)."""
    # 1. Streams and frame timing.
    path = Path(path)
    info = probe(path)
    if info.video_codec is None or not info.fps:
        raise AvatarError("no_video_stream", path=str(path))
    if info.audio_codec is None:
        raise AvatarError("no_audio_stream", path=str(path))
    # A rational frame rate lets avatar.timing map frames to samples exactly,
    # including NTSC rates such as 29.97.
    rate = Fraction(info.fps).limit_denominator(1001)

    # 2. Face measures per frame.
    face = measure_face(path)
    num_frames = len(face.mouth_opening)
    if face.frames_without_face:
        logger.warning("no face found in %d of %d frames of %s", face.frames_without_face, num_frames, path)

    # 3. Loudness per frame and silences.
    audio = decode_audio(path, ANALYSIS_SAMPLE_RATE)
    window = round(_WINDOW_SECONDS * ANALYSIS_SAMPLE_RATE)
    window_db = _level_db(audio[: len(audio) // window * window].reshape(-1, window))  # (T_w,)
    speech_level = float(np.percentile(window_db, _SPEECH_PERCENTILE)) if len(window_db) else -100.0
    frame_starts = [
        frame_to_sample(index * rate.denominator, ANALYSIS_SAMPLE_RATE, rate.numerator)
        for index in range(num_frames + 1)
    ]
    loudness = np.array(
        [_level_db(audio[frame_starts[k] : frame_starts[k + 1]][None, :])[0] for k in range(num_frames)]
    )
    loudness = np.maximum(loudness, speech_level - FLOOR_BELOW_SPEECH_DB)
    silence_spans = _find_silences(window_db, speech_level - SILENCE_BELOW_SPEECH_DB, window)

    # 4. Speech frames: loud enough and not inside a silence.
    speech = loudness >= speech_level - SILENCE_BELOW_SPEECH_DB
    frames_in_silences: list[np.ndarray] = []
    for start, end in silence_spans:
        first = _first_frame_at_or_after(start, frame_starts)
        last = _first_frame_at_or_after(end, frame_starts)  # exclusive
        # Frames wholly inside the pause, less one frame at each edge.
        inside = np.arange(first, min(last - 1, num_frames))
        speech[first : min(last, num_frames)] = False
        frames_in_silences.append(inside[1:-1] if len(inside) > 2 else inside[:0])
    speech_openings = face.mouth_opening[speech & ~np.isnan(face.mouth_opening)]
    speech_median = float(np.median(speech_openings)) if len(speech_openings) else float("nan")

    silences = []
    for (start, end), frames in zip(silence_spans, frames_in_silences, strict=True):
        openings = face.mouth_opening[frames]
        openings = openings[~np.isnan(openings)]
        ratio = None
        if len(openings) and speech_median > 0:
            ratio = float(openings.max() / speech_median)
        silences.append(Silence(start / ANALYSIS_SAMPLE_RATE, end / ANALYSIS_SAMPLE_RATE, ratio))
    ratios = [silence.max_opening_ratio for silence in silences if silence.max_opening_ratio is not None]

    # 5. Cross-correlation over lags.
    lags = np.arange(-max_lag, max_lag + 1)
    correlations = np.array([_lagged_correlation(face.mouth_opening, loudness, int(lag)) for lag in lags])
    if np.all(np.isnan(correlations)):
        peak_index = max_lag
    else:
        peak_index = int(np.nanargmax(correlations))

    report = LipSyncReport(
        path=path,
        fps=float(info.fps),
        num_frames=num_frames,
        frames_without_face=face.frames_without_face,
        lags=lags,
        correlations=correlations,
        peak_lag_frames=int(lags[peak_index]),
        peak_correlation=float(correlations[peak_index]),
        correlation_at_zero=float(correlations[max_lag]),
        silences=tuple(silences),
        max_silence_opening_ratio=max(ratios) if ratios else None,
        speech_median_opening=speech_median,
        mouth_opening=face.mouth_opening,
        mouth_width=face.mouth_width,
        lip_corner_height=face.lip_corner_height,
        inner_brow_height=face.inner_brow_height,
        loudness_db=loudness,
        speech_frames=speech,
    )
    logger.info(
        "lip sync of %s: peak lag %+d frames, correlation %.3f (%.3f at 0), %d silences, silence ratio %s",
        path, report.peak_lag_frames, report.peak_correlation, report.correlation_at_zero, len(silences),
        "n/a" if report.max_silence_opening_ratio is None else f"{report.max_silence_opening_ratio:.2f}",
    )  # fmt: skip
    return report


def measure_lipsync_window(path: str | os.PathLike[str], start: float, seconds: float, folder: Path,
                           max_lag: int = MAX_LAG_FRAMES) -> LipSyncReport:
    """Measure lip sync on the part of a video from `start` for `seconds`, cut into `folder`.

    Comparing windows from the start, middle and end of a long video shows drift: with none,
    each window peaks at the same lag.
    """
    # Accurate seek, with the video re-encoded and the audio kept as PCM: an AAC re-encode would
    # add encoder delay and shift the audio against the frames being measured.
    clip = Path(folder) / f"{Path(path).stem}.{start:.2f}s.mkv"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(path), "-ss", f"{start:.3f}",
               "-t", f"{seconds:.3f}", "-c:v", "libx264", "-crf", "12", "-c:a", "pcm_s16le", str(clip)]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip() or f"ffmpeg exit code {result.returncode}"
        raise AvatarError("file_unreadable", path=str(path), reason=reason.splitlines()[-1])
    return measure_lipsync(clip, max_lag)


def measure_face(path: str | os.PathLike[str]) -> FaceMeasures:
    """Track the face through every frame of the video and return its measures per frame."""
    # Imported here because mediapipe takes seconds to import and most callers
    # of this package never measure lip sync.
    import mediapipe as mp

    frames = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(frames)
    width, height = meta["size"]
    rows: list[tuple[float, float, float, float]] = []
    nan_row = (np.nan, np.nan, np.nan, np.nan)
    try:
        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=True
        ) as face_mesh:
            for raw in frames:
                image = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
                result = face_mesh.process(image)
                if not result.multi_face_landmarks:
                    rows.append(nan_row)
                    continue
                points = np.array(
                    [(point.x * width, point.y * height) for point in result.multi_face_landmarks[0].landmark]
                )  # (N, 2) pixels
                rows.append(_measures_from_landmarks(points))
    finally:
        frames.close()
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)  # (T_f, 4)
    return FaceMeasures(
        mouth_opening=table[:, 0],
        mouth_width=table[:, 1],
        lip_corner_height=table[:, 2],
        inner_brow_height=table[:, 3],
    )


def _measures_from_landmarks(points: np.ndarray) -> tuple[float, float, float, float]:
    """Return (opening, width, corner height, brow height) from (N, 2) landmark pixels."""
    up = points[_FOREHEAD] - points[_CHIN]
    face_height = float(np.linalg.norm(up))
    if face_height <= 0:
        return (np.nan, np.nan, np.nan, np.nan)
    up /= face_height

    opening = np.linalg.norm(points[_UPPER_INNER_LIP] - points[_LOWER_INNER_LIP])
    width = np.linalg.norm(points[_LEFT_MOUTH_CORNER] - points[_RIGHT_MOUTH_CORNER])
    mouth_centre = (points[_UPPER_INNER_LIP] + points[_LOWER_INNER_LIP]) / 2
    corners = (points[_LEFT_MOUTH_CORNER] + points[_RIGHT_MOUTH_CORNER]) / 2
    corner_height = float(np.dot(corners - mouth_centre, up))
    brow_height = float(
        np.dot(points[list(_INNER_BROWS)].mean(axis=0) - points[list(_EYELIDS)].mean(axis=0), up)
    )
    return (
        float(opening) / face_height,
        float(width) / face_height,
        corner_height / face_height,
        brow_height / face_height,
    )


def decode_audio(path: str | os.PathLike[str], sample_rate: int) -> np.ndarray:
    """Decode the first audio stream to float32 mono at `sample_rate`, shape [T_s]."""
    result = subprocess.run(
        audio_decode_command(path, "f32le", sample_rate),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip() or f"ffmpeg exit code {result.returncode}"
        raise AvatarError("file_unreadable", path=str(path), reason=reason.splitlines()[-1])
    return np.frombuffer(result.stdout, dtype=np.float32)


def _level_db(windows: np.ndarray) -> np.ndarray:
    """Return the RMS level in dBFS of each row of `windows` (B, T); -100 for empty rows."""
    if windows.shape[1] == 0:
        return np.full(windows.shape[0], -100.0)
    power = np.mean(np.square(windows, dtype=np.float64), axis=1)
    return 10.0 * np.log10(power + 1e-10)


def _find_silences(window_db: np.ndarray, threshold_db: float, window: int) -> list[tuple[int, int]]:
    """Return (start, end) samples of runs of windows below `threshold_db` lasting MIN_SILENCE_SECONDS."""
    quiet = np.concatenate([[False], window_db < threshold_db, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    spans = []
    for start_window, end_window in zip(edges[::2], edges[1::2], strict=True):
        if (end_window - start_window) * _WINDOW_SECONDS >= MIN_SILENCE_SECONDS - 1e-9:
            spans.append((int(start_window) * window, int(end_window) * window))
    return spans


def _first_frame_at_or_after(sample: int, frame_starts: list[int]) -> int:
    """Return the first frame whose start is at or after `sample`."""
    return int(np.searchsorted(frame_starts, sample, side="left"))


def _lagged_correlation(opening: np.ndarray, loudness: np.ndarray, lag: int) -> float:
    """Return the Pearson correlation of opening[t + lag] with loudness[t] over valid frames."""
    if lag >= 0:
        x, y = opening[lag:], loudness[: len(loudness) - lag]
    else:
        x, y = opening[:lag], loudness[-lag:]
    valid = ~(np.isnan(x) | np.isnan(y))
    x, y = x[valid], y[valid]
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    x = (x - x.mean()) / x.std()
    y = (y - y.mean()) / y.std()
    return float(np.mean(x * y))
