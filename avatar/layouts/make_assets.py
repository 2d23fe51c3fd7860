"""Rebuild the images that the built-in layout templates use.

Run from the repository root: `.venv/bin/python avatar/layouts/make_assets.py`.
It writes, beside this script:

- studio.png: the `news` backdrop, a 1280×720 dark blue studio drawn from
  gradients and blurred shapes (soft lights, light panels, a desk edge);
- logo.png: a 256×256 round "EA" mark with a transparent outside.

Both are drawn from scratch with numpy, OpenCV and Pillow, so the output depends only on
these package versions and the CJK font package. Smooth shapes keep each PNG small
(under 200 KB), because PNG's row filters compress gradients well but not noise.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from avatar.compose import load_font

logger = logging.getLogger(__name__)

FOLDER = Path(__file__).resolve().parent
STUDIO_SIZE = (1280, 720)  # width, height
LOGO_SIZE = 256


def vertical_gradient(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    """Return a (height, width, 3) float32 image that fades from `top` to `bottom` (RGB, 0..255)."""
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]  # (H, 1, 1)
    colors = (1.0 - ramp) * np.float32(top) + ramp * np.float32(bottom)  # (H, 1, 3)
    return np.repeat(colors, width, axis=1)


def add_glow(image: np.ndarray, center: tuple[float, float], radius: float, color: tuple[int, int, int],
             strength: float) -> None:
    """Add a round Gaussian glow to `image` in place: `center` in pixels, `strength` 0..1 at its middle."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance_squared = (xs - center[0]) ** 2 + (ys - center[1]) ** 2
    falloff = np.exp(-distance_squared / (2.0 * radius**2))[:, :, None]  # (H, W, 1)
    image += strength * falloff * (np.float32(color) - image)


def draw_studio() -> Image.Image:
    """Draw the studio backdrop: gradient wall, soft lights, vertical light panels and a desk edge."""
    width, height = STUDIO_SIZE
    image = vertical_gradient(width, height, (10, 22, 48), (24, 52, 96))

    # Soft lights behind the presenter: big dim glows and a few small brighter ones.
    add_glow(image, (0.50 * width, 0.42 * height), 0.30 * width, (60, 120, 190), 0.55)
    add_glow(image, (0.12 * width, 0.20 * height), 0.10 * width, (90, 160, 230), 0.35)
    add_glow(image, (0.88 * width, 0.28 * height), 0.12 * width, (80, 150, 220), 0.30)
    add_glow(image, (0.78 * width, 0.62 * height), 0.06 * width, (200, 120, 60), 0.25)

    # Light panels on both sides, blurred so that they read as out of focus.
    panels = np.zeros((height, width), dtype=np.float32)
    for left in (0.05, 0.13, 0.81, 0.89):
        x0 = round(left * width)
        panels[round(0.10 * height) : round(0.70 * height), x0 : x0 + round(0.035 * width)] = 1.0
    panels = cv2.GaussianBlur(panels, (0, 0), sigmaX=0.012 * width)[:, :, None]
    image += 0.22 * panels * (np.float32((150, 200, 255)) - image)

    # The desk: a darker floor below a thin bright edge.
    floor_top = round(0.80 * height)
    floor = np.zeros((height, width), dtype=np.float32)
    floor[floor_top:] = 1.0
    floor = cv2.GaussianBlur(floor, (0, 0), sigmaX=2.0)[:, :, None]
    image += 0.6 * floor * (np.float32((6, 14, 30)) - image)
    edge = np.zeros((height, width), dtype=np.float32)
    edge[floor_top - 2 : floor_top + 2] = 1.0
    edge = cv2.GaussianBlur(edge, (0, 0), sigmaX=3.0)[:, :, None]
    image += 0.5 * edge * (np.float32((120, 180, 240)) - image)

    return Image.fromarray(np.clip(image + 0.5, 0, 255).astype(np.uint8), mode="RGB")


def draw_logo() -> Image.Image:
    """Draw the round "EA" mark: a blue disc with a light ring and white letters, transparent outside."""
    # Drawn at 4× and scaled down, which antialiases the disc's edge.
    scale = 4
    size = LOGO_SIZE * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(232, 240, 250, 255))
    ring = round(0.06 * size)
    draw.ellipse((ring, ring, size - 1 - ring, size - 1 - ring), fill=(20, 70, 150, 255))
    font = load_font(round(0.42 * size), 800)
    draw.text((size / 2, size / 2), "EA", font=font, anchor="mm", fill=(255, 255, 255, 255))
    return image.resize((LOGO_SIZE, LOGO_SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    """Write studio.png and logo.png beside this script."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name, image in (("studio.png", draw_studio()), ("logo.png", draw_logo())):
        path = FOLDER / name
        image.save(path, optimize=True)
        logger.info("wrote %s (%dx%d, %d bytes)", path, image.width, image.height, path.stat().st_size)


if __name__ == "__main__":
    main()
