"""VideoEncoder and probe: codecs, durations, faststart, tags, clean failure."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from avatar.encode import VideoEncoder
from avatar.errors import AvatarError
from avatar.media import probe
from avatar.timing import num_frames_for

FPS = 25
SAMPLE_RATE = 22050
SIZE = 256


@pytest.fixture
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def tone(seconds: float) -> np.ndarray:
    times = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.4 * np.sin(2 * np.pi * 440 * times)).astype(np.float32)


def synthetic_frame(index: int) -> np.ndarray:
    """A moving gradient, so the encoder has real motion to code."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    frame = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    frame[:, :, 0] = (x + 4 * index) % 256
    frame[:, :, 1] = (y * 2) % 256
    frame[:, :, 2] = 128
    return frame


def encode(path: Path, waveform: np.ndarray, num_frames: int, **options) -> None:
    with VideoEncoder(path, SIZE, SIZE, FPS, waveform, SAMPLE_RATE, **options) as encoder:
        for index in range(num_frames):
            encoder.write(synthetic_frame(index))


def test_encode_streams_and_tags(folder):
    # 1.97 s of audio does not end on a frame boundary, so the last frame is partial.
    waveform = tone(1.97)
    expected_frames = num_frames_for(len(waveform), SAMPLE_RATE, FPS)
    path = folder / "out.mp4"
    encode(path, waveform, expected_frames, title="测试 Test")

    info = probe(path)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert (info.width, info.height) == (SIZE, SIZE)
    assert info.fps == FPS
    assert info.num_frames == expected_frames
    assert info.audio_codec == "aac"
    assert info.audio_sample_rate == SAMPLE_RATE
    assert info.audio_channels == 1
    assert info.audio_samples == len(waveform)
    assert abs(info.video_duration - info.audio_duration) <= 1 / FPS
    assert info.faststart is True
    assert info.metadata.get("comment") == "AI-generated"
    assert info.metadata.get("title") == "测试 Test"
    assert os.listdir(folder) == ["out.mp4"]


@pytest.mark.parametrize("extra_frames", [-4, 3])
def test_encode_pads_to_equal_durations(folder, extra_frames):
    waveform = tone(1.0)
    expected_frames = num_frames_for(len(waveform), SAMPLE_RATE, FPS)
    path = folder / "out.mp4"
    encode(path, waveform, expected_frames + extra_frames)

    info = probe(path)
    assert info.num_frames == max(expected_frames, expected_frames + extra_frames)
    assert abs(info.video_duration - info.audio_duration) <= 1 / FPS
    assert info.audio_samples >= len(waveform)
    assert info.faststart is True
    assert info.metadata.get("comment") == "AI-generated"
    assert os.listdir(folder) == ["out.mp4"]


def test_failure_mid_write_leaves_nothing(folder):
    path = folder / "out.mp4"
    with pytest.raises(RuntimeError, match="renderer crashed"):
        with VideoEncoder(path, SIZE, SIZE, FPS, tone(2.0), SAMPLE_RATE) as encoder:
            for index in range(10):
                encoder.write(synthetic_frame(index))
            raise RuntimeError("renderer crashed")
    assert os.listdir(folder) == []


def test_failure_keeps_existing_file(folder):
    path = folder / "out.mp4"
    path.write_bytes(b"previous video")
    with pytest.raises(AvatarError) as caught:
        with VideoEncoder(path, SIZE, SIZE, FPS, tone(0.5), SAMPLE_RATE) as encoder:
            encoder.write(synthetic_frame(0))
            encoder.write(np.zeros((SIZE, SIZE + 2, 3), dtype=np.uint8))
    assert caught.value.key == "invalid_frame"
    assert path.read_bytes() == b"previous video"
    assert os.listdir(folder) == ["out.mp4"]


def test_ffmpeg_error_reported(folder):
    path = folder / "out.mp4"
    with pytest.raises(AvatarError) as caught:
        encode(
            path,
            tone(0.5),
            num_frames_for(round(0.5 * SAMPLE_RATE), SAMPLE_RATE, FPS),
            preset="no-such-preset",
        )
    assert caught.value.key == "encoder_failed"
    assert caught.value.params["code"] != 0
    assert "preset" in caught.value.params["reason"].lower()
    assert os.listdir(folder) == []


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ({"width": 255}, "size_not_even"),
        ({"path_name": "out.avi"}, "invalid_output"),
        ({"waveform": np.zeros((2, 100), dtype=np.float32)}, "invalid_waveform"),
        ({"waveform": np.zeros(0, dtype=np.float32)}, "invalid_waveform"),
    ],
)
def test_encoder_rejects_bad_arguments(folder, arguments, key):
    path = folder / arguments.get("path_name", "out.mp4")
    with pytest.raises(AvatarError) as caught:
        VideoEncoder(
            path, arguments.get("width", SIZE), SIZE, FPS, arguments.get("waveform", tone(0.2)), SAMPLE_RATE
        )
    assert caught.value.key == key


def test_probe_missing_and_bad_files(folder):
    with pytest.raises(AvatarError) as caught:
        probe(folder / "missing.mp4")
    assert caught.value.key == "file_not_found"
    broken = folder / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x08free" + b"garbage" * 10)
    with pytest.raises(AvatarError) as caught:
        probe(broken)
    assert caught.value.key == "file_unreadable"
