"""The renderer: warps the portrait to each performance row and yields frames.

Each frame moves the 478 landmarks with the rig (`avatar.rig`). A
piecewise-affine warp then maps the image over a Delaunay mesh of the
landmarks and anchor points. The anchors are a ring around the head, which
follows the head motion, and an outer ring and the image border, which stay
still. Only the triangles that moved are rasterised, and the rest of the
frame is a copy of the resized portrait. An opened mouth gets a painted
interior (`avatar.mouth`). With a face GAN generator (`face_gan`), the
warped face is then refined: mouth interior and expression shading.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy.spatial import Delaunay

from avatar.errors import AvatarError
from avatar.face import Portrait
from avatar.images import fitted_size
from avatar.mouth import fill_mouth_interior
from avatar.performance import Performance
from avatar.rig import (
    FACE_OVAL,
    IRIS,
    LIPS_INNER_LOWER,
    LIPS_INNER_UPPER,
    LOWER_INNER_CENTER,
    UPPER_INNER_CENTER,
    FaceRig,
)

if TYPE_CHECKING:
    from face_gan.models import Generator

logger = logging.getLogger(__name__)

MIN_SIZE, MAX_SIZE = 64, 4096
# Head ring (moves with the head) and still ring, as multiples of the face
# oval's extent around its centre. Hair and neck between them stretch a little.
HEAD_RING_SCALE = 1.35
STILL_RING_SCALE = 2.2
RING_POINTS = 24
BORDER_POINTS_PER_SIDE = 6
# A vertex that moves less than this (pixels) counts as still.
STILL_TOLERANCE = 0.05
# The painted mouth fades in over this much opening beyond the photo's own gap
# (share of the face height), so a barely parted mouth keeps the photo's pixels.
MOUTH_FILL_RAMP = 0.025


@dataclass(frozen=True, eq=False)
class RenderedFrame:
    """One rendered frame.

    Attributes:
        image: RGB, uint8, shape (H, W, 3).
        alpha: person mask, uint8, shape (H, W), 255 = person.
        landmarks: the frame's target landmarks in pixels, float32, shape (N, 2).
    """

    image: np.ndarray
    alpha: np.ndarray
    landmarks: np.ndarray


class Renderer:
    """Render a portrait driven by a Performance.

    Args:
        portrait: the analysed portrait.
        size: the output's longer side in pixels; the aspect ratio is kept and
            both sides are rounded to even numbers (H.264 with yuv420p needs that).
        generator: a face GAN generator that refines each warped frame; None renders warp-only.

    Raises:
        AvatarError: `size` outside 64..4096.
    """

    def __init__(self, portrait: Portrait, size: int, generator: Generator | None = None) -> None:
        if not isinstance(size, int | np.integer) or not MIN_SIZE <= size <= MAX_SIZE:
            raise AvatarError("invalid_size", value=size, low=MIN_SIZE, high=MAX_SIZE)

        # 1. Fit the full-resolution portrait to the output size.
        self.width, self.height = fitted_size(portrait.width, portrait.height, size)
        shrinking = self.width < portrait.width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        self.image = cv2.resize(portrait.image, (self.width, self.height), interpolation=interpolation)
        self.mask = cv2.resize(portrait.mask, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        scale_x = self.width / portrait.width
        scale_y = self.height / portrait.height
        landmarks = portrait.landmarks.astype(np.float64) * (scale_x, scale_y, scale_x)

        # 2. The rig and the mesh.
        self.rig = FaceRig(landmarks)
        self._mesh_landmarks = np.array([i for i in range(len(landmarks)) if i not in set(IRIS)])
        head_ring, still_points = self._anchors(landmarks)
        self._head_ring = head_ring  # (R, 3), moves with the head
        self._rest_points = np.concatenate([landmarks[self._mesh_landmarks, :2], head_ring[:, :2], still_points])  # (M, 2)
        self._num_moving = len(self._mesh_landmarks) + len(head_ring)
        self._triangles = self._triangulate()
        self._inner_lip_outline = np.array(list(LIPS_INNER_UPPER) + list(LIPS_INNER_LOWER[-2:0:-1]))

        # 3. The refiner takes the portrait's own aligned face as its reference.
        self.refiner = None
        if generator is not None:
            from face_gan.refiner import GanRefiner

            self.refiner = GanRefiner(generator, self.image, landmarks)
        logger.debug("renderer %dx%d: %d mesh points, %d triangles", self.width, self.height, len(self._rest_points), len(self._triangles))

    # ---- public

    def frames(self, performance: Performance) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (image, alpha) for every frame of the performance, one at a time.

        image: RGB uint8 (H, W, 3); alpha: person mask uint8 (H, W), 255 = person.
        """
        # The GAN runs in this thread too. Refining frame i in a second thread while this one
        # warped frame i + 1 was measured 1.2x slower on 2 cores, because torch's own threads
        # and the warp then compete for the same cores.
        for index in range(performance.num_frames):
            frame = self.render(performance, index)
            yield frame.image, frame.alpha

    def render(self, performance: Performance, index: int) -> RenderedFrame:
        """Render frame `index` of the performance."""
        # 1. Move the landmarks and the head ring.
        landmarks = self.rig.pose(performance, index)  # (N, 2)
        rotation, shift = self.rig.head_transform(performance, index)
        ring = self.rig.apply_head(self._head_ring, rotation, shift)
        frame = self._render_points(landmarks, ring)

        # 4. The GAN refines the face: mouth interior and expression shading.
        if self.refiner is not None:
            self.refiner.refine(frame.image, landmarks, int(performance.emotion[index]), float(performance.intensity[index]))
        return frame

    def warp_to(self, landmarks: np.ndarray) -> RenderedFrame:
        """Warp the portrait so that its landmarks land on `landmarks` (N, 2+), output pixels.

        This is the renderer's own warp driven by landmarks from elsewhere (another
        video frame), which is how the face GAN's training pairs are made. The head
        ring follows the least-squares similarity transform of the face oval.
        """
        target = np.asarray(landmarks, dtype=np.float64)[:, :2]
        oval = list(FACE_OVAL)
        matrix = similarity_transform(self.rig.rest[oval, :2], target[oval])  # (2, 3)
        ring = self._head_ring[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        return self._render_points(target, ring)

    def _render_points(self, landmarks: np.ndarray, ring: np.ndarray) -> RenderedFrame:
        """Warp to moved landmarks (N, 2) and head ring (R, 2), then paint an opened mouth."""
        target = self._rest_points.copy()
        target[: len(self._mesh_landmarks)] = landmarks[self._mesh_landmarks]
        target[len(self._mesh_landmarks) : self._num_moving] = ring

        # 2. Warp image and mask over the moved triangles.
        image, alpha = self._warp(target)

        # 3. Paint the mouth interior where the mouth opens beyond the photo's own gap.
        face_height = self.rig.frame.scale
        gap = float(np.linalg.norm(landmarks[LOWER_INNER_CENTER] - landmarks[UPPER_INNER_CENTER]))
        excess = (gap - self.rig.rest_gap * face_height) / (MOUTH_FILL_RAMP * face_height)
        opacity = float(np.clip(excess, 0.0, 1.0))
        if opacity > 0.0:
            fill_mouth_interior(image, landmarks[self._inner_lip_outline], face_height, opacity)
        return RenderedFrame(image=image, alpha=alpha, landmarks=landmarks.astype(np.float32))

    # ---- mesh

    def _anchors(self, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the head ring (R, 3) and the still points (S, 2)."""
        oval = landmarks[list(FACE_OVAL), :2]
        center = oval.mean(axis=0)
        radius = np.abs(oval - center).max(axis=0)  # (2,) half extents
        angles = np.linspace(0.0, 2.0 * np.pi, RING_POINTS, endpoint=False)
        circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        head_ring = center + circle * radius * HEAD_RING_SCALE
        still_ring = center + circle * radius * STILL_RING_SCALE
        # The ring sits at the depth of the ears, so head turns move it like the skull.
        depth = np.full((RING_POINTS, 1), landmarks[list(FACE_OVAL), 2].max())
        head_ring = np.concatenate([head_ring, depth], axis=1)

        w, h = self.width - 1, self.height - 1
        steps = np.linspace(0.0, 1.0, BORDER_POINTS_PER_SIDE + 1)[:-1]
        border = np.concatenate([
            np.stack([steps * w, np.zeros_like(steps)], axis=1),
            np.stack([np.full_like(steps, w), steps * h], axis=1),
            np.stack([w - steps * w, np.full_like(steps, h)], axis=1),
            np.stack([np.zeros_like(steps), h - steps * h], axis=1),
        ])
        # Keep ring points inside the frame and away from the border points.
        head_ring = head_ring[_inside(head_ring, w, h)]
        still_ring = still_ring[_inside(still_ring, w, h)]
        return head_ring, np.concatenate([still_ring, border])

    def _triangulate(self) -> np.ndarray:
        """Delaunay triangles (T, 3) over the mesh points, laid out with the mouth open.

        Triangulating the photo as it is would join the lips across a closed
        mouth in arbitrary ways. With the mouth opened first, only triangles
        between the upper and the lower inner lip span the gap.
        """
        opened = self.rig.rest.copy()
        opened[:, :2] += self.rig.frame.to_pixels(self.rig.closing_shape + 0.08 * self.rig.opening_shape)
        layout = self._rest_points.copy()
        layout[: len(self._mesh_landmarks)] = opened[self._mesh_landmarks, :2]
        return Delaunay(layout).simplices.astype(np.int32)

    # ---- warp

    def _warp(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Warp image and mask so that the rest points land on `target` (M, 2)."""
        image = self.image.copy()
        alpha = self.mask.copy()
        moved = np.abs(target - self._rest_points).max(axis=1) > STILL_TOLERANCE  # (M,)
        active = self._triangles[moved[self._triangles].any(axis=1)]  # (T_a, 3)
        if len(active) == 0:
            return image, alpha

        # 1. Region of interest: the moved triangles in the output.
        corners = target[active].reshape(-1, 2)
        x0 = max(int(np.floor(corners[:, 0].min())), 0)
        y0 = max(int(np.floor(corners[:, 1].min())), 0)
        x1 = min(int(np.ceil(corners[:, 0].max())) + 1, self.width)
        y1 = min(int(np.ceil(corners[:, 1].max())) + 1, self.height)
        if x1 <= x0 or y1 <= y0:
            return image, alpha

        # 2. Affine map of each active triangle from output to source pixels.
        destination = target[active]  # (T_a, 3, 2)
        source = self._rest_points[active]  # (T_a, 3, 2)
        affine = _triangle_affines(destination, source)  # (T_a + 1, 2, 3), last one the identity

        # 3. Rasterise triangle indices; pixels outside every active triangle keep the identity.
        #    Flat triangles go first: their edge pixels are better served by any neighbour.
        owner = np.full((y1 - y0, x1 - x0), len(active), dtype=np.int32)
        fixed = np.round((destination - (x0, y0)) * 16).astype(np.int32)  # 4 fractional bits
        for number in np.argsort(np.abs(_doubled_areas(destination)), kind="stable"):
            cv2.fillConvexPoly(owner, fixed[number], int(number), lineType=cv2.LINE_8, shift=4)

        # 4. Source coordinates for every pixel, then resample.
        columns = np.arange(x0, x1, dtype=np.float32)[None, :]
        rows = np.arange(y0, y1, dtype=np.float32)[:, None]
        matrix = affine[owner]  # (h, w, 2, 3)
        map_x = matrix[..., 0, 0] * columns + matrix[..., 0, 1] * rows + matrix[..., 0, 2]
        map_y = matrix[..., 1, 0] * columns + matrix[..., 1, 1] * rows + matrix[..., 1, 2]
        image[y0:y1, x0:x1] = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha[y0:y1, x0:x1] = cv2.remap(self.mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return image, alpha


def _inside(points: np.ndarray, right: float, bottom: float, margin: float = 2.0) -> np.ndarray:
    """Return which points (M, 2+) lie inside the frame by more than `margin` pixels."""
    x, y = points[:, 0], points[:, 1]
    return (x > margin) & (x < right - margin) & (y > margin) & (y < bottom - margin)


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (2, 3) taking points `source` (M, 2) to `target` (M, 2)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    a, b = source - source_mean, target - target_mean
    denominator = max(float((a**2).sum()), 1e-9)
    cos_part = float((a * b).sum()) / denominator
    sin_part = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()) / denominator
    linear = np.array([[cos_part, -sin_part], [sin_part, cos_part]])
    return np.concatenate([linear, (target_mean - linear @ source_mean)[:, None]], axis=1)


def _doubled_areas(triangles: np.ndarray) -> np.ndarray:
    """Return twice the signed area of each triangle (T, 3, 2), shape (T,)."""
    first = triangles[:, 1] - triangles[:, 0]
    second = triangles[:, 2] - triangles[:, 0]
    return first[:, 0] * second[:, 1] - first[:, 1] * second[:, 0]


def _triangle_affines(destination: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Return per-triangle 2x3 affines mapping destination to source points, plus an identity.

    A triangle squashed flat in the destination (a closed mouth or eye) covers
    no pixels, so it gets a plain translation instead of a singular inverse.
    """
    count = len(destination)
    homogeneous = np.concatenate([destination, np.ones((count, 3, 1))], axis=2).transpose(0, 2, 1)  # (T, 3, 3)
    determinant = np.linalg.det(homogeneous)
    flat = np.abs(determinant) < 1e-3
    homogeneous[flat] = np.eye(3)
    inverse = np.linalg.inv(homogeneous)  # (T, 3, 3)
    affine = source.transpose(0, 2, 1) @ inverse  # (T, 2, 3)
    translation = source.mean(axis=1) - destination.mean(axis=1)  # (T, 2)
    affine[flat] = 0.0
    affine[flat, 0, 0] = affine[flat, 1, 1] = 1.0
    affine[flat, :, 2] = translation[flat]
    identity = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    return np.concatenate([affine, identity]).astype(np.float32)
