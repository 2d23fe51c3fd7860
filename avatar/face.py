"""Portrait loading: the image, its 478 face landmarks and a person mask.

The portrait is analysed once. Landmarks come from mediapipe FaceMesh with
refined eyes and lips (478 points); the person mask comes from the image's own
alpha channel when it has transparency, else from mediapipe SelfieSegmentation.
Detection runs on a working copy of bounded size, but the Portrait keeps the
full-resolution image so that the renderer can resize it straight to the
output size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import cv2
import mediapipe as mp
import numpy as np

from avatar.errors import AvatarError
from avatar.images import open_image

logger = logging.getLogger(__name__)

NUM_LANDMARKS = 478
# FaceMesh indices of the forehead top and the chin bottom. Their distance is
# the face height, the unit of every size threshold and rig amplitude.
FOREHEAD, CHIN = 10, 152

# A portrait whose shorter side is below this cannot give a usable face.
MIN_PORTRAIT_SIDE = 128
# The face must be at least this many pixels tall in the source image and
# fill this share of the image height, or a 512 px render shows it too small.
MIN_FACE_PIXELS = 64
MIN_FACE_FRACTION = 0.10
# Detection runs on a copy whose longer side is at most this; FaceMesh crops
# the face to 192x192 internally, so more pixels add cost and no precision.
DETECTION_MAX_SIDE = 1280
# Transparent images are composited over this mid grey, which neither the
# face detector nor a later background replacement mistakes for skin.
NEUTRAL_BACKGROUND = (128, 128, 128)
# An alpha channel counts as a person mask only when this share of pixels is
# at least partly transparent, because many PNGs carry a fully opaque alpha.
ALPHA_MASK_MIN_TRANSPARENT = 0.01

_DEFAULT_PORTRAIT = "default_portrait.png"


@dataclass(frozen=True, eq=False)
class Portrait:
    """A still portrait analysed for animation.

    Attributes:
        image: RGB pixels at full resolution, uint8, shape (H, W, 3); any
            transparency is already composited over a neutral grey.
        landmarks: FaceMesh points of the largest face in pixels of `image`,
            float32, shape (N, 3) with N = 478: x, y, and z (depth, in the same
            pixel scale as x, smaller is nearer the camera).
        mask: person mask, uint8, shape (H, W), 255 = person.
        mask_source: "alpha" when the mask is the image's alpha channel,
            "segmentation" when mediapipe SelfieSegmentation estimated it.
        path: the file it was read from; None for the embedded default.
    """

    image: np.ndarray
    landmarks: np.ndarray
    mask: np.ndarray
    mask_source: Literal["alpha", "segmentation"]
    path: Path | None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def face_height(self) -> float:
        """Forehead-to-chin distance in pixels (landmarks 10 and 152)."""
        return float(np.linalg.norm(self.landmarks[FOREHEAD, :2] - self.landmarks[CHIN, :2]))


def default_portrait_path() -> Path:
    """Return the path of the embedded default portrait (NASA photo, public domain)."""
    return Path(str(resources.files("avatar") / "assets" / _DEFAULT_PORTRAIT))


def load_portrait(path: Path | None, landmarks: np.ndarray | None = None) -> Portrait:
    """Read a portrait, find the largest face and estimate the person mask.

    Args:
        path: a PNG or JPEG file; None selects the embedded default portrait.
        landmarks: the face's FaceMesh points (478, 3) in the image's pixels when
            they are already known (an avatar profile stores them); detection is skipped.

    Raises:
        AvatarError: the file is missing or unreadable, too small, shows no
            face, or the face is too small to animate.
    """
    # 1. Read, orient and flatten the image.
    source = default_portrait_path() if path is None else Path(path)
    shown = str(source) if path is not None else "default portrait"
    rgb, alpha = _read_image(source, shown)
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_PORTRAIT_SIDE:
        raise AvatarError("portrait_too_small", path=shown, width=width, height=height, minimum=MIN_PORTRAIT_SIDE)

    # 2. Detect landmarks on a working copy and keep the largest face.
    scale = min(1.0, DETECTION_MAX_SIDE / max(height, width))
    working = rgb if scale == 1.0 else cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    if landmarks is None:
        faces = detect_faces(working)
        if not faces:
            raise AvatarError("no_face", path=shown)
        largest = max(faces, key=_face_area)
        landmarks = (largest / scale).astype(np.float32)  # back to full-resolution pixels
        logger.debug("found %d face(s) in %s; kept the largest", len(faces), shown)
    landmarks = np.asarray(landmarks, dtype=np.float32)

    # 3. Reject faces too small to animate.
    face_height = float(np.linalg.norm(landmarks[FOREHEAD, :2] - landmarks[CHIN, :2]))
    if face_height < MIN_FACE_PIXELS or face_height < MIN_FACE_FRACTION * height:
        raise AvatarError("face_too_small", path=shown, face=round(face_height), percent=round(MIN_FACE_FRACTION * 100))

    # 4. Person mask: the alpha channel when it is a real cut-out, else segmentation.
    if alpha is not None:
        mask, mask_source = alpha, "alpha"
    else:
        mask, mask_source = _segment_person(working, (width, height)), "segmentation"

    logger.info("loaded portrait %s (%dx%d, face %.0f px tall, mask from %s)", shown, width, height, face_height, mask_source)
    return Portrait(image=rgb, landmarks=landmarks, mask=mask, mask_source=mask_source, path=None if path is None else source)


def detect_faces(rgb: np.ndarray) -> list[np.ndarray]:
    """Find every face FaceMesh can see in an RGB image.

    FaceMesh's own detector is a short-range model that misses small faces,
    so the image is also searched with the full-range face detector and
    FaceMesh runs again on a crop around each face it finds.

    Args:
        rgb: uint8 image, shape (H, W, 3).

    Returns:
        One float array of shape (N, 3) per face: x, y in pixels of `rgb` and
        z in the same pixel scale.
    """
    height, width = rgb.shape[:2]
    faces = _mesh_faces(rgb, max_faces=4)

    with mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as detector:
        detections = detector.process(rgb).detections or []
    for detection in detections:
        box = detection.location_data.relative_bounding_box
        # A crop twice the face box shows the face at a size FaceMesh detects.
        center_x = (box.xmin + box.width / 2) * width
        center_y = (box.ymin + box.height / 2) * height
        half = max(box.width * width, box.height * height)
        x0, y0 = max(0, int(center_x - half)), max(0, int(center_y - half))
        x1, y1 = min(width, int(center_x + half)), min(height, int(center_y + half))
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        for face in _mesh_faces(np.ascontiguousarray(rgb[y0:y1, x0:x1]), max_faces=1):
            face[:, 0] += x0
            face[:, 1] += y0
            faces.append(face)
    return faces


def _mesh_faces(rgb: np.ndarray, max_faces: int) -> list[np.ndarray]:
    height, width = rgb.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=max_faces, min_detection_confidence=0.5) as mesh:
        result = mesh.process(rgb)
    faces = []
    for face in result.multi_face_landmarks or []:
        points = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float64)  # (N, 3), normalised
        if len(points) != NUM_LANDMARKS:
            logger.warning("FaceMesh returned %d landmarks instead of %d; face ignored", len(points), NUM_LANDMARKS)
            continue
        # mediapipe scales z like x (by the image width).
        points *= (width, height, width)
        faces.append(points)
    return faces


def _face_area(landmarks: np.ndarray) -> float:
    extent = landmarks[:, :2].max(axis=0) - landmarks[:, :2].min(axis=0)
    return float(extent[0] * extent[1])


def _read_image(path: Path, shown: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the RGB pixels (alpha composited) and the alpha channel if it is a cut-out."""
    image = open_image(path, shown, "portrait_unreadable")

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return np.asarray(image.convert("RGB")).copy(), None

    rgba = np.asarray(image.convert("RGBA"))
    alpha = rgba[..., 3]
    weight = alpha[..., None].astype(np.float32) / 255.0
    background = np.array(NEUTRAL_BACKGROUND, dtype=np.float32)
    rgb = (rgba[..., :3] * weight + background * (1.0 - weight) + 0.5).astype(np.uint8)
    transparent_share = float(np.mean(alpha < 250))
    if transparent_share < ALPHA_MASK_MIN_TRANSPARENT:
        return rgb, None
    return rgb, alpha.copy()


def _segment_person(working: np.ndarray, full_size: tuple[int, int]) -> np.ndarray:
    """Estimate the person mask on the working copy and scale it to `full_size` (W, H)."""
    # model_selection=0 is the general model (256x256 input), better at
    # head-and-shoulders portraits than the landscape model.
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as segmenter:
        confidence = segmenter.process(working).segmentation_mask  # (h, w) float32 in 0..1
    if confidence is None:
        logger.warning("person segmentation returned nothing; the whole image counts as the person")
        return np.full(full_size[::-1], 255, dtype=np.uint8)
    mask = cv2.resize(confidence, full_size, interpolation=cv2.INTER_LINEAR)
    return np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
