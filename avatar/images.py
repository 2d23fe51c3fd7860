"""Opening user images (portraits, backgrounds) safely and in one pixel format."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from avatar.errors import AvatarError

# Larger images are rejected before decoding: 50 megapixels is more than any portrait
# needs, and decoding a crafted huge image would take gigabytes.
MAX_PIXELS = 50_000_000


def open_image(path: Path, shown: str, unreadable_key: str) -> Image.Image:
    """Open `path` with EXIF orientation applied and 16-bit modes reduced to 8 bits.

    Args:
        path: the file.
        shown: the path as the user wrote it, for messages.
        unreadable_key: message key for a file that is not a readable image.

    Raises:
        AvatarError: missing file, a folder, too many pixels, or not an image.
    """
    if path.is_dir():
        raise AvatarError("path_is_directory", path=shown)
    if not path.is_file():
        raise AvatarError("file_not_found", path=shown)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit; the explicit check below replaces that.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise AvatarError("image_too_large", path=shown, width=opened.width, height=opened.height,
                                      limit=MAX_PIXELS // 1_000_000)
                image = ImageOps.exif_transpose(opened)
                image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise AvatarError(unreadable_key, path=shown, reason=str(error) or type(error).__name__) from error
    return _to_8_bit(image)


def fitted_size(width: int, height: int, size: int) -> tuple[int, int]:
    """Return the (width, height) of a width×height image scaled so that its longer side is `size`.

    Both sides are rounded to even numbers, at least 2, because H.264 with yuv420p needs that.
    """
    scale = size / max(width, height)
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


def _to_8_bit(image: Image.Image) -> Image.Image:
    """Scale 16-bit and 32-bit integer grey images to 8 bits.

    Pillow's convert("RGB") clips such images at 255 instead of scaling them, which turns
    a normal 16-bit grey photo almost white.
    """
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return image
    values = np.asarray(image, dtype=np.float64)
    high = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
    return Image.fromarray(np.clip(values / high * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
