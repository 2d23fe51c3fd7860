"""The landmark rig: moves the 478 FaceMesh points for one performance row.

Mouth shape, action units and blinks are linear blendshapes: each is a fixed
displacement field over the landmarks, built once from the portrait's own
geometry and scaled per frame. Head rotation is applied afterwards as a rigid
3-D rotation. All amplitudes are shares of the face height (forehead 10 to
chin 152), so the rig behaves the same at any image size.

Landmark indices follow mediapipe's FaceMesh topology (the canonical face
model with refine_landmarks=True).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar.face import CHIN, FOREHEAD
from avatar.performance import ACTION_UNITS, Performance

# ---- FaceMesh landmark indices (the subject's right side is image left).
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
MOUTH_CORNERS = (61, 78, 291, 308)
UPPER_INNER_CENTER, LOWER_INNER_CENTER = 13, 14
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
# Eyelids, ordered from the outer to the inner corner so that the upper and
# lower lists pair up point by point. The crease row lies just above the lid.
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
RIGHT_CREASE = (247, 30, 29, 27, 28, 56, 190)
RIGHT_UNDER_EYE = (25, 110, 24, 23, 22, 26, 112)
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)
LEFT_CREASE = (467, 260, 259, 257, 258, 286, 414)
LEFT_UNDER_EYE = (255, 339, 254, 253, 252, 256, 341)
# Brows from the outer to the inner end, upper and lower edge.
RIGHT_BROW = ((70, 46), (63, 53), (105, 52), (66, 65), (107, 55))
LEFT_BROW = ((300, 276), (293, 283), (334, 282), (296, 295), (336, 285))
NOSE_WINGS = (64, 98, 48, 294, 327, 278)
IRIS = tuple(range(468, 478))
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)

# ---- Amplitudes, as shares of the face height.
# Inner-lip gap at mouth_opening 1, a little over a tenth of the face: wide enough
# that a re-detected mouth opening follows the speech clearly.
MAX_LIP_GAP = 0.11
# Lower lip's share of the gap: the jaw carries the lower lip further than the upper lip rises.
LOWER_LIP_SHARE = 0.65
# Extra closing travel, as a share of the photo's own lip gap, that hides the
# teeth a smiling photo shows between its inner-lip points.
CLOSING_OVERSHOOT = 0.8
# Corner travel per side at mouth_width +1 (spread) and -1 (rounded).
SPREAD_TRAVEL = 0.03
ROUND_TRAVEL = 0.05


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """The face's own 2-D axes in image pixels.

    Attributes:
        origin: mouth centre (mean of landmarks 13 and 14), shape (2,).
        x_axis: unit vector from the subject's right eye to the left eye, shape (2,).
        y_axis: unit vector perpendicular to it, pointing toward the chin, shape (2,).
        scale: face height in pixels (landmarks 10 to 152).
    """

    origin: np.ndarray
    x_axis: np.ndarray
    y_axis: np.ndarray
    scale: float

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """Convert pixel points (..., 2) to face units (u right, v down)."""
        offset = points - self.origin
        return np.stack([offset @ self.x_axis, offset @ self.y_axis], axis=-1) / self.scale

    def to_pixels(self, vectors: np.ndarray) -> np.ndarray:
        """Convert displacement vectors (..., 2) in face units to pixels."""
        return (vectors[..., :1] * self.x_axis + vectors[..., 1:2] * self.y_axis) * self.scale


class FaceRig:
    """Blendshape rig built from one portrait's landmarks.

    Args:
        landmarks: FaceMesh points in the output image's pixels, shape (N, 3), N = 478.
    """

    def __init__(self, landmarks: np.ndarray) -> None:
        self.rest = landmarks.astype(np.float64)  # (N, 3)
        points = self.rest[:, :2]
        x_axis = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
        x_axis /= np.linalg.norm(x_axis)
        self.frame = FaceFrame(
            origin=(points[UPPER_INNER_CENTER] + points[LOWER_INNER_CENTER]) / 2,
            x_axis=x_axis,
            y_axis=np.array([-x_axis[1], x_axis[0]]),
            scale=float(np.linalg.norm(points[FOREHEAD] - points[CHIN])),
        )
        self.face = self.frame.to_face(points)  # (N, 2) in face units
        self.rest_gap = max(0.0, self.face[LOWER_INNER_CENTER, 1] - self.face[UPPER_INNER_CENTER, 1])

        # Blendshapes in face units, each (N, 2).
        self.opening_shape = self._opening_shape()
        self.closing_shape = self._closing_shape()
        self.width_shape = self._width_shape()
        self.blink_shape = self._blink_shape()
        self.unit_shapes = {name: self._action_unit_shape(name) for name in ACTION_UNITS}
        self.unit_shapes_pixels = np.stack([self.frame.to_pixels(self.unit_shapes[n]) for n in ACTION_UNITS])  # (A, N, 2)
        self.lid_units = np.array([name in ("AU5", "AU6", "AU7") for name in ACTION_UNITS])

        # Rotation pivot: below the chin (the neck) and at the depth of the ears.
        oval = self.rest[list(FACE_OVAL)]
        self.pivot = np.array([
            oval[:, 0].mean(),
            points[CHIN, 1] + 0.15 * self.frame.scale,
            0.5 * (self.rest[234, 2] + self.rest[454, 2]),
        ])

    # ---- per frame

    def displacement(self, performance: Performance, index: int) -> np.ndarray:
        """Return the expression and mouth displacement of every landmark in pixels, (N, 2)."""
        gap = MAX_LIP_GAP * float(performance.mouth_opening[index])
        width = float(performance.mouth_width[index])
        blink = float(performance.blink[index])
        units = performance.action_units[index].astype(np.float64)  # (A,)
        # The lids cannot be raised or tightened while they close.
        units = np.where(self.lid_units, units * (1.0 - blink), units)

        face_units = self.closing_shape + gap * self.opening_shape + blink * self.blink_shape
        travel = SPREAD_TRAVEL * width if width > 0 else ROUND_TRAVEL * width
        face_units = face_units + travel * self.width_shape
        moved = self.frame.to_pixels(face_units)
        return moved + np.tensordot(units, self.unit_shapes_pixels, axes=1)

    def head_transform(self, performance: Performance, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the head rotation matrix (3, 3) and translation in pixels (2,) for a frame."""
        yaw, pitch, roll = np.radians(performance.head_rotation[index].astype(np.float64))
        # Positive yaw moves the nose (nearer the camera, smaller z) toward image right.
        rotate_yaw = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
        # Positive pitch moves points in front of the pivot down: the chin drops.
        rotate_pitch = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
        # Positive roll is clockwise on screen (image y points down).
        rotate_roll = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
        rotation = rotate_roll @ rotate_pitch @ rotate_yaw
        shift = performance.head_translation[index].astype(np.float64) * self.frame.scale
        return rotation, shift

    def apply_head(self, points: np.ndarray, rotation: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Rotate points (M, 3) about the neck pivot and project them to the image, (M, 2)."""
        turned = (points - self.pivot) @ rotation.T + self.pivot
        return turned[:, :2] + shift

    def pose(self, performance: Performance, index: int) -> np.ndarray:
        """Return all landmarks for a frame in output pixels, (N, 2)."""
        points = self.rest.copy()
        points[:, :2] += self.displacement(performance, index)
        rotation, shift = self.head_transform(performance, index)
        return self.apply_head(points, rotation, shift)

    # ---- blendshapes, built once

    def _lip_geometry(self) -> tuple[float, np.ndarray]:
        """Return the mouth half-width and the lip seam height at each landmark's u, in face units."""
        face = self.face
        half_width = 0.5 * abs(face[291, 0] - face[61, 0])
        upper = face[list(LIPS_INNER_UPPER)]
        lower = face[list(LIPS_INNER_LOWER)]
        order_upper = np.argsort(upper[:, 0])
        order_lower = np.argsort(lower[:, 0])
        seam = 0.5 * (
            np.interp(face[:, 0], upper[order_upper, 0], upper[order_upper, 1])
            + np.interp(face[:, 0], lower[order_lower, 0], lower[order_lower, 1])
        )
        return half_width, seam

    def _opening_shape(self) -> np.ndarray:
        """Displacement that widens the inner-lip gap at the centre by one face-height unit."""
        half_width, _ = self._lip_geometry()
        # Elliptic lip profile: full travel at the centre, none at the corners.
        profile = np.sqrt(np.clip(1.0 - (self.face[:, 0] / half_width) ** 2, 0.0, 1.0))
        return self._lip_shape(-(1.0 - LOWER_LIP_SHARE) * profile, LOWER_LIP_SHARE * profile, LOWER_LIP_SHARE)

    def _closing_shape(self) -> np.ndarray:
        """Displacement that brings the photo's inner lips together along their whole length.

        Measuring the gap at every point (not only at the centre) keeps the
        lips from crossing near the corners when a smiling, open mouth closes.
        """
        face = self.face
        upper = face[list(LIPS_INNER_UPPER)]
        lower = face[list(LIPS_INNER_LOWER)]
        order_upper = np.argsort(upper[:, 0])
        order_lower = np.argsort(lower[:, 0])
        upper_v = np.interp(face[:, 0], upper[order_upper, 0], upper[order_upper, 1])
        lower_v = np.interp(face[:, 0], lower[order_lower, 0], lower[order_lower, 1])
        gap = np.maximum(lower_v - upper_v, 0.0)  # photo's gap at each landmark's u
        shape = self._lip_shape((1.0 - LOWER_LIP_SHARE) * gap, -LOWER_LIP_SHARE * gap, -LOWER_LIP_SHARE * self.rest_gap)

        # FaceMesh puts the inner-lip points of a toothy smile on the teeth a little
        # inside the lip edges, so closing only that gap leaves a band of teeth.
        # The lip rows next to the inner lip close further, squeezing that band,
        # but never past the inner-lip point below (or above) them.
        distance = np.where(face[:, 1] < upper_v, upper_v - face[:, 1], face[:, 1] - lower_v)  # to the inner lip
        near = np.exp(-((distance / 0.025) ** 2)) * (distance > 1e-4) * (np.abs(face[:, 0]) < self._lip_geometry()[0])
        squeeze = np.minimum(CLOSING_OVERSHOOT * gap, 0.7 * distance) * near
        side = np.where(face[:, 1] < upper_v, 1.0, -1.0)  # upper rows move down, lower rows up
        shape[:, 1] += side * squeeze
        shape[list(IRIS)] = 0.0
        return shape

    def _lip_shape(self, upper_travel: np.ndarray, lower_travel: np.ndarray, jaw_travel: float) -> np.ndarray:
        """Spread vertical lip travel (per landmark, by its u) over the lips and the jaw.

        Args:
            upper_travel: downward travel of the upper inner lip at each landmark's u, (N,).
            lower_travel: downward travel of the lower inner lip at each landmark's u, (N,).
            jaw_travel: downward travel of the chin.
        """
        face = self.face
        half_width, seam = self._lip_geometry()
        u, v = face[:, 0], face[:, 1]
        # The jaw carries the chin fully and fades toward the ears.
        jaw_profile = np.exp(-((u / 0.30) ** 2))
        below = v - seam
        # Lower lip (about 0.08 face heights thick) hands over to the jaw below it.
        toward_jaw = _smoothstep(below / 0.08)
        lower = lower_travel * (1.0 - toward_jaw) + jaw_travel * jaw_profile * toward_jaw
        # Upper lip moves, the philtrum a little, the nose not at all.
        upper = upper_travel * np.exp(-((np.minimum(below, 0.0) / 0.07) ** 2))

        is_lower = below > 0
        is_lower[list(LIPS_INNER_LOWER)] = True
        is_lower[list(LIPS_INNER_UPPER)] = False
        is_lower[list(MOUTH_CORNERS)] = False
        # Points level with the mouth beside the corners stay put; the jaw starts below them.
        beside = np.abs(u) > half_width
        lower = np.where(beside, jaw_travel * jaw_profile * _smoothstep(below / 0.10), lower)
        upper = np.where(beside, 0.0, upper)

        shape = np.zeros_like(face)
        shape[:, 1] = np.where(is_lower, lower, upper)
        shape[list(IRIS)] = 0.0
        shape[list(MOUTH_CORNERS)] = 0.0
        return shape

    def _width_shape(self) -> np.ndarray:
        """Displacement that moves each mouth corner outward by one face-height unit."""
        face = self.face
        half_width, seam = self._lip_geometry()
        u, v = face[:, 0], face[:, 1]
        outside = np.maximum(np.abs(u) - half_width, 0.0)
        falloff = np.exp(-((outside / 0.08) ** 2)) * np.exp(-(((v - seam) / 0.09) ** 2))
        shape = np.zeros_like(face)
        shape[:, 0] = np.clip(u / half_width, -1.5, 1.5) * falloff
        shape[list(IRIS)] = 0.0
        return shape

    def _blink_shape(self) -> np.ndarray:
        """Displacement that closes both eyes: the upper lid meets the lower lid."""
        face = self.face
        shape = np.zeros_like(face)
        for upper, lower, crease, under in (
            (RIGHT_UPPER_LID, RIGHT_LOWER_LID, RIGHT_CREASE, RIGHT_UNDER_EYE),
            (LEFT_UPPER_LID, LEFT_LOWER_LID, LEFT_CREASE, LEFT_UNDER_EYE),
        ):
            gap = face[list(lower)] - face[list(upper)]  # (7, 2)
            # The upper lid does most of the travel; they meet at 85 % of the gap.
            shape[list(upper)] = 0.85 * gap
            shape[list(lower)] = -0.15 * gap
            shape[list(crease)] = 0.35 * gap
            shape[list(under)] = -0.05 * gap
        # The iris hides behind the closing lid; it follows half the lid travel.
        for iris_indices, upper in ((range(468, 473), RIGHT_UPPER_LID), (range(473, 478), LEFT_UPPER_LID)):
            shape[list(iris_indices), 1] = 0.5 * shape[list(upper), 1].mean()
        return shape

    def _action_unit_shape(self, name: str) -> np.ndarray:
        """Displacement of one action unit at full intensity, in face units."""
        face = self.face
        handles: list[tuple[int, tuple[float, float]]] = []
        spread = 0.06  # Gaussian radius of a handle's influence, face heights
        allowed = np.ones(len(face), dtype=bool)
        above_lids = self._above_lids()

        def corners(outward: float, down: float) -> None:
            for index in MOUTH_CORNERS:
                side = np.sign(face[index, 0])
                handles.append((index, (side * outward, down)))

        if name in ("AU1", "AU2", "AU4"):
            allowed = above_lids
            for brow in (RIGHT_BROW, LEFT_BROW):
                for position, pair in enumerate(brow):
                    inner = position / (len(brow) - 1)  # 0 at the outer end, 1 at the inner end
                    medial = -np.sign(face[pair[0], 0])  # toward the nose
                    if name == "AU1":
                        vector = (0.0, -0.055 * inner**1.5)
                    elif name == "AU2":
                        vector = (0.0, -0.04 * (1.0 - inner) ** 1.5)
                    else:
                        vector = (0.012 * medial * (0.4 + 0.6 * inner), 0.03 * (0.5 + 0.5 * inner))
                    handles += [(pair[0], vector), (pair[1], vector)]
            spread = 0.05
        elif name == "AU5":
            allowed = ~self._below_lower_lids()
            for upper, crease in ((RIGHT_UPPER_LID, RIGHT_CREASE), (LEFT_UPPER_LID, LEFT_CREASE)):
                for position, index in enumerate(upper):
                    lift = 0.014 * np.sin(np.pi * (position + 1) / (len(upper) + 1))
                    handles += [(index, (0.0, -lift)), (crease[position], (0.0, -0.6 * lift))]
            spread = 0.015
        elif name in ("AU6", "AU7"):
            allowed = ~above_lids
            for lower, under in ((RIGHT_LOWER_LID, RIGHT_UNDER_EYE), (LEFT_LOWER_LID, LEFT_UNDER_EYE)):
                lift = 0.008 if name == "AU6" else 0.01
                for position, index in enumerate(lower):
                    profile = np.sin(np.pi * (position + 1) / (len(lower) + 1))
                    handles += [(index, (0.0, -lift * profile)), (under[position], (0.0, -0.018 if name == "AU6" else -0.004))]
            spread = 0.05 if name == "AU6" else 0.02
        elif name == "AU9":
            for index in NOSE_WINGS:
                handles.append((index, (0.0, -0.015)))
            for index in LIPS_OUTER_UPPER[2:-2]:
                handles.append((index, (0.0, -0.008)))
            spread = 0.035
        elif name == "AU10":
            for index in LIPS_OUTER_UPPER[1:-1] + LIPS_INNER_UPPER[1:-1]:
                handles.append((index, (0.0, -0.022)))
            spread = 0.03
        elif name == "AU12":
            corners(0.025, -0.045)
            # A closed-mouth smile stretches the lips thin and presses the lower lip up.
            for index in LIPS_INNER_LOWER[3:-3] + LIPS_OUTER_LOWER[3:-3]:
                handles.append((index, (0.0, -0.012)))
            spread = 0.06
        elif name == "AU15":
            corners(0.005, 0.035)
            spread = 0.07
        elif name == "AU20":
            corners(0.035, 0.008)
            spread = 0.07
        elif name == "AU23":
            corners(-0.015, 0.0)
            for index in LIPS_OUTER_UPPER[1:-1]:
                handles.append((index, (0.0, 0.008)))
            for index in LIPS_OUTER_LOWER[1:-1]:
                handles.append((index, (0.0, -0.008)))
            spread = 0.04
        # AU26 (jaw drop) acts through the mouth opening in `perform`, so it has no shape here.

        shape = _spread_handles(face, handles, spread)
        shape[~allowed] = 0.0
        shape[list(IRIS)] = 0.0
        return shape

    def _above_lids(self) -> np.ndarray:
        """Mask of landmarks above the upper-lid line of either eye (brows, forehead, creases)."""
        face = self.face
        lid = np.concatenate([face[list(RIGHT_UPPER_LID)], face[list(LEFT_UPPER_LID)]])
        lid_top = lid[:, 1].min()
        mask = face[:, 1] < lid_top - 0.002
        mask[list(RIGHT_CREASE + LEFT_CREASE)] = True
        mask[list(RIGHT_UPPER_LID + LEFT_UPPER_LID)] = False
        return mask

    def _below_lower_lids(self) -> np.ndarray:
        face = self.face
        lid = np.concatenate([face[list(RIGHT_LOWER_LID)], face[list(LEFT_LOWER_LID)]])
        mask = face[:, 1] > lid[:, 1].min()
        mask[list(RIGHT_LOWER_LID + LEFT_LOWER_LID)] = True
        return mask


def _spread_handles(face: np.ndarray, handles: list[tuple[int, tuple[float, float]]], spread: float) -> np.ndarray:
    """Spread handle displacements over all points with Gaussian weights.

    Near a cluster of handles the result is their weighted mean; away from
    them it decays like a single Gaussian of radius `spread`.
    """
    if not handles:
        return np.zeros_like(face)
    indices = np.array([index for index, _ in handles])
    vectors = np.array([vector for _, vector in handles])  # (K, 2)
    distance_sq = ((face[:, None, :] - face[indices][None, :, :]) ** 2).sum(axis=-1)  # (N, K)
    weight = np.exp(-distance_sq / (2.0 * spread**2))
    total = np.maximum(weight.sum(axis=1, keepdims=True), 1.0)
    return (weight @ vectors) / total


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
