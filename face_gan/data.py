"""Training pairs for the face GAN, made from real video.

For each clip:

1. Track the face through every frame with FaceMesh; frames without a face
   are skipped and counted.
2. Cut an aligned context crop per frame (`CONTEXT_SIZE`, larger than the
   generator's crop so the warp has hair and neck around the face).
3. For each target frame, warp source frames of the same clip to the target's
   landmarks with the renderer's own warp (`avatar.render.Renderer.warp_to`),
   so the real target frame is what the generator should produce. The first
   frame is always one source, because rendering drives one still portrait.
4. Label each frame's emotion from the clip name where the name says it
   (`emo_*`, MEAD clips), else with the FER judge.

A clip's pairs are cached as one .npz under the cache folder, keyed by the
video's sha256 and `PAIRS_VERSION`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from avatar.errors import AvatarError
from avatar.fileio import file_sha256
from avatar.rig import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_LOWER_LID,
    LEFT_UPPER_LID,
    LIPS_INNER_LOWER,
    LIPS_INNER_UPPER,
    LIPS_OUTER_LOWER,
    LIPS_OUTER_UPPER,
    RIGHT_BROW,
    RIGHT_LOWER_LID,
    RIGHT_UPPER_LID,
)
from emotion.types import EMOTIONS
from face_gan.align import CROP_SIZE, FACE_PIXELS, compose, crop_affine, invert, transform_points, warp_crop

logger = logging.getLogger(__name__)

# Bump when the pair layout or the warp changes, so stale caches are rebuilt.
PAIRS_VERSION = 2
CONTEXT_SIZE = 160
CONTEXT_MARGIN = (CONTEXT_SIZE - CROP_SIZE) // 2
# Random sources per target besides the clip's first frame, and how far
# apart (frames) a random source must be, so the warp has something to do.
RANDOM_SOURCES = 2
MIN_SOURCE_DISTANCE = 3
# Emotion intensity given to frames labelled by their clip name.
NAMED_INTENSITY = 0.8
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")

# Clip-name words that name an emotion (MEAD/EAMM naming); contempt maps to
# disgusted, the closest face in this project's label space.
NAME_EMOTIONS = {
    "happy": "happy", "sad": "sad", "angry": "angry", "surprised": "surprised", "fear": "fearful",
    "fearful": "fearful", "disgusted": "disgusted", "contempt": "disgusted", "neutral": "neutral",
}
# Landmark contours drawn into the condition map (channel 0).
CONTOURS: tuple[tuple[tuple[int, ...], bool], ...] = (
    (FACE_OVAL, True),
    (LIPS_OUTER_UPPER, False), (LIPS_OUTER_LOWER, False),
    (LIPS_INNER_UPPER, False), (LIPS_INNER_LOWER, False),
    (RIGHT_UPPER_LID, False), (RIGHT_LOWER_LID, False), (LEFT_UPPER_LID, False), (LEFT_LOWER_LID, False),
    (tuple(upper for upper, _ in RIGHT_BROW), False), (tuple(upper for upper, _ in LEFT_BROW), False),
    ((168, 6, 197, 195, 5, 4), False),  # nose bridge
)
INNER_MOUTH = tuple(LIPS_INNER_UPPER) + tuple(LIPS_INNER_LOWER[-2:0:-1])


def emotion_from_name(name: str) -> str | None:
    """Return the emotion a clip's file name states (`emo_happy_eamm`, `v03_mead_M030_sad_lvl3`), or None."""
    for word in re.split(r"[^a-z]+", name.lower()):
        if word in NAME_EMOTIONS:
            return NAME_EMOTIONS[word]
    return None


def find_videos(folder: Path) -> list[Path]:
    """Return the video files directly inside `folder`, sorted by name."""
    if not folder.is_dir():
        raise AvatarError("gan_data_missing", path=str(folder))
    videos = sorted(path for path in folder.iterdir() if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file())
    if not videos:
        raise AvatarError("gan_data_empty", path=str(folder))
    return videos


