"""Training loop of the face GAN, through `accelerate`.

A run lives in one folder:

    state.pt          generator, discriminator, optimizers, step (written atomically)
    losses.jsonl      one line of losses every `log_every` steps
    validation.jsonl  held-out PSNR of the warp and of the generator every `eval_every` steps
    samples/          PNG grids (warped | generated | real | mask) every `sample_every` steps

Running the same command again resumes from `state.pt` and continues to
`steps`. Phases per step:

1. Warm-up (`warmup_steps`): reconstruction only (L1 weighted toward the
   mouth and away from the background, and a small mask penalty), so the generator learns the task before a
   discriminator can push it around.
2. Then also: the discriminator step (hinge loss), and for the generator an
   adversarial term, discriminator feature matching, and a frozen FER judge
   whose expression probabilities on the output should match those on the
   real frame.

Accelerate places everything on the GPU when there is one and uses mixed
precision there: bf16 where supported, else fp16. On a CPU it runs in fp32.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

from face_gan.data import ClipPairs, PairDataset, to_image
from face_gan.fer import face_square_bounds, fer_input, load_fer_net
from face_gan.metrics import mouth_region, psnr
from face_gan.models import Discriminator, Generator, GeneratorConfig

logger = logging.getLogger(__name__)

STATE_FILE = "state.pt"
# Validation uses at most this many held-out pairs, spread evenly over them.
VALIDATION_PAIRS = 96
SAMPLE_ROWS = 4


@dataclass
class TrainConfig:
    """Hyper-parameters of a run; stored in its state and in the exported manifest."""

    steps: int = 20000
    batch_size: int = 8
    lr_generator: float = 2e-4
    lr_discriminator: float = 4e-4
    warmup_steps: int = 1500
    l1_weight: float = 10.0
    # Extra L1 weight inside the mouth, where the warp is weakest.
    mouth_weight: float = 4.0
    # L1 weight outside the face oval: the background there moves with the
    # camera, which no generator can know from a still portrait.
    background_weight: float = 0.2
    adversarial_weight: float = 0.1
    feature_matching_weight: float = 1.0
    fer_weight: float = 0.5
    mask_weight: float = 0.02
    log_every: int = 25
    sample_every: int = 250
    eval_every: int = 500
    checkpoint_every: int = 250
    seed: int = 0
    generator: dict = field(default_factory=lambda: GeneratorConfig().to_dict())


@dataclass
class RunState:
    step: int = 0
    seconds: float = 0.0
    best_validation: dict | None = None
    history: list[dict] = field(default_factory=list)


def _mixed_precision() -> str:
    if not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def fer_view(crops: torch.Tensor) -> torch.Tensor:
    """Cut the face square out of aligned crops (B, 3, S, S) and return FER input (B, 1, 64, 64)."""
    square = face_square_bounds(crops.shape[-1])
    return fer_input(crops[..., square, square])


def train(run: Path, train_clips: list[ClipPairs], validation_clips: list[ClipPairs], config: TrainConfig,
          init: Path | None = None, report: Callable[[int, int, dict], None] | None = None) -> RunState:
    """Train (or resume) a run in folder `run` until `config.steps`; return its state.

    Args:
        init: a checkpoint to start from (fine-tuning): its generator, and its
            discriminator when it has one. Ignored when resuming.
        report: called as report(step, total, losses) after each logged step.
    """
    from accelerate import Accelerator

    run.mkdir(parents=True, exist_ok=True)
    (run / "samples").mkdir(exist_ok=True)
    accelerator = Accelerator(mixed_precision=_mixed_precision(), cpu=not torch.cuda.is_available())
    torch.manual_seed(config.seed)

    # 1. Models, optimizers, and a resumed or initial state.
    generator = Generator(GeneratorConfig.from_dict(config.generator))
    discriminator = Discriminator()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.lr_generator, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_discriminator, betas=(0.5, 0.999))
    state = RunState()
    state_path = run / STATE_FILE
    if state_path.is_file():
        saved = torch.load(state_path, map_location="cpu", weights_only=False)
        generator.load_state_dict(saved["generator"])
        discriminator.load_state_dict(saved["discriminator"])
        optimizer_g.load_state_dict(saved["optimizer_g"])
        optimizer_d.load_state_dict(saved["optimizer_d"])
        state = RunState(**saved["state"])
        logger.info("resuming %s at step %d of %d", run, state.step, config.steps)
        # Log lines written after the last saved state were lost with it; those steps run again.
        for name in ("losses.jsonl", "validation.jsonl"):
            _drop_lines_after(run / name, state.step)
        state.history = [row for row in state.history if row["step"] <= state.step]
    elif init is not None:
        from face_gan.refiner import load_checkpoint

        initial_generator, initial_discriminator = load_checkpoint(init)
        generator.load_state_dict(initial_generator.state_dict())
        if initial_discriminator is not None:
            discriminator.load_state_dict(initial_discriminator.state_dict())
        logger.info("starting from %s (discriminator %s)", init, "included" if initial_discriminator else "new")
    if state.step >= config.steps:
        return state

    dataset = PairDataset(train_clips, flip=True)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=len(dataset) >= config.batch_size,
                        generator=torch.Generator().manual_seed(config.seed + state.step))
    generator, discriminator, optimizer_g, optimizer_d, loader = accelerator.prepare(
        generator, discriminator, optimizer_g, optimizer_d, loader)
    fer_net = load_fer_net().to(accelerator.device)
    validation = validation_batch(validation_clips or train_clips)

    # 2. The loop. An interrupt (Ctrl-C) saves the state before it stops the run, so no finished step is lost.
    started = time.perf_counter() - state.seconds
    totals: dict[str, float] = {}
    counted = 0
    batches = iter(loader)
    try:
        while state.step < config.steps:
            try:
                batch = next(batches)
            except StopIteration:
                batches = iter(loader)
                batch = next(batches)
            losses = _step(batch, generator, discriminator, optimizer_g, optimizer_d, fer_net, accelerator, config,
                           adversarial=state.step >= config.warmup_steps)
            state.step += 1
            for key, value in losses.items():
                totals[key] = totals.get(key, 0.0) + value
            counted += 1

            # 3. Logging, samples, validation and checkpoints, on the main process only.
            if not accelerator.is_main_process:
                continue
            if state.step % config.log_every == 0 or state.step == config.steps:
                means = {key: round(value / counted, 5) for key, value in totals.items()}
                state.seconds = time.perf_counter() - started
                _append_json(run / "losses.jsonl", {"step": state.step, "seconds": round(state.seconds, 1), **means})
                logger.info("step %d/%d %s", state.step, config.steps, means)
                if report is not None:
                    report(state.step, config.steps, means)
                totals, counted = {}, 0
            unwrapped = accelerator.unwrap_model(generator)
            if state.step % config.sample_every == 0 or state.step == config.steps:
                save_samples(unwrapped, validation, run / "samples" / f"step_{state.step:06d}.png")
            if state.step % config.eval_every == 0 or state.step == config.steps:
                scores = evaluate_pairs(unwrapped, validation)
                _append_json(run / "validation.jsonl", {"step": state.step, **scores})
                state.history.append({"step": state.step, **scores})
                logger.info("validation at step %d: %s", state.step, scores)
            if state.step % config.checkpoint_every == 0 or state.step == config.steps:
                state.seconds = time.perf_counter() - started
                save_state(state_path, unwrapped, accelerator.unwrap_model(discriminator), optimizer_g, optimizer_d,
                           state, config)
    except KeyboardInterrupt:
        if accelerator.is_main_process and state.step > 0:
            state.seconds = time.perf_counter() - started
            save_state(state_path, accelerator.unwrap_model(generator), accelerator.unwrap_model(discriminator),
                       optimizer_g, optimizer_d, state, config)
            logger.info("interrupted at step %d; state saved to %s", state.step, state_path)
        raise
    return state


def _step(batch: dict, generator, discriminator, optimizer_g, optimizer_d, fer_net, accelerator, config: TrainConfig,
          adversarial: bool) -> dict[str, float]:
    """One optimisation step of D (after warm-up) and G; returns the losses as floats."""
    warped, target, reference = batch["warped"], batch["target"], batch["reference"]
    landmarks, label, intensity = batch["landmarks"], batch["label"], batch["intensity"]
    losses: dict[str, float] = {}

    with accelerator.autocast():
        fake, mask = generator(warped, landmarks, reference, label, intensity)

    # 1. Discriminator: hinge loss on real against generated crops.
    if adversarial:
        optimizer_d.zero_grad(set_to_none=True)
        with accelerator.autocast():
            real_score, _ = discriminator(target, landmarks, label)
            fake_score, _ = discriminator(fake.detach(), landmarks, label)
            loss_d = F.relu(1.0 - real_score).mean() + F.relu(1.0 + fake_score).mean()
        accelerator.backward(loss_d)
        optimizer_d.step()
        losses["d"] = loss_d.item()

    # 2. Generator: mouth-weighted L1 and a mask penalty; after warm-up also GAN terms.
    optimizer_g.zero_grad(set_to_none=True)
    with accelerator.autocast():
        mouth = F.max_pool2d(landmarks[:, 1:2], 9, stride=1, padding=4)  # inner mouth, grown
        face = batch["face"]
        weight = config.background_weight + (1.0 - config.background_weight) * face + config.mouth_weight * mouth
        l1 = ((fake - target).abs() * weight).mean() / weight.mean()
        loss_g = config.l1_weight * l1 + config.mask_weight * mask.mean()
        losses["l1"] = l1.item()
        losses["mask"] = mask.mean().item()
        if adversarial:
            fake_score, fake_features = discriminator(fake, landmarks, label)
            with torch.no_grad():
                _, real_features = discriminator(target, landmarks, label)
            adversarial_loss = -fake_score.mean()
            matching = sum(F.l1_loss(a, b.detach()) for a, b in zip(fake_features, real_features, strict=True))
            with torch.no_grad():
                expected = torch.softmax(fer_net(fer_view(target).float()), dim=1)
            judged = torch.log_softmax(fer_net(fer_view(fake).float()), dim=1)
            expression = F.kl_div(judged, expected, reduction="batchmean")
            loss_g = (loss_g + config.adversarial_weight * adversarial_loss
                      + config.feature_matching_weight * matching + config.fer_weight * expression)
            losses.update(g_adv=adversarial_loss.item(), fm=matching.item(), fer=expression.item())
    accelerator.backward(loss_g)
    optimizer_g.step()
    losses["g"] = loss_g.item()
    return losses


def save_state(path: Path, generator, discriminator, optimizer_g, optimizer_d, state: RunState,
               config: TrainConfig) -> None:
    """Write the run state to a temporary file and rename it, so an interrupted save keeps the previous state."""
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save({
        "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
        "optimizer_g": optimizer_g.state_dict(), "optimizer_d": optimizer_d.state_dict(),
        "state": asdict(state), "config": asdict(config),
    }, temporary)
    os.replace(temporary, path)


def load_run_generator(run: Path) -> tuple[Generator, RunState, dict]:
    """Return the generator, the state and the config dict of a run folder."""
    generator, _, state, config = load_run_models(run)
    return generator, state, config


def load_run_models(run: Path) -> tuple[Generator, Discriminator, RunState, dict]:
    """Return the generator and discriminator (eval mode), the state and the config dict of a run folder."""
    saved = torch.load(run / STATE_FILE, map_location="cpu", weights_only=False)
    generator = Generator(GeneratorConfig.from_dict(saved["config"]["generator"]))
    generator.load_state_dict(saved["generator"])
    discriminator = Discriminator()
    discriminator.load_state_dict(saved["discriminator"])
    return generator.eval(), discriminator.eval(), RunState(**saved["state"]), saved["config"]


def _drop_lines_after(path: Path, step: int) -> None:
    """Remove JSON-lines records whose step is beyond `step` (written after the last saved state)."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    remaining = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
    if len(remaining) != len(lines):
        path.write_text("".join(line + "\n" for line in remaining), encoding="utf-8")


