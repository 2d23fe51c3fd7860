"""The per-user cache folder and atomic writes into it.

Derived files (for example a TFLite model with its TensorFlow-only ops rewritten)
are written here once and reused. The folder is `AVATAR_CACHE_DIR` when set,
else `$XDG_CACHE_HOME/empathy-avatar`, else `~/.cache/empathy-avatar`; nothing
is ever written into the source tree or the installed package.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from avatar.errors import AvatarError
from avatar.fileio import atomic_path

logger = logging.getLogger(__name__)

APP_FOLDER = "empathy-avatar"


def cache_dir() -> Path:
    """Return the cache folder, without creating it."""
    explicit = os.environ.get("AVATAR_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser() / APP_FOLDER
    return Path.home() / ".cache" / APP_FOLDER


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see `avatar.fileio.atomic_path`).

    Raises AvatarError("cache_unwritable") when the folder cannot be created or written.
    """
    try:
        with atomic_path(path) as temporary:
            temporary.write_bytes(data)
    except AvatarError as error:
        raise AvatarError("cache_unwritable", path=str(path.parent), reason=error.params.get("reason", error.key)) from error
    except OSError as error:
        raise AvatarError("cache_unwritable", path=str(path.parent), reason=str(error)) from error
    logger.info("Wrote %s (%d bytes)", path, len(data))
