"""Inspection of finished media files with the bundled ffmpeg (there is no ffprobe).

Stream facts come from the header that `ffmpeg -i FILE` prints. Frame and
sample counts come from decoding the streams, because the header's durations
are rounded and can include encoder padding. The faststart flag is read from
the MP4 box structure itself.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg

from avatar.errors import AvatarError

logger = logging.getLogger(__name__)

# Channel counts of the layouts ffmpeg names instead of printing "N channels".
_CHANNEL_LAYOUTS = {
    "mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5, "5.0": 5,
    "5.0(side)": 5, "5.1": 6, "5.1(side)": 6, "6.1": 7, "7.1": 8,
}  # fmt: skip
_STREAM_PATTERN = re.compile(r"^\s*Stream #\d+:\d+\S*: (Video|Audio): (.*)$")
_DURATION_PATTERN = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_METADATA_PATTERN = re.compile(r"^(\s+)(\S[^:]*?)\s*: ?(.*)$")
_FRAME_COUNT_PATTERN = re.compile(r"frame=\s*(\d+)")
_TIME_PATTERN = re.compile(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_READ_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class MediaInfo:
    """The streams and tags of a media file, as decoded by ffmpeg.

    Attributes:
        path: the file inspected.
        duration: container duration in seconds, as the header states it.
        video_codec: e.g. "h264"; None without a video stream.
        pix_fmt: e.g. "yuv420p".
        width: frame width in pixels.
        height: frame height in pixels.
        fps: frames per second stated by the stream.
        num_frames: video frames counted by decoding.
        video_duration: num_frames / fps, in seconds.
        audio_codec: e.g. "aac"; None without an audio stream.
        audio_sample_rate: samples per second.
        audio_channels: number of channels.
        audio_samples: samples per channel counted by decoding.
        audio_duration: audio_samples / audio_sample_rate, in seconds.
        faststart: True when the MP4 `moov` box comes before `mdat`; False
            when it comes after or the file is not an MP4.
        metadata: the container's tags (title, comment, encoder ...).
    """

    path: Path
    duration: float | None
    video_codec: str | None
    pix_fmt: str | None
    width: int | None
    height: int | None
    fps: float | None
    num_frames: int | None
    video_duration: float | None
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    audio_samples: int | None
    audio_duration: float | None
    faststart: bool
    metadata: dict[str, str] = field(default_factory=dict)


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Inspect `path`: stream formats, decoded frame and sample counts, faststart and tags."""
    path = Path(path)
    if not path.is_file():
        raise AvatarError("file_not_found", path=str(path))

    header = _read_header(path)
    video = _parse_video_stream(header)
    audio = _parse_audio_stream(header)
    duration_match = _DURATION_PATTERN.search(header)
    duration = None
    if duration_match:
        hours, minutes, seconds = duration_match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)

    num_frames = video_duration = None
    if video is not None:
        num_frames = count_video_frames(path)
        if video.fps:
            video_duration = num_frames / video.fps

    audio_samples = audio_duration = None
    if audio is not None:
        audio_samples = count_audio_samples(path)
        if audio.sample_rate:
            audio_duration = audio_samples / audio.sample_rate

    return MediaInfo(
        path=path,
        duration=duration,
        video_codec=video.codec if video else None,
        pix_fmt=video.pix_fmt if video else None,
        width=video.width if video else None,
        height=video.height if video else None,
        fps=video.fps if video else None,
        num_frames=num_frames,
        video_duration=video_duration,
        audio_codec=audio.codec if audio else None,
        audio_sample_rate=audio.sample_rate if audio else None,
        audio_channels=audio.channels if audio else None,
        audio_samples=audio_samples,
        audio_duration=audio_duration,
        faststart=is_faststart(path),
        metadata=_parse_global_metadata(header),
    )


def _read_header(path: Path) -> str:
    """Return what `ffmpeg -i path` prints about the file."""
    # With no output file ffmpeg exits 1 after printing the header, so the exit
    # code means nothing. An unreadable file prints no "Input #0" line.
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    header = result.stderr.decode("utf-8", "replace")
    if "Input #0" not in header:
        reason = (
            header.strip().splitlines()[-1] if header.strip() else f"ffmpeg exit code {result.returncode}"
        )
        raise AvatarError("file_unreadable", path=str(path), reason=reason)
    return header


def _first_stream(header: str, kind: str) -> str | None:
    for line in header.splitlines():
        match = _STREAM_PATTERN.match(line)
        if match and match.group(1) == kind:
            return match.group(2)
    return None


def _split_stream_fields(description: str) -> list[str]:
    """Split a stream description at top-level commas (not those inside brackets)."""
    fields, depth, current = [], 0, ""
    for char in description:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            fields.append(current.strip())
            current = ""
        else:
            current += char
    fields.append(current.strip())
    return fields


@dataclass(frozen=True)
class _VideoStream:
    codec: str
    pix_fmt: str | None
    width: int | None
    height: int | None
    fps: float | None


@dataclass(frozen=True)
class _AudioStream:
    codec: str
    sample_rate: int | None
    channels: int | None


def _parse_video_stream(header: str) -> _VideoStream | None:
    description = _first_stream(header, "Video")
    if description is None:
        return None
    fields = _split_stream_fields(description)
    size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", description)
    fps = re.search(r"([\d.]+)(k?) fps", description)
    fps_value = None
    if fps:
        fps_value = float(fps.group(1)) * (1000 if fps.group(2) else 1)
    return _VideoStream(
        codec=fields[0].split()[0],
        pix_fmt=fields[1].split("(")[0].strip() if len(fields) > 1 else None,
        width=int(size.group(1)) if size else None,
        height=int(size.group(2)) if size else None,
        fps=fps_value,
    )