def _append_json(path: Path, record: dict) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


# ---- validation and samples


def validation_batch(clips: list[ClipPairs]) -> dict[str, torch.Tensor | np.ndarray]:
    """Build a fixed batch of held-out pairs driven from each clip's first frame (self-reenactment)."""
    dataset = PairDataset(clips)
    first_frame = [item for item, (number, pair) in enumerate(dataset.index) if clips[number].source[pair] == 0]
    chosen = first_frame or list(range(len(dataset)))
    picks = np.linspace(0, len(chosen) - 1, min(VALIDATION_PAIRS, len(chosen))).round().astype(int)
    items = [dataset[chosen[i]] for i in picks]
    batch: dict = {key: torch.stack([item[key] for item in items]) for key in items[0]}
    batch["crop_landmarks"] = np.stack([clips[number].landmarks[clips[number].target[pair]]
                                        for number, pair in (dataset.index[chosen[i]] for i in picks)])
    return batch


@torch.no_grad()
def generate(generator: Generator, batch: dict, chunk: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the generator over a batch dict in chunks; returns (crops, masks) on the CPU."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    crops, masks = [], []
    for start in range(0, len(batch["label"]), chunk):
        part = {key: value[start : start + chunk].to(device) for key, value in batch.items() if torch.is_tensor(value)}
        crop, mask = generator(part["warped"], part["landmarks"], part["reference"], part["label"], part["intensity"])
        crops.append(crop.float().cpu())
        masks.append(mask.float().cpu())
    generator.train(was_training)
    return torch.cat(crops), torch.cat(masks)


def evaluate_pairs(generator: Generator, batch: dict) -> dict[str, float]:
    """Mean PSNR (whole crop and mouth) of the warp and of the generator against the real frames."""
    generated, _ = generate(generator, batch)
    warped, real, fake = to_image(batch["warped"]), to_image(batch["target"]), to_image(generated)
    size = real.shape[1]
    scores: dict[str, list[float]] = {"warp_psnr": [], "gan_psnr": [], "warp_mouth_psnr": [], "gan_mouth_psnr": []}
    for index in range(len(real)):
        mouth = mouth_region(batch["crop_landmarks"][index], size)
        scores["warp_psnr"].append(psnr(warped[index], real[index]))
        scores["gan_psnr"].append(psnr(fake[index], real[index]))
        scores["warp_mouth_psnr"].append(psnr(warped[index], real[index], mouth))
        scores["gan_mouth_psnr"].append(psnr(fake[index], real[index], mouth))
    return {key: round(float(np.mean(values)), 3) for key, values in scores.items()}


def save_samples(generator: Generator, batch: dict, path: Path) -> None:
    """Save a PNG grid: one row per pair, columns warped | generated | real | mask."""
    rows = np.linspace(0, len(batch["label"]) - 1, SAMPLE_ROWS).round().astype(int)
    part = {key: value[rows] for key, value in batch.items()}
    generated, mask = generate(generator, part)
    mask_rgb = (mask.repeat(1, 3, 1, 1) * 2.0 - 1.0)
    columns = [to_image(part["warped"]), to_image(generated), to_image(part["target"]), to_image(mask_rgb)]
    grid = np.concatenate([np.concatenate(list(column), axis=0) for column in columns], axis=1)
    temporary = path.with_name(path.stem + f".tmp{os.getpid()}.png")
    Image.fromarray(grid).save(temporary)
    os.replace(temporary, path)




