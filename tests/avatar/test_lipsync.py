"""Lip-sync measurement on synthetic talking videos made from a real portrait.

The test opens the portrait's mouth (the jaw is warped down and the gap
painted dark) in step with tone bursts, encodes the result with VideoEncoder,
and checks that measure_lipsync finds the offset that was built in.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from avatar.encode import VideoEncoder
from avatar.errors import AvatarError
from avatar.lipsync import measure_lipsync
from avatar.timing import frame_to_sample, num_frames_for

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PORTRAIT = DATA / "portraits" / "p02_real_frontal_man_mead60.png"
FPS = 25
SAMPLE_RATE = 16000
SIZE = 256
SHIFT_FRAMES = 3

pytestmark = pytest.mark.skipif(not PORTRAIT.is_file(), reason=f"real test data not found: {PORTRAIT}")


def burst_amplitudes(num_frames: int, seed: int = 7) -> np.ndarray:
    """Per-frame tone amplitude: bursts of random length and level between silences."""
    rng = np.random.default_rng(seed)
    amplitudes = np.zeros(num_frames)
    frame = 3
    while frame < num_frames - 3:
        length = int(rng.integers(3, 9))
        amplitudes[frame : frame + length] = rng.uniform(0.25, 0.8)
        frame += length
        # Short gaps inside phrases, and pauses of at least 300 ms between them.
        frame += int(rng.choice([2, 3, 9, 11]))
    return amplitudes


def tone_bursts(amplitudes: np.ndarray) -> np.ndarray:
    """A 220 Hz tone whose amplitude follows `amplitudes`, one value per video frame."""
    num_samples = frame_to_sample(len(amplitudes), SAMPLE_RATE, FPS)
    frame_of_sample = np.arange(num_samples) * FPS // SAMPLE_RATE
    envelope = amplitudes[frame_of_sample]
    # 4 ms ramps avoid clicks, which would spread energy into silent frames.
    ramp = np.hanning(2 * round(0.004 * SAMPLE_RATE) + 1)
    envelope = np.convolve(envelope, ramp / ramp.sum(), mode="same")
    times = np.arange(num_samples) / SAMPLE_RATE
    return (envelope * np.sin(2 * np.pi * 220 * times)).astype(np.float32)


class MouthOpener:
    """Opens the portrait's mouth by a given amount (0 = as photographed, 1 = wide)."""

    def __init__(self, image: np.ndarray) -> None:
        import mediapipe as mp

        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=1
        ) as mesh:
            result = mesh.process(image)
        assert result.multi_face_landmarks, "FaceMesh found no face in the test portrait"
        height, width = image.shape[:2]
        points = np.array([(p.x * width, p.y * height) for p in result.multi_face_landmarks[0].landmark])
        self.image = image
        self.centre = (points[13] + points[14]) / 2
        self.mouth_width = float(np.linalg.norm(points[61] - points[291]))
        self.face_height = float(np.linalg.norm(points[10] - points[152]))
        self.chin_y = float(points[152][1])
        self.grid_y, self.grid_x = np.mgrid[0:height, 0:width].astype(np.float32)

    def frame(self, amount: float) -> np.ndarray:
        if amount <= 0.02:
            return self.image.copy()
        drop = amount * 0.08 * self.face_height
        # Pull the lower lip and jaw down: rows below the mouth sample from above,
        # fading out sideways and below the chin.
        below_mouth = np.clip((self.grid_y - self.centre[1]) / (0.1 * self.face_height), 0, 1)
        sideways = np.exp(-(((self.grid_x - self.centre[0]) / (0.9 * self.mouth_width)) ** 2))
        above_neck = np.clip(
            (self.chin_y + 0.15 * self.face_height - self.grid_y) / (0.15 * self.face_height), 0, 1
        )
        map_y = self.grid_y - drop * below_mouth * sideways * above_neck
        frame = cv2.remap(self.image, self.grid_x, map_y, cv2.INTER_LINEAR)
        centre = (int(self.centre[0]), int(self.centre[1] + drop / 2))
        axes = (int(0.38 * self.mouth_width), max(1, int(drop / 2)))
        cv2.ellipse(frame, centre, axes, 0, 0, 360, (35, 15, 15), -1, cv2.LINE_AA)
        return frame


def write_video(path: Path, waveform: np.ndarray, openings: np.ndarray, opener: MouthOpener) -> None:
    with VideoEncoder(path, SIZE, SIZE, FPS, waveform, SAMPLE_RATE) as encoder:
        for amount in openings:
            encoder.write(opener.frame(float(amount)))


