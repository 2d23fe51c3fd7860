"""Streaming MP4 encoder: raw RGB frames and a waveform in, H.264 + AAC out.

Frames go straight to the bundled ffmpeg's stdin, so memory does not grow
with the video's length. The waveform is written to a temporary 16-bit WAV
that ffmpeg reads beside the frames. The output is written to a temporary
file beside the target and renamed onto it only after ffmpeg succeeds, so the
target path contains either a complete video or nothing new.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType

import imageio_ffmpeg
import numpy as np
import soundfile

from avatar.errors import AvatarError
from avatar.fileio import create_temp_beside
from avatar.timing import num_frames_for

logger = logging.getLogger(__name__)

# The tag that marks every output as machine-made; players show it as "comment".
AI_COMMENT = "AI-generated"
_STDERR_LINES_KEPT = 20
# ffmpeg reports the cause first (an invalid option, an encoder that failed to
# open) and the consequences after it, so the error message keeps the first
# lines and the last one.
_REASON_FIRST_LINES = 3


class VideoEncoder:
    """Context manager that encodes frames and a waveform into an MP4 file.

    The caller writes exactly `expected_frames` frames, which is
    `avatar.timing.num_frames_for(len(waveform), sample_rate, fps)`. On a clean
    exit a shortfall is padded by repeating the last frame, and extra frames
    get silence appended to the audio, so that the video and audio durations
    always differ by less than one frame.

    Args:
        path: the MP4 file to create; its folder is created if missing.
        width: frame width in pixels, even.
        height: frame height in pixels, even.
        fps: frames per second.
        waveform: float32 mono samples in -1..1, shape [T_s].
        sample_rate: samples per second of `waveform`.
        title: optional title tag.
        crf: x264 constant rate factor; larger is smaller and blurrier.
        preset: x264 speed preset; slower presets compress better.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: int,
        waveform: np.ndarray,
        sample_rate: int,
        *,
        title: str | None = None,
        crf: int = 20,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise AvatarError("invalid_output", path=str(self.path), suffix=".mp4")
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise AvatarError(
                "size_not_even",
                width=width,
                height=height,
                even_width=max(2, width + width % 2),
                even_height=max(2, height + height % 2),
            )
        if fps <= 0:
            raise AvatarError("invalid_fps", value=fps, low=1, high=60)
        if sample_rate <= 0:
            raise AvatarError("invalid_sample_rate", value=sample_rate)
        waveform = np.asarray(waveform)
        if waveform.ndim != 1 or waveform.size == 0 or not np.issubdtype(waveform.dtype, np.floating):
            raise AvatarError("invalid_waveform", shape=waveform.shape, dtype=waveform.dtype)

        self.width = width
        self.height = height
        self.fps = fps
        self.sample_rate = sample_rate
        self.title = title
        self.crf = crf
        self.preset = preset
        self.expected_frames = num_frames_for(len(waveform), sample_rate, fps)
        self.frames_written = 0
        self._waveform = waveform
        self._frame_shape = (height, width, 3)
        self._last_frame: np.ndarray | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_head: list[str] = []
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES_KEPT)
        self._stderr_thread: threading.Thread | None = None
        self._work_dir: Path | None = None
        self._temp_output: Path | None = None

    # ---- context manager

    def __enter__(self) -> VideoEncoder:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ---- public steps

    def open(self) -> None:
        """Write the temporary WAV and start ffmpeg."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise AvatarError("output_dir_failed", path=str(self.path.parent), reason=str(error)) from error
        try:
            self._work_dir = Path(tempfile.mkdtemp(prefix="avatar-encode-"))
            wav_path = self._work_dir / "audio.wav"
            _write_wav(wav_path, self._waveform, self.sample_rate)
            self._temp_output = create_temp_beside(self.path)
        except OSError as error:
            self._remove_temporaries()
            raise AvatarError("output_write_failed", path=str(self.path), reason=str(error)) from error

        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self.width}x{self.height}", "-r", str(self.fps),
            "-i", "pipe:0",
            "-i", str(wav_path),
            "-map", "0:v:0", "-map", "1:a:0",
            *self._video_arguments(),
            *self._audio_and_container_arguments(),
            "-f", "mp4", str(self._temp_output),
        ]  # fmt: skip
        logger.debug("starting ffmpeg: %s", " ".join(command))
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # ffmpeg blocks once the stderr pipe buffer is full, so a thread keeps draining it.
        self._stderr_thread = threading.Thread(target=self._drain_stderr, name="ffmpeg-stderr", daemon=True)
        self._stderr_thread.start()

    def write(self, frame: np.ndarray) -> None:
        """Send one (height, width, 3) uint8 RGB frame to the encoder."""
        if self._process is None or self._process.stdin is None:
            raise RuntimeError("VideoEncoder.write() called outside its `with` block")
        if frame.shape != self._frame_shape or frame.dtype != np.uint8:
            raise AvatarError(
                "invalid_frame", index=self.frames_written, shape=frame.shape, dtype=frame.dtype,
                expected=self._frame_shape,
            )  # fmt: skip
        frame = np.ascontiguousarray(frame)
        try:
            self._process.stdin.write(memoryview(frame).cast("B"))
        except (BrokenPipeError, ValueError) as error:
            # ffmpeg exited early and closed its stdin. Its stderr gives the cause.
            self._process.wait()
            raise self._failure() from error
        self.frames_written += 1
        # Kept for padding a short video; a copy, because callers may reuse their buffer.
        if self._last_frame is None:
            self._last_frame = frame.copy()
        else:
            self._last_frame[...] = frame

    def close(self) -> Path:
        """Finish encoding, pad to equal durations, move the file into place and return its path."""
        assert self._process is not None
        assert self._process.stdin is not None
        assert self._temp_output is not None
        try:
            shortfall = self.expected_frames - self.frames_written
            if shortfall > 0:
                logger.warning(
                    "%d of %d frames written; repeating the last frame %d times to cover the audio",
                    self.frames_written, self.expected_frames, shortfall,
                )  # fmt: skip
                padding = (
                    self._last_frame
                    if self._last_frame is not None
                    else np.zeros(self._frame_shape, np.uint8)
                )
                for _ in range(shortfall):
                    self.write(padding)
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg already exited; its exit code is checked next
            code = self._process.wait()
            self._join_stderr()
            if code != 0:
                raise self._failure()

            if self.frames_written > self.expected_frames:
                self._pad_audio()

            try:
                os.replace(self._temp_output, self.path)
            except OSError as error:
                raise AvatarError("output_write_failed", path=str(self.path), reason=error.strerror or str(error)) from None
        except BaseException:
            self.abort()
            raise
        self._remove_temporaries()
        logger.info(
            "wrote %s (%d frames, %dx%d at %d fps, %.2f s)",
            self.path, self.frames_written, self.width, self.height, self.fps, self.frames_written / self.fps,
        )  # fmt: skip
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and delete every temporary file; the target path is left untouched."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if process is not None and process.stdin is not None:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass  # the process is gone; nothing is left to flush
        self._join_stderr()
        self._remove_temporaries()
        if self._temp_output is not None and self._temp_output.exists():
            self._temp_output.unlink()
        logger.debug("encoding of %s aborted after %d frames", self.path, self.frames_written)

    # ---- helpers

    def _video_arguments(self) -> list[str]:
        """Return the ffmpeg options of the H.264 stream."""
        return ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", self.preset, "-crf", str(self.crf)]

    def _audio_and_container_arguments(self) -> list[str]:
        """Return the ffmpeg options of the AAC stream, faststart and metadata."""
        arguments = [
            "-c:a", "aac", "-b:a", "128k",
            # moov before mdat, so browsers start playing before the whole file arrives.
            "-movflags", "+faststart",
            "-metadata", f"comment={AI_COMMENT}",
        ]  # fmt: skip
        if self.title:
            arguments += ["-metadata", f"title={self.title}"]
        return arguments

    def _pad_audio(self) -> None:
        """Re-mux the video with the audio lengthened by silence to the video's duration.

        Only needed when the caller wrote more frames than the audio covers. The
        video stream is copied and only the short AAC stream is encoded again.
        """
        assert self._work_dir is not None and self._temp_output is not None
        target_samples = self.frames_written * self.sample_rate // self.fps
        logger.warning(
            "%d frames written for audio that covers %d; padding the audio with %.3f s of silence",
            self.frames_written, self.expected_frames, (target_samples - len(self._waveform)) / self.sample_rate,
        )  # fmt: skip
        padded = np.zeros(target_samples, dtype=np.float32)
        padded[: len(self._waveform)] = self._waveform
        wav_path = self._work_dir / "padded.wav"
        _write_wav(wav_path, padded, self.sample_rate)
        remuxed = self._temp_output.with_name(self._temp_output.name + ".remux.mp4")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-i", str(self._temp_output), "-i", str(wav_path),
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
            *self._audio_and_container_arguments(),
            "-f", "mp4", str(remuxed),
        ]  # fmt: skip
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if result.returncode != 0:
            remuxed.unlink(missing_ok=True)
            reason = _summarize_errors(result.stderr.decode("utf-8", "replace").splitlines())
            raise AvatarError("encoder_failed", code=result.returncode, reason=reason)
        os.replace(remuxed, self._temp_output)

    def _drain_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw_line in iter(self._process.stderr.readline, b""):
            line = raw_line.decode("utf-8", "replace").rstrip()
            if line:
                if len(self._stderr_head) < _REASON_FIRST_LINES:
                    self._stderr_head.append(line)
                self._stderr_tail.append(line)
                logger.debug("ffmpeg: %s", line)

    def _join_stderr(self) -> None:
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=5)
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()

    def _failure(self) -> AvatarError:
        """Build the error for a failed ffmpeg run from its exit code and last stderr lines."""
        assert self._process is not None
        self._join_stderr()
        code = self._process.returncode
        lines = self._stderr_head + [line for line in self._stderr_tail if line not in self._stderr_head]
        return AvatarError("encoder_failed", code=code, reason=_summarize_errors(lines))

    def _remove_temporaries(self) -> None:
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None


def _write_wav(path: Path, waveform: np.ndarray, sample_rate: int) -> None:
    """Write mono 16-bit PCM; values are clipped first, since libsndfile wraps them around."""
    samples = np.clip(np.asarray(waveform, dtype=np.float32), -1.0, 1.0)
    soundfile.write(str(path), samples, sample_rate, subtype="PCM_16", format="WAV")


def _summarize_errors(lines: list[str]) -> str:
    """Join the first stderr lines and the last one into a one-line reason."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return "no output"
    if len(lines) <= _REASON_FIRST_LINES + 1:
        return " | ".join(lines)
    return " | ".join([*lines[:_REASON_FIRST_LINES], "...", lines[-1]])
