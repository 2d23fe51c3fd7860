"""Atomic file writes: a reader never sees a half-written output under its final name."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from avatar.errors import AvatarError

# The process umask, read once at import: os.umask can only be read by setting it, which
# is not safe once other threads may create files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_parent(path: Path) -> None:
    """Create the folder that will contain `path`, or raise a readable error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AvatarError("output_dir_failed", path=str(path.parent), reason=error.strerror or str(error)) from None


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The temporary file lives in the same folder so that `os.replace` is a rename on one
    file system, which POSIX guarantees to be atomic.
    """
    temporary = create_temp_beside(path)
    try:
        yield Path(temporary)
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise AvatarError("output_write_failed", path=str(path), reason=error.strerror or str(error)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def check_output_path(path: Path, suffix: str, inputs: tuple[Path | None, ...] = ()) -> None:
    """Reject an output path before any work: wrong suffix, a folder, or one of the `inputs`.

    Also creates the output's folder and a temporary file in it, so that a folder that
    cannot be created or written fails now rather than after minutes of rendering.
    """
    if path.suffix.lower() != suffix:
        raise AvatarError("invalid_output", path=str(path), suffix=suffix)
    if path.is_dir():
        raise AvatarError("path_is_directory", path=str(path))
    for source in inputs:
        if source is not None and source.exists() and path.exists() and os.path.samefile(source, path):
            raise AvatarError("output_is_input", path=str(path))
    create_temp_beside(path).unlink()


def create_temp_beside(path: Path) -> Path:
    """Create an empty temporary file in the folder of `path`, named after it.

    mkstemp makes the file readable by its owner only. The file becomes the user's output,
    so it gets the permissions a plain `open()` would give (0666 less the umask).
    """
    ensure_parent(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    except OSError as error:
        raise AvatarError("output_write_failed", path=str(path), reason=error.strerror or str(error)) from None
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_UMASK)
    return Path(temporary)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text with "\n" line ends to `path` atomically."""
    try:
        with atomic_path(path) as temporary:
            temporary.write_text(text, encoding="utf-8", newline="\n")
    except OSError as error:
        raise AvatarError("output_write_failed", path=str(path), reason=error.strerror or str(error)) from None