def _parse_audio_stream(header: str) -> _AudioStream | None:
    description = _first_stream(header, "Audio")
    if description is None:
        return None
    fields = _split_stream_fields(description)
    rate = re.search(r"(\d+) Hz", description)
    channels = None
    for item in fields:
        if item in _CHANNEL_LAYOUTS:
            channels = _CHANNEL_LAYOUTS[item]
        elif match := re.fullmatch(r"(\d+) channels.*", item):
            channels = int(match.group(1))
    if channels is None:
        logger.debug("unknown channel layout in audio stream %r", description)
    return _AudioStream(
        codec=fields[0].split()[0], sample_rate=int(rate.group(1)) if rate else None, channels=channels
    )


def _parse_global_metadata(header: str) -> dict[str, str]:
    """Return the tags in the "Metadata:" block between "Input #0" and "Duration:"."""
    lines = header.splitlines()
    tags: dict[str, str] = {}
    inside = False
    last_key = None
    for line in lines[next(i for i, line in enumerate(lines) if line.startswith("Input #0")) + 1 :]:
        if line.strip() == "Metadata:":
            inside = True
            continue
        if not inside or line.lstrip().startswith(("Duration:", "Stream #", "Chapter")):
            if inside:
                break
            continue
        match = _METADATA_PATTERN.match(line)
        if match is None:
            continue
        key, value = match.group(2).strip(), match.group(3)
        # ffmpeg prints the further lines of a multi-line value with an empty key.
        if not key and last_key is not None:
            tags[last_key] += "\n" + value
        elif key:
            tags[key] = value
            last_key = key
    return tags


def count_video_frames(path: str | os.PathLike[str]) -> int:
    """Return the number of frames of the first video stream, counted by decoding it."""
    returncode, output = _read_stream(path, "v")
    counts = _FRAME_COUNT_PATTERN.findall(output)
    if returncode != 0 or not counts:
        raise AvatarError("file_unreadable", path=str(path), reason=_last_line(output))
    return int(counts[-1])


def _read_stream(path: str | os.PathLike[str], kind: str, *codec: str) -> tuple[int, str]:
    """Pass the first `kind` ("v" or "a") stream through ffmpeg to nowhere; return its exit code and log.

    `codec` ("-c", "copy") reads packets without decoding them. Without it the stream is decoded.
    """
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", f"0:{kind}:0",
         *codec, "-f", "null", "-"],
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    return result.returncode, result.stderr.decode("utf-8", "replace")


def stream_packets(path: str | os.PathLike[str], kind: str) -> tuple[int | None, float]:
    """Read the first `kind` ("v" or "a") stream's packets without decoding them.

    Returns the packet count (video only; None for audio) and the time reached in seconds.
    This reads the file once at disk speed, so it suits checking many finished videos.

    Raises:
        AvatarError: the file cannot be read, or its data ends before the header says
            (ffmpeg reports a "partial file").
    """
    returncode, output = _read_stream(path, kind, "-c", "copy")
    times = _TIME_PATTERN.findall(output)
    if "partial file" in output:
        raise AvatarError("file_unreadable", path=str(path), reason="the file ends before its last packet")
    if returncode != 0 or not times:
        raise AvatarError("file_unreadable", path=str(path), reason=_last_line(output))
    hours, minutes, seconds = times[-1]
    counts = _FRAME_COUNT_PATTERN.findall(output) if kind == "v" else []
    return (int(counts[-1]) if counts else None), int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def audio_decode_command(path: str | os.PathLike[str], sample_format: str, sample_rate: int | None = None) -> list[str]:
    """Return an ffmpeg command that writes the first audio stream as raw mono samples to stdout.

    `sample_format` is an ffmpeg raw format such as "s16le" or "f32le"; `sample_rate`
    None keeps the stream's own rate.
    """
    rate = ["-ar", str(sample_rate)] if sample_rate else []
    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(path), "-map", "0:a:0", "-ac", "1", *rate, "-f", sample_format, "-",
    ]  # fmt: skip


def count_audio_samples(path: str | os.PathLike[str]) -> int:
    """Return the samples per channel of the first audio stream, counted by decoding it.

    The stream is decoded to mono 16-bit PCM and read from a pipe in chunks, so
    memory stays flat for long files. The decoder honours the MP4 edit list,
    so AAC priming samples are not counted.
    """
    # stderr goes to a file: a full stderr pipe would block ffmpeg while this
    # process blocks reading stdout.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            audio_decode_command(path, "s16le"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        total_bytes = 0
        while chunk := process.stdout.read(_READ_CHUNK_BYTES):
            total_bytes += len(chunk)
        process.stdout.close()
        if process.wait() != 0:
            errors.seek(0)
            reason = _last_line(errors.read().decode("utf-8", "replace"))
            raise AvatarError("file_unreadable", path=str(path), reason=reason)
    return total_bytes // 2


def is_faststart(path: str | os.PathLike[str]) -> bool:
    """Return True when the top-level `moov` box precedes `mdat` in the MP4 file."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        file_size = handle.tell()
        position = 0
        while position + 8 <= file_size:
            handle.seek(position)
            size, box_type = struct.unpack(">I4s", handle.read(8))
            if size == 1:  # a 64-bit size follows the type
                (size,) = struct.unpack(">Q", handle.read(8))
            elif size == 0:  # the box runs to the end of the file
                size = file_size - position
            if box_type == b"moov":
                return True
            if box_type == b"mdat":
                return False
            if size < 8:
                logger.debug("invalid MP4 box size %d at byte %d of %s", size, position, path)
                return False
            position += size
    return False


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