def track_video(path: Path, max_frames: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield (RGB frame, landmarks (478, 3) in pixels or None) for each frame of a video."""
    import imageio_ffmpeg
    import mediapipe as mp

    try:
        frames = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = next(frames)
    except (OSError, RuntimeError, StopIteration) as error:
        raise AvatarError("video_unreadable", path=str(path), reason=str(error).splitlines()[0] if str(error) else "") from None
    width, height = meta["size"]
    try:
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                                             min_detection_confidence=0.5) as mesh:
            for count, raw in enumerate(frames):
                if max_frames is not None and count >= max_frames:
                    break
                image = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
                found = mesh.process(image).multi_face_landmarks
                if not found:
                    yield image, None
                    continue
                points = np.array([(p.x, p.y, p.z) for p in found[0].landmark], dtype=np.float64)
                yield image, points * (width, height, width)
    finally:
        frames.close()


@dataclass(frozen=True, eq=False)
class ClipPairs:
    """One clip's frames and training pairs.

    Attributes:
        name: the clip's file stem.
        crops: aligned face crops of the frames that show a face, uint8 (F, S, S, 3), S = CROP_SIZE.
        landmarks: FaceMesh points in crop pixels, float32 (F, 478, 2).
        labels: emotion index per frame into `emotion.types.EMOTIONS`, int64 (F,).
        intensity: emotion intensity per frame, float32 (F,).
        warped: each pair's source warped to its target's landmarks, uint8 (P, S, S, 3).
        source: frame index of each pair's source, int64 (P,); the reference crop.
        target: frame index of each pair's target, int64 (P,).
        skipped: frames of the video in which no face was found.
    """

    name: str
    crops: np.ndarray
    landmarks: np.ndarray
    labels: np.ndarray
    intensity: np.ndarray
    warped: np.ndarray
    source: np.ndarray
    target: np.ndarray
    skipped: int

    @property
    def num_pairs(self) -> int:
        return int(len(self.target))


def extract_pairs(path: Path, seed: int = 0, max_frames: int | None = None,
                  progress: Callable[[int], None] | None = None) -> ClipPairs:
    """Track, crop, warp and label one clip (see the module docstring).

    Raises:
        AvatarError: the video cannot be read, or fewer than two of its frames show a face.
    """
    from avatar.face import Portrait
    from avatar.render import Renderer

    # 1-2. Track the face and cut context crops.
    contexts: list[np.ndarray] = []
    context_points: list[np.ndarray] = []
    affines: list[np.ndarray] = []
    skipped = 0
    for count, (image, points) in enumerate(track_video(path, max_frames)):
        if progress is not None:
            progress(count + 1)
        if points is None:
            skipped += 1
            continue
        affine = crop_affine(points, CONTEXT_SIZE, FACE_PIXELS)
        contexts.append(warp_crop(image, affine, CONTEXT_SIZE))
        affines.append(affine)
        local = transform_points(affine, points)
        scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
        context_points.append(np.concatenate([local, points[:, 2:] * scale], axis=1))
    if len(contexts) < 2:
        raise AvatarError("gan_video_no_faces", path=str(path), found=len(contexts), skipped=skipped)
    count = len(contexts)
    margin = np.array([CONTEXT_MARGIN, CONTEXT_MARGIN], dtype=np.float64)
    crops = np.stack([context[CONTEXT_MARGIN : CONTEXT_MARGIN + CROP_SIZE, CONTEXT_MARGIN : CONTEXT_MARGIN + CROP_SIZE]
                      for context in contexts])
    landmarks = np.stack([points[:, :2] - margin for points in context_points]).astype(np.float32)

    # 3. Pairs: the first frame and random others drive each target.
    rng = np.random.default_rng(seed)
    pairs: list[tuple[int, int]] = []
    for target in range(count):
        choices = [index for index in range(count) if abs(index - target) >= MIN_SOURCE_DISTANCE and index != 0]
        picked = rng.choice(choices, size=min(RANDOM_SOURCES, len(choices)), replace=False) if choices else []
        pairs += [(source, target) for source in ([0] if target != 0 else []) + [int(i) for i in picked]]
    warped = np.empty((len(pairs), CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    renderers: dict[int, Renderer] = {}
    for number, (source, target) in enumerate(sorted(pairs)):
        if source not in renderers:
            renderers.clear()  # pairs are sorted by source: each renderer is built once
            full = np.full((CONTEXT_SIZE, CONTEXT_SIZE), 255, dtype=np.uint8)
            portrait = Portrait(image=contexts[source], landmarks=context_points[source].astype(np.float32),
                                mask=full, mask_source="alpha", path=None)
            renderers[source] = Renderer(portrait, CONTEXT_SIZE)
        # Both context crops are maps of the same video frame, so the target's
        # landmarks reach the source's context through the frame, and back.
        moved = transform_points(_context_to_context(affines[target], affines[source]), landmarks[target] + margin)
        image = renderers[source].warp_to(moved).image
        target_view = _context_to_context(affines[source], affines[target])
        warped[number] = cv2.warpAffine(image, target_view, (CONTEXT_SIZE, CONTEXT_SIZE), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REFLECT101)[
            CONTEXT_MARGIN : CONTEXT_MARGIN + CROP_SIZE, CONTEXT_MARGIN : CONTEXT_MARGIN + CROP_SIZE]
    ordered = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)

    # 4. Emotion labels.
    labels, intensity = _label_frames(path.stem, crops)
    logger.info("%s: %d frames with a face, %d skipped, %d pairs", path.name, count, skipped, len(ordered))
    return ClipPairs(name=path.stem, crops=crops, landmarks=landmarks, labels=labels, intensity=intensity,
                     warped=warped, source=ordered[:, 0], target=ordered[:, 1], skipped=skipped)


def _context_to_context(affine_from: np.ndarray, affine_to: np.ndarray) -> np.ndarray:
    """Return the affine (2, 3) from one frame's context crop to another's, through the video frame."""
    return compose(invert(affine_from), affine_to)


def _label_frames(name: str, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Emotion index and intensity per frame: from the clip name, else from the FER judge."""
    named = emotion_from_name(name)
    if named is not None:
        return (np.full(len(crops), EMOTIONS.index(named), dtype=np.int64),
                np.full(len(crops), NAMED_INTENSITY, dtype=np.float32))
    from face_gan.fer import FER_LABELS, FER_TO_EMOTION, classify_faces, face_square

    probabilities = classify_faces(list(face_square(crops)))  # (F, 7)
    best = probabilities.argmax(axis=1)
    labels = np.array([EMOTIONS.index(FER_TO_EMOTION[FER_LABELS[i]]) for i in best], dtype=np.int64)
    return labels, probabilities.max(axis=1).astype(np.float32)


# ---- cache


def pairs_cache_path(video: Path, cache: Path, max_frames: int | None) -> Path:
    digest = file_sha256(video)[:16]
    suffix = "" if max_frames is None else f"-first{max_frames}"
    return cache / f"{video.stem}-{digest}-v{PAIRS_VERSION}{suffix}.npz"


def load_or_extract(video: Path, cache: Path, max_frames: int | None = None,
                    progress: Callable[[int], None] | None = None) -> ClipPairs:
    """Return a clip's pairs from the cache, extracting and caching them on a miss."""
    path = pairs_cache_path(video, cache, max_frames)
    if path.is_file():
        with np.load(path) as stored:
            return ClipPairs(name=str(stored["name"]), skipped=int(stored["skipped"]),
                             **{key: stored[key] for key in ("crops", "landmarks", "labels", "intensity",
                                                             "warped", "source", "target")})
    clip = extract_pairs(video, max_frames=max_frames, progress=progress)
    cache.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez(temporary, name=clip.name, skipped=clip.skipped, crops=clip.crops, landmarks=clip.landmarks,
             labels=clip.labels, intensity=clip.intensity, warped=clip.warped, source=clip.source,
             target=clip.target)
    os.replace(temporary, path)
    return clip


# ---- condition maps and the torch dataset


def face_mask(landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Draw the filled face oval of crop landmarks (N, 2): (1, S, S) float32 in 0..1."""
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[list(FACE_OVAL)] * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return mask[None].astype(np.float32) / 255.0


def landmark_map(landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Draw the condition map for crop landmarks (N, 2): (2, S, S) float32 in 0..1.

    Channel 0 contains the contours (face oval, lips, lids, brows, nose
    bridge). Channel 1 is the filled inner mouth, which shows the generator
    where the mouth interior must appear and how wide it is.
    """
    fixed = np.round(landmarks * 16).astype(np.int32)
    lines = np.zeros((size, size), dtype=np.uint8)
    for indices, closed in CONTOURS:
        cv2.polylines(lines, [fixed[list(indices)]], closed, 255, 1, cv2.LINE_AA, shift=4)
    mouth = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(mouth, [fixed[list(INNER_MOUTH)]], 255, cv2.LINE_AA, shift=4)
    return np.stack([lines, mouth]).astype(np.float32) / 255.0


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, H, W) in -1..1."""
    return torch.from_numpy(np.ascontiguousarray(image)).movedim(-1, -3).float() / 127.5 - 1.0


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """float (..., 3, H, W) in -1..1 -> uint8 (..., H, W, 3)."""
    return ((tensor.detach().float().clamp(-1, 1) + 1.0) * 127.5 + 0.5).to(torch.uint8).movedim(-3, -1).cpu().numpy()


class PairDataset(Dataset):
    """Training samples from one or more clips.

    Each item is a dict of tensors: `warped`, `target`, `reference` (3, S, S) in
    -1..1, `landmarks` (2, S, S) condition map, `face` (1, S, S) face-oval mask
    for the loss weights, `label` (emotion index) and `intensity`. With `flip`,
    half the items are mirrored left to right.
    """

    def __init__(self, clips: list[ClipPairs], flip: bool = False) -> None:
        if not clips or sum(clip.num_pairs for clip in clips) == 0:
            raise ValueError("PairDataset needs at least one pair")
        self.clips = clips
        self.flip = flip
        self.index = np.concatenate([np.stack([np.full(clip.num_pairs, number), np.arange(clip.num_pairs)], axis=1)
                                     for number, clip in enumerate(clips)])

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        number, pair = self.index[item]
        clip = self.clips[number]
        source, target = int(clip.source[pair]), int(clip.target[pair])
        images = np.stack([clip.warped[pair], clip.crops[target], clip.crops[source]])
        condition = np.concatenate([landmark_map(clip.landmarks[target]), face_mask(clip.landmarks[target])])
        if self.flip and bool(torch.rand(()) < 0.5):
            images = images[:, :, ::-1]
            condition = condition[:, :, ::-1]
        condition = torch.from_numpy(np.ascontiguousarray(condition))
        tensors = to_tensor(images)
        return {
            "warped": tensors[0], "target": tensors[1], "reference": tensors[2],
            "landmarks": condition[:2], "face": condition[2:],
            "label": torch.tensor(int(clip.labels[target])),
            "intensity": torch.tensor(float(clip.intensity[target])),
        }
