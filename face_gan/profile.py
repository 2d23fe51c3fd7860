"""Avatar profiles: a creator's portrait, its landmarks and a fine-tuned generator, in one folder.

`personalise` fine-tunes the generator on a 1-3 minute talking clip of the
creator and writes:

    profile.json      what the folder holds, the source clip, steps and validation scores
    portrait.png      the clip frame used as the portrait (frontal, mouth closed)
    landmarks.npy     its FaceMesh points (478, 3) in pixels, so rendering needs no detection
    face_gan.pt       the fine-tuned generator
    run/              the training run (state, losses, samples), so a longer run can resume

`load_profile` reads it back for `avatar render --avatar` and the studio.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from avatar.errors import AvatarError
from avatar.fileio import file_sha256, write_text_atomic
from face_gan import DEFAULT_FINE_TUNE_STEPS
from face_gan.data import ClipPairs, load_or_extract, track_video
from face_gan.train import TrainConfig, train

logger = logging.getLogger(__name__)

PROFILE_FORMAT = 1
PROFILE_FILE = "profile.json"
# Written before training starts, so a resumed run can check that it is fed the same clip.
SOURCE_FILE = "source.json"
# Share of a personal clip's last frames kept out of training for validation.
VALIDATION_SHARE = 0.15


@dataclass(frozen=True, eq=False)
class AvatarProfile:
    """A loaded profile: where its portrait and generator are, and its landmarks."""

    folder: Path
    portrait: Path
    landmarks: np.ndarray
    checkpoint: Path
    info: dict


def split_clip(clip: ClipPairs, share: float = VALIDATION_SHARE) -> tuple[ClipPairs, ClipPairs]:
    """Split one clip's pairs by time: targets in the last `share` of frames validate.

    Training pairs use only frames before the cut, as source and as target, so
    validation frames are never seen in training.
    """
    cut = max(1, int(round(len(clip.crops) * (1.0 - share))))
    before = (clip.target < cut) & (clip.source < cut)
    after = clip.target >= cut
    if not before.any() or not after.any():
        raise AvatarError("gan_video_too_short", path=clip.name, frames=len(clip.crops))

    def subset(keep: np.ndarray) -> ClipPairs:
        return replace(clip, warped=clip.warped[keep], source=clip.source[keep], target=clip.target[keep])

    return subset(before), subset(after)


def choose_portrait_frame(video: Path, max_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pick the frame that makes the best portrait: eyes level, mouth closed, face large.

    Returns:
        (RGB frame, landmarks (478, 3) in its pixels).
    """
    from avatar.rig import LEFT_EYE_OUTER, LOWER_INNER_CENTER, RIGHT_EYE_OUTER, UPPER_INNER_CENTER

    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for image, points in track_video(video, max_frames):
        if points is None:
            continue
        face_height = float(np.linalg.norm(points[10, :2] - points[152, :2]))
        eyes = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
        roll = abs(float(np.degrees(np.arctan2(eyes[1], eyes[0]))))
        # Yaw: the nose tip's offset from the midpoint of the eye corners, in face heights.
        yaw = abs(float(points[4, 0] - (points[LEFT_EYE_OUTER, 0] + points[RIGHT_EYE_OUTER, 0]) / 2)) / face_height
        gap = float(np.linalg.norm(points[LOWER_INNER_CENTER, :2] - points[UPPER_INNER_CENTER, :2])) / face_height
        score = 10.0 * gap + 0.05 * roll + 2.0 * yaw
        if best is None or score < best[0]:
            best = (score, image.copy(), points)
    if best is None:
        raise AvatarError("gan_video_no_faces", path=str(video), found=0, skipped=0)
    return best[1], best[2]


