"""The painted mouth interior shown when the warp opens a mouth the photo shows closed.

Warping can only stretch the source pixels, so an opened mouth would show a
smear of lip colour. `fill_mouth_interior` paints a shaded cavity with a hint
of upper teeth inside the inner-lip outline instead. It is a separate step so
that a learned generator can replace it.
"""

from __future__ import annotations

import cv2
import numpy as np

CAVITY_COLOR = np.array([78.0, 28.0, 24.0])  # dark red-brown, RGB
THROAT_COLOR = np.array([30.0, 9.0, 8.0])
TONGUE_COLOR = np.array([140.0, 58.0, 50.0])
TEETH_COLOR = np.array([212.0, 205.0, 192.0])


def fill_mouth_interior(image: np.ndarray, outline: np.ndarray, face_height: float, opacity: float) -> None:
    """Paint a mouth cavity inside `outline`, in place.

    Args:
        image: RGB frame, uint8, shape (H, W, 3); changed in place.
        outline: inner-lip polygon in pixels, shape (P, 2), upper lip first
            (corner to corner), then the lower lip back.
        face_height: face height in pixels; sets the teeth size and the edge softness.
        opacity: 0 (leave the warped pixels) .. 1 (fully painted).
    """
    if opacity <= 0.0:
        return
    height, width = image.shape[:2]
    margin = 3
    x0 = max(int(np.floor(outline[:, 0].min())) - margin, 0)
    y0 = max(int(np.floor(outline[:, 1].min())) - margin, 0)
    x1 = min(int(np.ceil(outline[:, 0].max())) + margin + 1, width)
    y1 = min(int(np.ceil(outline[:, 1].max())) + margin + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return

    # 1. Soft mask of the opening; 4 fractional bits keep sub-pixel lip motion smooth.
    local = outline - (x0, y0)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(local * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    softness = max(0.5, face_height / 250.0)
    mask = cv2.GaussianBlur(mask, (0, 0), softness).astype(np.float32) / 255.0  # (h, w)

    # 2. Shading: darker toward the back of the mouth, a tongue at the bottom.
    rows = np.arange(y0, y1, dtype=np.float32)[:, None]
    cols = np.arange(x0, x1, dtype=np.float32)[None, :]
    center = outline.mean(axis=0)
    half_width = max(1.0, 0.5 * (outline[:, 0].max() - outline[:, 0].min()))
    top = outline[: len(outline) // 2 + 1, 1]
    top_y = float(top.mean())
    bottom_y = float(outline[len(outline) // 2 :, 1].mean())
    gap = max(1.0, bottom_y - top_y)
    depth = np.clip(1.0 - np.hypot((cols - center[0]) / half_width, (rows - center[1]) / (0.6 * gap)), 0.0, 1.0)
    color = CAVITY_COLOR + (THROAT_COLOR - CAVITY_COLOR) * depth[..., None]  # (h, w, 3)
    lower_part = np.clip((rows - (top_y + 0.6 * gap)) / (0.4 * gap), 0.0, 1.0)
    tongue = lower_part * np.clip(1.0 - np.abs(cols - center[0]) / half_width, 0.0, 1.0) * min(1.0, gap / (0.05 * face_height))
    color = color + (TONGUE_COLOR - color) * (0.6 * tongue)[..., None]

    # 3. Upper teeth: a band under the upper lip, shaded toward the corners.
    teeth_height = min(0.35 * gap, 0.022 * face_height)
    if teeth_height >= 1.0:
        upper_edge = np.interp(cols[0], *_sorted_curve(outline[: len(outline) // 2 + 1]))[None, :]
        below_edge = rows - upper_edge
        band = np.clip(1.0 - (below_edge - teeth_height) / max(1.0, 0.35 * teeth_height), 0.0, 1.0) * (below_edge > -1)
        across = np.clip(1.0 - ((cols - center[0]) / (0.85 * half_width)) ** 2, 0.0, 1.0)
        shade = 0.5 + 0.45 * np.sqrt(across)
        teeth = band * across
        color = color + (TEETH_COLOR * shade[..., None] - color) * teeth[..., None]

    # 4. Blend into the frame.
    alpha = (mask * opacity)[..., None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = np.clip(region + (color - region) * alpha + 0.5, 0, 255).astype(np.uint8)


def _sorted_curve(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]
