"""Adversarial fine-tuning of the generator from realism ratings.

1. Realism head: the rated clips' frames become aligned face crops. A small
   head over the checkpoint's frozen discriminator features learns to agree
   with the ratings: a 1-5 score is a regression target, an A/B preference a
   pairwise (Bradley-Terry) loss on the two clips' mean scores. A fifth of the
   ratings is held out to measure how often the head orders clips as the
   raters did.
2. Generator: fine-tuned to raise the head's score on training pairs, with an
   L1 anchor to the base generator's output and the usual reconstruction
   loss, so it cannot drift far from what it was.

The result is a new checkpoint beside the base one (`face_gan.ft1.pt`,
`face_gan.ft2.pt`, ...) with a manifest: ratings used, held-out accuracy,
and reconstruction PSNR before and after.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avatar.errors import AvatarError
from avatar.fileio import file_sha256, write_text_atomic
from avatar.ratings import Rating, RatingStore
from face_gan.align import crop_affine, transform_points, warp_crop
from face_gan.data import ClipPairs, PairDataset, landmark_map, to_tensor, track_video
from face_gan.models import Discriminator, Generator

logger = logging.getLogger(__name__)

# Frames sampled per rated clip (evenly over its frame range).
FRAMES_PER_CLIP = 8
# Every rating whose id hashes into this share is held out of the head's training.
HELD_OUT_SHARE = 0.2
MIN_RATINGS = 4
GRADIENT_CLIP = 1.0


@dataclass(frozen=True)
class FinetuneConfig:
    """Steps and weights of both phases."""

    head_steps: int = 300
    generator_steps: int = 200
    batch_size: int = 8
    lr_head: float = 1e-3
    lr_generator: float = 5e-5
    realism_weight: float = 1.0
    anchor_weight: float = 10.0
    l1_weight: float = 10.0
    seed: int = 0


class RealismHead(nn.Module):
    """Realism score of face crops from a frozen discriminator's pooled features."""

    def __init__(self, discriminator: Discriminator) -> None:
        super().__init__()
        self.trunk = discriminator.eval()
        for parameter in self.trunk.parameters():
            parameter.requires_grad_(False)
        channels = sum(layer.out_channels for layer in discriminator.layers)
        self.head = nn.Sequential(nn.Linear(channels, 64), nn.SiLU(), nn.Linear(64, 1))

    def forward(self, crops: torch.Tensor, maps: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _, features = self.trunk(crops, maps, labels)
        pooled = torch.cat([feature.mean(dim=(2, 3)) for feature in features], dim=1)
        return self.head(pooled).squeeze(1)


def held_out(rating: Rating) -> bool:
    """Return whether a rating belongs to the held-out fifth, decided by a hash of its id so it never changes."""
    digest = hashlib.sha256(f"rating:{rating.id}".encode()).digest()
    return digest[0] < 256 * HELD_OUT_SHARE


def clip_frames(video: Path, start: int | None, end: int | None,
                count: int = FRAMES_PER_CLIP) -> tuple[np.ndarray, np.ndarray]:
    """Return aligned crops (F, S, S, 3) and landmark maps (F, 2, S, S) of frames start..end of a video."""
    frames: list[tuple[int, np.ndarray, np.ndarray]] = []
    last = end if end is not None else 10**9
    for index, (image, points) in enumerate(track_video(video, max_frames=last + 1)):
        if (start is None or index >= start) and points is not None:
            frames.append((index, image, points))
    if not frames:
        raise AvatarError("rated_clip_no_face", path=str(video))
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    crops, maps = [], []
    for pick in picks:
        _, image, points = frames[pick]
        affine = crop_affine(points)
        crops.append(warp_crop(image, affine))
        maps.append(landmark_map(transform_points(affine, points)))
    return np.stack(crops), np.stack(maps)


class _ClipCache:
    """Crops of each rated clip, read once per run; a clip that cannot be read is reported once."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.frames: dict[tuple, tuple[torch.Tensor, torch.Tensor] | None] = {}
        self.problems: list[str] = []

    def get(self, clip: str, start: int | None, end: int | None) -> tuple[torch.Tensor, torch.Tensor] | None:
        key = (clip, start, end)
        if key not in self.frames:
            path = Path(clip) if Path(clip).is_absolute() else self.base / clip
            try:
                crops, maps = clip_frames(path, start, end)
                self.frames[key] = (to_tensor(crops), torch.from_numpy(maps))
            except AvatarError as error:
                self.problems.append(error.message())
                self.frames[key] = None
        return self.frames[key]


def _clip_score(head: RealismHead, frames: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    crops, maps = frames
    return head(crops, maps, torch.zeros(len(crops), dtype=torch.long)).mean()


def _rating_loss(head: RealismHead, rating: Rating, cache: _ClipCache) -> torch.Tensor | None:
    first = cache.get(rating.clip, rating.frame_start, rating.frame_end)
    if first is None:
        return None
    if rating.kind == "score":
        target = torch.tensor((rating.score - 1) / 4.0)
        return F.mse_loss(torch.sigmoid(_clip_score(head, first)), target)
    second = cache.get(rating.other_clip, rating.frame_start, rating.frame_end)
    if second is None:
        return None
    a, b = _clip_score(head, first), _clip_score(head, second)
    if rating.preferred == "same":
        return (a - b) ** 2
    better, worse = (a, b) if rating.preferred == "a" else (b, a)
    return F.softplus(worse - better)


@torch.no_grad()
def ordering_accuracy(head: RealismHead, ratings: list[Rating], cache: _ClipCache) -> float | None:
    """Share of held-out comparisons the head orders as the raters did.

    Comparisons are the A/B preferences (not "same") and every pair of score
    ratings with different scores. None when there is nothing to compare.
    """
    head.eval()
    hits: list[bool] = []
    scored: list[tuple[int, float]] = []
    for rating in ratings:
        first = cache.get(rating.clip, rating.frame_start, rating.frame_end)
        if first is None:
            continue
        if rating.kind == "score":
            scored.append((rating.score, float(_clip_score(head, first))))
        elif rating.preferred in ("a", "b"):
            second = cache.get(rating.other_clip, rating.frame_start, rating.frame_end)
            if second is not None:
                a, b = float(_clip_score(head, first)), float(_clip_score(head, second))
                hits.append((a > b) == (rating.preferred == "a"))
    for index, (score_a, value_a) in enumerate(scored):
        for score_b, value_b in scored[index + 1 :]:
            if score_a != score_b:
                hits.append((value_a > value_b) == (score_a > score_b))
    return float(np.mean(hits)) if hits else None


def train_head(discriminator: Discriminator, ratings: list[Rating], cache: _ClipCache, config: FinetuneConfig,
               report: Callable[[str, int, int], None] | None = None) -> tuple[RealismHead, dict]:
    """Phase 1: fit the realism head to the training ratings; return it and its held-out accuracy."""
    torch.manual_seed(config.seed)
    head = RealismHead(discriminator)
    training = [rating for rating in ratings if not held_out(rating)]
    validation = [rating for rating in ratings if held_out(rating)]
    optimizer = torch.optim.Adam(head.head.parameters(), lr=config.lr_head)
    before = ordering_accuracy(head, validation, cache)
    rng = np.random.default_rng(config.seed)
    for step in range(config.head_steps):
        head.train()
        batch = [training[i] for i in rng.choice(len(training), size=min(config.batch_size, len(training)), replace=False)]
        losses = [loss for loss in (_rating_loss(head, rating, cache) for rating in batch) if loss is not None]
        if not losses:
            raise AvatarError("ratings_unreadable_clips", problems="; ".join(cache.problems[:3]))
        loss = torch.stack(losses).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if report is not None:
            report("head", step + 1, config.head_steps)
    after = ordering_accuracy(head, validation, cache)
    return head, {"training_ratings": len(training), "held_out_ratings": len(validation),
                  "held_out_accuracy_before": before, "held_out_accuracy": after}


def finetune_generator(generator: Generator, head: RealismHead, clips: list[ClipPairs], config: FinetuneConfig,
                       report: Callable[[str, int, int], None] | None = None) -> Generator:
    """Phase 2: raise the head's score on training pairs while staying close to the base generator."""
    import copy

    torch.manual_seed(config.seed)
    base = copy.deepcopy(generator).eval()
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    tuned = copy.deepcopy(generator).train()
    head.eval()
    for parameter in head.parameters():
        parameter.requires_grad_(False)
    optimizer = torch.optim.Adam(tuned.parameters(), lr=config.lr_generator, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(PairDataset(clips, flip=True), batch_size=config.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(config.seed))
    batches = iter(loader)
    for step in range(config.generator_steps):
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        inputs = (batch["warped"], batch["landmarks"], batch["reference"], batch["label"], batch["intensity"])
        output, _ = tuned(*inputs)
        with torch.no_grad():
            anchor, _ = base(*inputs)
        # softplus(-score) saturates once the head rates a crop as real, so the generator cannot
        # buy unbounded realism with garbage that the head was never trained on.
        unreal = F.softplus(-head(output, batch["landmarks"], batch["label"])).mean()
        loss = (config.realism_weight * unreal + config.anchor_weight * F.l1_loss(output, anchor)
                + config.l1_weight * F.l1_loss(output, batch["target"]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tuned.parameters(), GRADIENT_CLIP)
        optimizer.step()
        if report is not None:
            report("generator", step + 1, config.generator_steps)
    return tuned.eval()


def check_finetune_inputs(ratings_db: Path, base: Path) -> tuple[list[Rating], Generator, Discriminator]:
    """Load the ratings and the base checkpoint, or raise before any slow work starts.

    Raises:
        AvatarError: no database, fewer than MIN_RATINGS ratings, or a base
            checkpoint that is missing or has no discriminator.
    """
    from face_gan.refiner import load_checkpoint

    if not ratings_db.is_file():
        raise AvatarError("file_not_found", path=str(ratings_db))
    ratings = RatingStore(ratings_db).all()
    if len(ratings) < MIN_RATINGS:
        raise AvatarError("too_few_ratings", count=len(ratings), minimum=MIN_RATINGS)
    generator, discriminator = load_checkpoint(base)
    if discriminator is None:
        raise AvatarError("gan_checkpoint_no_discriminator", path=str(base))
    return ratings, generator, discriminator


def next_version_path(base: Path) -> Path:
    """Return `<stem>.ftN.pt` beside the base checkpoint, with N one above the highest there."""
    stem = base.name.split(".ft")[0].removesuffix(".pt")
    taken = [int(path.name.split(".ft")[1].split(".")[0]) for path in base.parent.glob(f"{stem}.ft*.pt")
             if path.name.split(".ft")[1].split(".")[0].isdigit()]
    return base.parent / f"{stem}.ft{max(taken, default=0) + 1}.pt"


def finetune_from_ratings(ratings_db: Path, base: Path, clips: list[ClipPairs], validation: list[ClipPairs],
                          output: Path | None = None, config: FinetuneConfig | None = None, clip_root: Path | None = None,
                          report: Callable[[str, int, int], None] | None = None) -> tuple[Path, dict]:
    """Run both phases and write the new versioned checkpoint with its manifest; return its path and the manifest.

    Args:
        clips: training pairs for phase 2; validation: held-out pairs for the PSNR check.
        clip_root: folder that relative clip paths in the ratings are resolved against.
    """
    from face_gan.refiner import save_generator
    from face_gan.train import evaluate_pairs, validation_batch

    config = config or FinetuneConfig()
    ratings, generator, discriminator = check_finetune_inputs(ratings_db, base)

    cache = _ClipCache(clip_root or ratings_db.parent)
    head, head_scores = train_head(discriminator, ratings, cache, config, report)
    batch = validation_batch(validation or clips)
    before = evaluate_pairs(generator, batch)
    tuned = finetune_generator(generator, head, clips, config, report)
    after = evaluate_pairs(tuned, batch)

    output = output or next_version_path(base)
    save_generator(tuned, output, discriminator)
    manifest = {
        "model": "face_gan generator fine-tuned from realism ratings",
        "base": {"path": str(base), "sha256": file_sha256(base)},
        "ratings": {"path": str(ratings_db), "sha256": file_sha256(ratings_db), "count": len(ratings),
                    "unreadable_clips": cache.problems},
        "config": config.__dict__,
        "realism_head": head_scores,
        "reconstruction_before": before,
        "reconstruction_after": after,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sha256": file_sha256(output),
    }
    write_text_atomic(output.with_suffix(".json"), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return output, manifest