def personalise(video: Path, output: Path, init: Path | None, steps: int = DEFAULT_FINE_TUNE_STEPS,
                max_frames: int | None = None, cache: Path | None = None,
                report: Callable[[int, int, dict], None] | None = None) -> tuple[AvatarProfile, ClipPairs]:
    """Fine-tune on one clip and write a profile folder at `output` (see the module docstring).

    Raises:
        AvatarError: the clip cannot be read, shows too few faces, or `output`
            is a file or a folder that contains something other than a profile.
    """
    from face_gan.pipeline import gan_cache_dir

    # 1. The output folder: new, empty, or a profile of this same clip (then training resumes).
    if output.exists() and (not output.is_dir() or (any(output.iterdir()) and not (output / SOURCE_FILE).exists())):
        raise AvatarError("profile_output_taken", path=str(output))
    digest = file_sha256(video)
    source = output / SOURCE_FILE
    if source.exists():
        recorded = _read_json(source).get("sha256")
        if recorded != digest:
            raise AvatarError("profile_other_clip", path=str(output), video=str(video))
    created = not output.exists()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AvatarError("output_dir_failed", path=str(output), reason=error.strerror or str(error)) from None
    try:
        return _personalise_into(video, digest, output, init, steps, max_frames, cache or gan_cache_dir(), report)
    except BaseException:
        # A first attempt that failed before saving anything leaves no empty folder behind.
        if created and not (output / "run" / "state.pt").exists():
            shutil.rmtree(output, ignore_errors=True)
        raise


def _personalise_into(video: Path, digest: str, output: Path, init: Path | None, steps: int, max_frames: int | None,
                      cache: Path, report: Callable[[int, int, dict], None] | None) -> tuple[AvatarProfile, ClipPairs]:
    from face_gan.refiner import save_generator
    from face_gan.train import load_run_models

    write_text_atomic(output / SOURCE_FILE, json.dumps({"video": str(video), "sha256": digest}) + "\n")

    # 2. Pairs from the clip; the last frames validate.
    clip = load_or_extract(video, cache, max_frames)
    training, validation = split_clip(clip)

    # 3. Fine-tune from `init`. The generator is already trained for the task, so there is
    #    no reconstruction-only warm-up and the adversarial terms start at once.
    config = TrainConfig(steps=steps, warmup_steps=0, sample_every=max(50, steps // 4), eval_every=max(50, steps // 4),
                         checkpoint_every=max(50, steps // 4), log_every=max(5, steps // 30))
    state = train(output / "run", [training], [validation], config, init=init, report=report)
    generator, discriminator, _, _ = load_run_models(output / "run")
    save_generator(generator, output / "face_gan.pt", discriminator)

    # 4. The portrait frame and its landmarks.
    image, points = choose_portrait_frame(video, max_frames)
    Image.fromarray(image).save(output / "portrait.png")
    np.save(output / "landmarks.npy", points.astype(np.float32))

    info = {
        "format": PROFILE_FORMAT,
        "portrait": "portrait.png",
        "landmarks": "landmarks.npy",
        "checkpoint": "face_gan.pt",
        "source_video": {"path": str(video), "sha256": digest},
        "frames_used": int(len(clip.crops)),
        "frames_skipped": clip.skipped,
        "steps": state.step,
        "init": str(init) if init is not None else None,
        "validation": state.history[-1] if state.history else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_text_atomic(output / PROFILE_FILE, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return load_profile(output), clip


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def load_profile(folder: Path) -> AvatarProfile:
    """Read a profile folder written by `personalise`.

    Raises:
        AvatarError: the folder or one of its files is missing or unreadable.
    """
    manifest = folder / PROFILE_FILE
    if not manifest.is_file():
        raise AvatarError("profile_missing", path=str(folder))
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("profile.json is not a JSON object")
        if info.get("format") != PROFILE_FORMAT:
            raise ValueError(f"format {info.get('format')!r}")
        portrait = folder / info["portrait"]
        checkpoint = folder / info["checkpoint"]
        landmarks = np.load(folder / info["landmarks"])
        if landmarks.shape != (478, 3) or not portrait.is_file() or not checkpoint.is_file():
            raise ValueError("portrait, landmarks or checkpoint missing or malformed")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AvatarError("profile_invalid", path=str(folder), reason=str(error).splitlines()[0]) from None
    return AvatarProfile(folder=folder, portrait=portrait, landmarks=landmarks.astype(np.float32),
                         checkpoint=checkpoint, info=info)
