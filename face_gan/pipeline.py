"""Face GAN jobs as the CLI runs them: train the base model, export it, personalise it.

- `train_base`: pairs from every clip in a folder, whole clips held out for
  validation, a resumable run folder.
- `export_checkpoint`: the run's generator as a small inference checkpoint
  with a manifest (data, command, steps, validation metrics, sha256).
- `personalise`: fine-tune on one creator's clip and write an avatar profile.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from avatar.errors import AvatarError
from avatar.fileio import file_sha256, write_text_atomic
from face_gan import DEFAULT_HOLDOUT
from face_gan.data import VIDEO_SUFFIXES, ClipPairs, find_videos, load_or_extract
from face_gan.train import RunState, TrainConfig, load_run_models, train

logger = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".json"
# The validation clips of a run, written when it starts; resuming with other clips would mix the split.
SPLIT_FILE = "split.json"


def gan_cache_dir() -> Path:
    from voice.cache import cache_dir

    return cache_dir() / "face_gan"


def load_clips(videos: list[Path], cache: Path | None = None, max_frames: int | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> tuple[list[ClipPairs], list[str]]:
    """Extract (or read cached) pairs of each video; a video that fails is reported and left out.

    Returns:
        The clips, and one message per video that could not be used.
    """
    clips: list[ClipPairs] = []
    problems: list[str] = []
    for number, video in enumerate(videos):
        if progress is not None:
            progress(video.name, number, len(videos))
        try:
            clips.append(load_or_extract(video, cache or gan_cache_dir(), max_frames))
        except AvatarError as error:
            problems.append(error.message())
            logger.warning("left out %s: %s", video.name, error.message("en"))
    if progress is not None:
        progress("", len(videos), len(videos))
    return clips, problems


def split_holdout(clips: list[ClipPairs], holdout: tuple[str, ...]) -> tuple[list[ClipPairs], list[ClipPairs]]:
    """Split clips into (training, validation) by clip name; a name may carry its video suffix."""
    holdout = tuple(Path(name).stem if Path(name).suffix.lower() in VIDEO_SUFFIXES else name for name in holdout)
    missing = [name for name in holdout if name not in {clip.name for clip in clips}]
    if missing:
        raise AvatarError("gan_holdout_missing", names=", ".join(missing))
    training = [clip for clip in clips if clip.name not in holdout]
    validation = [clip for clip in clips if clip.name in holdout]
    if not training:
        raise AvatarError("gan_no_training_clips")
    return training, validation


def finetune_clips(data: Path, max_frames: int | None = None) -> tuple[list[ClipPairs], list[ClipPairs]]:
    """Return (training, validation) pairs for fine-tuning: the default held-out clips validate when present."""
    clips, _ = load_clips(find_videos(data), max_frames=max_frames)
    holdout = tuple(name for name in DEFAULT_HOLDOUT if name in {clip.name for clip in clips})
    return split_holdout(clips, holdout) if holdout else (clips, [])


def choose_holdout(names: list[str], requested: tuple[str, ...] | None) -> tuple[str, ...]:
    """Return the clips to hold out: the requested ones, else the default pair, else the last clip by name."""
    if requested:
        return requested
    if all(name in names for name in DEFAULT_HOLDOUT):
        return DEFAULT_HOLDOUT
    return (sorted(names)[-1],) if len(names) > 1 else ()


def train_base(data: Path, run: Path, config: TrainConfig, holdout: tuple[str, ...] | None = None,
               max_frames: int | None = None, report: Callable[[int, int, dict], None] | None = None,
               cache: Path | None = None) -> tuple[RunState, list[ClipPairs], list[ClipPairs], list[str]]:
    """Train (or resume) the base model on every clip in `data`; see `face_gan.train.train`.

    Returns:
        The run state, the training and validation clips, and one message per
        video that was left out because it could not be used.

    Raises:
        AvatarError: among others when a resumed run is given another validation split.
    """
    clips, problems = load_clips(find_videos(data), cache, max_frames)
    if not clips:
        raise AvatarError("gan_no_training_clips")
    training, validation = split_holdout(clips, choose_holdout([clip.name for clip in clips], holdout))
    _check_split(run, sorted(clip.name for clip in validation))
    logger.info("training on %d clips (%d pairs), validating on %s", len(training),
                sum(clip.num_pairs for clip in training), ", ".join(clip.name for clip in validation))
    state = train(run, training, validation, config, report=report)
    return state, training, validation, problems


def _check_split(run: Path, validation: list[str]) -> None:
    """Record a new run's validation clips, or reject a resumed run given other ones."""
    path = run / SPLIT_FILE
    if path.is_file():
        recorded = json.loads(path.read_text(encoding="utf-8")).get("validation_clips")
        if recorded != validation:
            raise AvatarError("gan_run_other_split", run=str(run), recorded=", ".join(recorded or []),
                              given=", ".join(validation))
        return
    run.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({"validation_clips": validation}) + "\n")


def export_checkpoint(run: Path, output: Path, data: dict, command: str) -> dict:
    """Write the run's generator to `output` with a manifest beside it; return the manifest."""
    from face_gan.models import count_parameters
    from face_gan.refiner import save_generator

    generator, discriminator, state, config = load_run_models(run)
    save_generator(generator, output, discriminator)
    manifest = {
        "model": "face_gan generator (U-Net with emotion FiLM, learned blend mask)",
        "parameters": count_parameters(generator),
        "data": data,
        "command": command,
        "steps": state.step,
        "train_seconds": round(state.seconds, 1),
        "config": config,
        "validation": state.history[-1] if state.history else None,
        "validation_history": state.history,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {sys.version.split()[0]}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sha256": file_sha256(output),
    }
    write_text_atomic(output.with_suffix(MANIFEST_SUFFIX), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def data_summary(training: list[ClipPairs], validation: list[ClipPairs], folder: Path) -> dict:
    return {
        "folder": str(folder),
        "training_clips": [clip.name for clip in training],
        "validation_clips": [clip.name for clip in validation],
        "training_pairs": int(sum(clip.num_pairs for clip in training)),
        "validation_pairs": int(sum(clip.num_pairs for clip in validation)),
        "frames": int(sum(len(clip.crops) for clip in training + validation)),
    }
