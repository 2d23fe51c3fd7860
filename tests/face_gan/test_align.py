"""Aligned crops: geometry, and pasting a crop back into the frame."""

import numpy as np

from avatar.face import CHIN, FOREHEAD
from avatar.rig import LEFT_EYE_OUTER, RIGHT_EYE_OUTER
from face_gan.align import (
    CROP_SIZE,
    FACE_PIXELS,
    crop_affine,
    invert,
    paste_crop,
    transform_points,
    warp_crop,
)


def _face(angle_deg: float, scale: float, center=(300.0, 220.0)) -> np.ndarray:
    """Landmarks with eyes, forehead and chin placed on a rotated, scaled face."""
    points = np.zeros((478, 2))
    base = {RIGHT_EYE_OUTER: (-0.3, -0.1), LEFT_EYE_OUTER: (0.3, -0.1), FOREHEAD: (0.0, -0.5), CHIN: (0.0, 0.5)}
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for index, point in base.items():
        points[index] = rotation @ (np.array(point) * scale) + center
    return points


def test_crop_levels_eyes_and_scales():
    points = _face(angle_deg=20.0, scale=180.0)
    local = transform_points(crop_affine(points), points)
    assert abs(local[LEFT_EYE_OUTER, 1] - local[RIGHT_EYE_OUTER, 1]) < 1e-6
    assert np.isclose(np.linalg.norm(local[FOREHEAD] - local[CHIN]), FACE_PIXELS)
    assert np.allclose((local[FOREHEAD] + local[CHIN]) / 2, CROP_SIZE / 2)


def test_crop_paste_round_trip():
    rng = np.random.default_rng(0)
    # A smooth image, so resampling twice changes little.
    frame = (np.kron(rng.integers(0, 255, (24, 32, 3)), np.ones((20, 20, 1)))).astype(np.uint8)
    frame = np.ascontiguousarray(frame)
    points = _face(angle_deg=-8.0, scale=200.0)
    affine = crop_affine(points)
    crop = warp_crop(frame, affine)
    pasted = frame.copy()
    paste_crop(pasted, crop, affine, np.ones((CROP_SIZE, CROP_SIZE), dtype=np.float32))
    center = transform_points(invert(affine), np.array([[CROP_SIZE / 2, CROP_SIZE / 2]]))[0].astype(int)
    window = (slice(center[1] - 40, center[1] + 40), slice(center[0] - 40, center[0] + 40))
    assert np.abs(pasted[window].astype(int) - frame[window].astype(int)).mean() < 12


def test_paste_empty_mask_no_change():
    frame = np.full((400, 500, 3), 90, dtype=np.uint8)
    points = _face(angle_deg=0.0, scale=150.0, center=(250.0, 200.0))
    before = frame.copy()
    paste_crop(frame, np.full((CROP_SIZE, CROP_SIZE, 3), 255, dtype=np.uint8), crop_affine(points),
               np.zeros((CROP_SIZE, CROP_SIZE), dtype=np.float32))
    assert np.array_equal(frame, before)


def test_paste_stays_in_footprint():
    frame = np.full((600, 600, 3), 90, dtype=np.uint8)
    points = _face(angle_deg=0.0, scale=100.0, center=(300.0, 300.0))
    paste_crop(frame, np.full((CROP_SIZE, CROP_SIZE, 3), 255, dtype=np.uint8), crop_affine(points),
               np.ones((CROP_SIZE, CROP_SIZE), dtype=np.float32))
    # The crop spans 128 / 92.16 face heights = about 139 px around the centre.
    assert frame[300, 300, 0] > 250
    assert frame[300, 50, 0] == 90
    assert frame[50, 300, 0] == 90
