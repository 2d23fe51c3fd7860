"""Aligned face crops: the generator's input square, and the way back into the frame.

A crop is a similarity transform of the frame: the face centre (midway between
forehead 10 and chin 152) goes to the crop centre, the eye line becomes
horizontal, and the face height becomes a fixed number of pixels. Training
crops, render-time crops and evaluation crops all come from `crop_affine`, so
the generator always gets faces at the scale it was trained on.
"""

from __future__ import annotations

import cv2
import numpy as np

from avatar.face import CHIN, FOREHEAD
from avatar.rig import LEFT_EYE_OUTER, RIGHT_EYE_OUTER

CROP_SIZE = 128
# Face height in crop pixels: 72 % of the crop, which leaves the brows, cheeks
# and chin inside with a margin for head motion.
FACE_PIXELS = 0.72 * CROP_SIZE
# Share of the crop side, at each border, over which a pasted crop fades out.
PASTE_FEATHER = 0.08


def crop_affine(landmarks: np.ndarray, size: int = CROP_SIZE, face_pixels: float = FACE_PIXELS) -> np.ndarray:
    """Return the 2x3 affine taking frame pixels to a `size`-pixel crop of the face.

    Args:
        landmarks: FaceMesh points in frame pixels, shape (N, 2+).
        face_pixels: the face height (landmarks 10 to 152) in the crop.
    """
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eye_axis = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    angle = np.arctan2(eye_axis[1], eye_axis[0])
    face_height = max(float(np.linalg.norm(points[FOREHEAD] - points[CHIN])), 1.0)
    scale = face_pixels / face_height
    center = 0.5 * (points[FOREHEAD] + points[CHIN])
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    linear = np.array([[cos, -sin], [sin, cos]])
    offset = np.array([size / 2.0, size / 2.0]) - linear @ center
    return np.concatenate([linear, offset[:, None]], axis=1)


def compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return the affine that applies `first` then `second` (both 2x3)."""
    return (np.vstack([second, (0, 0, 1)]) @ np.vstack([first, (0, 0, 1)]))[:2]


def invert(affine: np.ndarray) -> np.ndarray:
    """Invert a 2x3 affine."""
    return np.linalg.inv(np.vstack([affine, (0, 0, 1)]))[:2]


def transform_points(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to points (..., 2+); returns (..., 2)."""
    return np.asarray(points, dtype=np.float64)[..., :2] @ affine[:, :2].T + affine[:, 2]


def warp_crop(image: np.ndarray, affine: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Cut the crop out of `image` (H, W, C); shrinking first averages pixels instead of skipping them."""
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    if scale < 0.75:
        # warpAffine samples bilinearly, which aliases when shrinking by more than about 1.5x.
        height, width = image.shape[:2]
        small = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
        resize = np.array([[small[0] / width, 0.0, 0.0], [0.0, small[1] / height, 0.0]])
        affine = compose(invert(resize), affine)
    return cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def paste_crop(frame: np.ndarray, crop: np.ndarray, affine: np.ndarray, mask: np.ndarray) -> None:
    """Blend `crop` back into `frame` in place where `mask` (crop pixels, 0..1) is set.

    The mask is multiplied by a feather at the crop border, so a crop that
    covers only part of the face never leaves a seam.
    """
    size = crop.shape[0]
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / (PASTE_FEATHER * size), 0.0, 1.0)
    weight = (mask * np.minimum.outer(ramp, ramp)).astype(np.float32)
    height, width = frame.shape[:2]
    inverse = invert(affine)
    # Only the frame pixels under the crop's bounding box are touched.
    corners = transform_points(inverse, np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64))
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, (width, height))
    if x1 <= x0 or y1 <= y0:
        return
    local = compose(inverse, np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]]))
    box = (int(x1 - x0), int(y1 - y0))
    pixels = cv2.warpAffine(crop, local, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(weight, local, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    region = frame[y0:y1, x0:x1].astype(np.float32)
    blended = region + (pixels.astype(np.float32) - region) * alpha[..., None]
    frame[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