@pytest.fixture(scope="module")
def reports():
    """Measure one video in sync and one whose mouth lags the audio by SHIFT_FRAMES."""
    image = np.asarray(Image.open(PORTRAIT).convert("RGB").resize((SIZE, SIZE)))
    opener = MouthOpener(image)
    amplitudes = burst_amplitudes(90)
    waveform = tone_bursts(amplitudes)
    assert num_frames_for(len(waveform), SAMPLE_RATE, FPS) == len(amplitudes)
    openings = amplitudes / amplitudes.max()
    shifted = np.concatenate([np.zeros(SHIFT_FRAMES), openings[:-SHIFT_FRAMES]])

    with tempfile.TemporaryDirectory() as folder:
        synced_path = Path(folder) / "synced.mp4"
        shifted_path = Path(folder) / "shifted.mp4"
        write_video(synced_path, waveform, openings, opener)
        write_video(shifted_path, waveform, shifted, opener)
        yield measure_lipsync(synced_path), measure_lipsync(shifted_path), amplitudes


def test_synced_video_peaks_at_zero(reports):
    synced, _, amplitudes = reports
    assert synced.num_frames == len(amplitudes)
    assert synced.frames_without_face == 0
    assert synced.peak_lag_frames == 0
    assert synced.peak_correlation > 0.8
    assert synced.correlation_at_zero == synced.peak_correlation
    # Away from the peak the correlation falls clearly.
    assert synced.correlations[list(synced.lags).index(SHIFT_FRAMES)] < synced.peak_correlation - 0.3


def test_shifted_video_peaks_at_shift(reports):
    synced, shifted, _ = reports
    assert shifted.peak_lag_frames == SHIFT_FRAMES
    assert shifted.peak_correlation > 0.8
    assert shifted.correlation_at_zero < shifted.peak_correlation - 0.3


def test_silences_found_and_mouth_closed(reports):
    synced, shifted, amplitudes = reports
    # Every built-in pause of 9 or more silent frames (360 ms) is found.
    silent = np.concatenate([[False], amplitudes == 0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(int)))
    long_pauses = [
        (start, end) for start, end in zip(edges[::2], edges[1::2], strict=True) if end - start >= 9
    ]
    assert len(long_pauses) >= 2
    for start, end in long_pauses:
        assert any(
            silence.start <= start / FPS + 0.03 and silence.end >= end / FPS - 0.03
            for silence in synced.silences
        ), f"pause at frames {start}..{end} not found in {synced.silences}"
    for silence in synced.silences:
        assert silence.end - silence.start >= 0.3

    # In sync the mouth rests in pauses; shifted, it is still open after a burst.
    assert synced.max_silence_opening_ratio is not None
    assert synced.max_silence_opening_ratio < 0.7
    assert shifted.max_silence_opening_ratio > synced.max_silence_opening_ratio + 0.3


def test_per_frame_measures_follow_opening(reports):
    synced, _, amplitudes = reports
    open_frames = amplitudes > 0.6
    closed_frames = amplitudes == 0
    opening = synced.mouth_opening
    assert np.median(opening[open_frames]) > 1.5 * np.median(opening[closed_frames])
    for values in (
        synced.mouth_width,
        synced.lip_corner_height,
        synced.inner_brow_height,
        synced.loudness_db,
    ):
        assert values.shape == (synced.num_frames,)
        assert np.all(np.isfinite(values))
    # Face proportions stay plausible: width about a third of the face height.
    assert 0.2 < np.median(synced.mouth_width) < 0.5
    assert 0.0 < np.median(synced.inner_brow_height) < 0.2
    assert synced.speech_frames[open_frames].all()


def test_rejects_video_without_audio():
    image = np.asarray(Image.open(PORTRAIT).convert("RGB").resize((SIZE, SIZE)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "silent.mp4"
        waveform = np.zeros(SAMPLE_RATE // 5, dtype=np.float32)
        with VideoEncoder(path, SIZE, SIZE, FPS, waveform, SAMPLE_RATE) as encoder:
            for _ in range(num_frames_for(len(waveform), SAMPLE_RATE, FPS)):
                encoder.write(image)
        # Strip the audio with ffmpeg itself, the way a user might.
        import subprocess

        import imageio_ffmpeg

        video_only = Path(folder) / "video_only.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-i",
                str(path),
                "-an",
                "-c:v",
                "copy",
                str(video_only),
            ],
            check=True,
        )
        with pytest.raises(AvatarError) as caught:
            measure_lipsync(video_only)
        assert caught.value.key == "no_audio_stream"
