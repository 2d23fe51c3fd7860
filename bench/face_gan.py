"""Measure the face GAN against warp-only: self-reenactment, expression, identity and speed.

1. Self-reenactment on the held-out clips: each clip's first frame is warped
   to later frames' landmarks (the renderer's warp) and compared with the real
   frames. PSNR and SSIM over the mouth box, the face oval and the whole crop,
   and mouth sharpness relative to the real frame. Methods: warp only, a blur
   control (the warp with its mouth box blurred, sigma 1.5: what a generator
   that only smooths would score), and each generator checkpoint.
2. Expression: one tagged English sentence per emotion is planned, spoken and
   rendered on real portraits. The FER judge classifies every second frame of
   the sentence's second half, after the ramp. Accuracy = share of frames
   where its top label is the planned emotion.
3. Identity: dlib's face-recognition embedding distance between the portrait
   and the rendered frames of part 2 (under 0.6 is dlib's "same person").
4. Speed: generator milliseconds per 128x128 crop (batch 1, median of runs)
   and the whole refine step per 512-pixel frame (crop, generator, paste).

    .venv/bin/python -m bench.face_gan [--checkpoint PATH ...] [--runs 5] [--record]

Needs the bench extra for part 3: `.venv/bin/pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from importlib import util
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.common import record, require_data
from emotion.types import EMOTIONS
from face_gan import DEFAULT_HOLDOUT
from face_gan.align import crop_affine, warp_crop
from face_gan.data import PairDataset, face_mask, to_image
from face_gan.fer import FER_LABELS, FER_TO_EMOTION, classify_faces, face_square
from face_gan.metrics import mouth_region, psnr, sharpness, ssim
from face_gan.pipeline import load_clips
from face_gan.refiner import default_gan_checkpoint, load_generator
from face_gan.train import generate

PORTRAITS = ("p01_real_frontal_woman_people0.png", "p02_real_frontal_man_mead60.png",
             "p04_real_glasses_man_d8.jpg", "p09_real_neutral_sad1.png")
SENTENCES = {
    "neutral": "The meeting starts at nine and ends before lunch.",
    "happy": "We won the award and everyone is celebrating tonight!",
    "sad": "She never came home, and the house feels empty without her.",
    "angry": "This is unacceptable, and I demand an answer right now!",
    "surprised": "I cannot believe it, the whole team showed up at my door!",
    "fearful": "Something is moving in the dark behind the door.",
    "disgusted": "The food was rotten and the kitchen smelled awful.",
}
BLUR_SIGMA = 1.5
RENDER_SIZE = 512
IDENTITY_THRESHOLD = 0.6


# ---- 1. self-reenactment


def reenactment(generators: dict[str, torch.nn.Module]) -> list[dict]:
    clips, _ = load_clips([require_data() / "videos" / f"{name}.mp4" for name in DEFAULT_HOLDOUT])
    dataset = PairDataset(clips)
    items = [item for item, (number, pair) in enumerate(dataset.index) if clips[number].source[pair] == 0]
    batch = {key: torch.stack([dataset[item][key] for item in items]) for key in dataset[items[0]]}
    landmarks = [clips[number].landmarks[clips[number].target[pair]] for number, pair in dataset.index[items]]
    real, warped = to_image(batch["target"]), to_image(batch["warped"])
    size = real.shape[1]
    mouths = [mouth_region(points, size) for points in landmarks]
    faces = [face_mask(points, size)[0] > 0.5 for points in landmarks]

    blurred = warped.copy()
    for index, mouth in enumerate(mouths):
        smooth = cv2.GaussianBlur(warped[index], (0, 0), BLUR_SIGMA)
        blurred[index][mouth] = smooth[mouth]
    outputs = {"warp only": warped, "blur control": blurred}
    for name, generator in generators.items():
        outputs[name] = to_image(generate(generator, batch)[0])

    rows = []
    for name, images in outputs.items():
        scores: dict[str, list[float]] = {key: [] for key in ("mouth_psnr", "mouth_ssim", "face_psnr", "face_ssim",
                                                              "crop_psnr", "crop_ssim", "sharpness")}
        for index in range(len(real)):
            mouth, face = mouths[index], faces[index]
            scores["mouth_psnr"].append(psnr(images[index], real[index], mouth))
            scores["mouth_ssim"].append(ssim(images[index], real[index], mouth))
            scores["face_psnr"].append(psnr(images[index], real[index], face))
            scores["face_ssim"].append(ssim(images[index], real[index], face))
            scores["crop_psnr"].append(psnr(images[index], real[index]))
            scores["crop_ssim"].append(ssim(images[index], real[index]))
            scores["sharpness"].append(sharpness(images[index], mouth) / max(sharpness(real[index], mouth), 1e-6))
        rows.append({"method": name, "pairs": len(real), **{key: float(np.mean(value)) for key, value in scores.items()}})
    return rows


# ---- 2 and 3. expression and identity on rendered sentences


def _performances(language: str = "en") -> dict[str, object]:
    from avatar.performance import perform
    from emotion.planner import plan_script
    from voice.synthesize import synthesize

    result = {}
    for emotion, sentence in SENTENCES.items():
        plan = plan_script(f"[{emotion}:0.9] {sentence}", language, None, None, preset="storytelling")
        utterance = synthesize(plan, None, seed=0)
        result[emotion] = perform(utterance, plan, 25, seed=0)
    return result


def _identity_model():
    """dlib's detector, 68-point predictor and face-recognition network, or None without the bench extra."""
    spec = util.find_spec("face_recognition_models")
    if spec is None or util.find_spec("dlib") is None:
        return None
    import dlib

    # The package's own __init__ needs pkg_resources; its model files are read by path instead.
    models = Path(spec.submodule_search_locations[0]) / "models"
    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat")),
            dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat")))


def _embedding(model, image: np.ndarray) -> np.ndarray | None:
    detector, predictor, network = model
    boxes = detector(image, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda rectangle: rectangle.area())
    return np.array(network.compute_face_descriptor(image, predictor(image, box)))


def expression_and_identity(generators: dict[str, torch.nn.Module]) -> tuple[list[dict], list[dict]]:
    from avatar.face import load_portrait
    from avatar.render import Renderer

    performances = _performances()
    identity = _identity_model()
    methods = {"warp only": None, **generators}
    hits = {name: {emotion: [] for emotion in EMOTIONS} for name in methods}
    distances: dict[str, list[float]] = {name: [] for name in methods}
    for portrait_name in PORTRAITS:
        portrait = load_portrait(require_data() / "portraits" / portrait_name)
        for name, generator in methods.items():
            renderer = Renderer(portrait, RENDER_SIZE, generator)
            reference = _embedding(identity, renderer.image) if identity else None
            for emotion, performance in performances.items():
                frames = range(performance.num_frames // 2, performance.num_frames, 2)
                crops = []
                for index in frames:
                    frame = renderer.render(performance, index)
                    crops.append(face_square(warp_crop(frame.image, crop_affine(frame.landmarks))))
                    if reference is not None and index % 8 == 0:
                        found = _embedding(identity, frame.image)
                        if found is not None:
                            distances[name].append(float(np.linalg.norm(found - reference)))
                judged = [FER_TO_EMOTION[FER_LABELS[i]] for i in classify_faces(crops).argmax(axis=1)]
                hits[name][emotion] += [label == emotion for label in judged]

    expression_rows = []
    for name in methods:
        row = {"method": name}
        for emotion in EMOTIONS:
            row[emotion] = float(np.mean(hits[name][emotion])) if hits[name][emotion] else float("nan")
        row["all"] = float(np.mean([hit for values in hits[name].values() for hit in values]))
        expression_rows.append(row)
    identity_rows = [{"method": name, "frames": len(values), "distance": float(np.mean(values)) if values else float("nan"),
                      "same_person": float(np.mean(np.array(values) < IDENTITY_THRESHOLD)) if values else float("nan")}
                     for name, values in distances.items()] if identity else []
    return expression_rows, identity_rows


# ---- 4. speed


def speed(generators: dict[str, torch.nn.Module], runs: int) -> list[dict]:
    from avatar.face import load_portrait
    from face_gan.refiner import GanRefiner

    portrait = load_portrait(require_data() / "portraits" / PORTRAITS[0])
    scale = RENDER_SIZE / max(portrait.width, portrait.height)
    image = cv2.resize(portrait.image, (round(portrait.width * scale), round(portrait.height * scale)),
                       interpolation=cv2.INTER_AREA)
    landmarks = portrait.landmarks[:, :2] * scale
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, generator in generators.items():
            refiner = GanRefiner(generator, image, landmarks)
            crop = torch.zeros(1, 3, 128, 128)
            condition = torch.zeros(1, 2, 128, 128)
            timings_g, timings_refine = [], []
            with torch.inference_mode():
                for _ in range(3):  # warm-up
                    generator(crop, condition, crop, torch.tensor([1]), torch.tensor([0.5]))
                for _ in range(runs):
                    started = time.perf_counter()
                    for _ in range(20):
                        generator(crop, condition, crop, torch.tensor([1]), torch.tensor([0.5]))
                    timings_g.append((time.perf_counter() - started) / 20 * 1000)
                    frame = image.copy()
                    started = time.perf_counter()
                    for _ in range(20):
                        refiner.refine(frame, landmarks, 1, 0.5)
                    timings_refine.append((time.perf_counter() - started) / 20 * 1000)
            rows.append({"method": name, "threads": threads, "generator_ms": statistics.median(timings_g),
                         "refine_ms": statistics.median(timings_refine)})
    return rows


# ---- tables


def _table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    header = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [header, rule]
    for row in rows:
        lines.append("| " + " | ".join(format(row[key], spec) if spec else str(row[key]) for key, _, spec in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, action="append",
                        help="generator checkpoint to measure (repeatable; default: checkpoints/face_gan.pt)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-render", action="store_true", help="skip the expression and identity parts")
    parser.add_argument("--record", action="store_true", help="append the tables to docs/benchmarks.md")
    options = parser.parse_args()
    require_data()
    torch.set_num_threads(1)

    paths = options.checkpoint or [default_gan_checkpoint()]
    generators = {f"gan ({path.name})": load_generator(path) for path in paths}

    tables = []
    rows = reenactment(generators)
    tables.append("Self-reenactment on held-out clips " + ", ".join(DEFAULT_HOLDOUT) + f" ({rows[0]['pairs']} pairs):\n\n" + _table(rows, [
        ("method", "method", ""), ("mouth_psnr", "mouth PSNR dB", ".2f"), ("mouth_ssim", "mouth SSIM", ".3f"),
        ("face_psnr", "face PSNR dB", ".2f"), ("face_ssim", "face SSIM", ".3f"), ("crop_psnr", "crop PSNR dB", ".2f"),
        ("crop_ssim", "crop SSIM", ".3f"), ("sharpness", "mouth sharpness / real", ".2f")]))
    if not options.skip_render:
        expression, identity = expression_and_identity(generators)
        tables.append("Expression accuracy (FER judge, share of frames recognised as the planned emotion):\n\n" + _table(
            expression, [("method", "method", "")] + [(emotion, emotion, ".2f") for emotion in EMOTIONS] + [("all", "all", ".3f")]))
        if identity:
            tables.append("Identity (dlib embedding distance from the portrait; lower is closer):\n\n" + _table(identity, [
                ("method", "method", ""), ("frames", "frames", ""), ("distance", "mean distance", ".3f"),
                ("same_person", f"share < {IDENTITY_THRESHOLD}", ".2f")]))
        else:
            tables.append("Identity: skipped (install the bench extra for dlib).")
    tables.append(f"Speed (median of {options.runs} runs of 20):\n\n" + _table(speed(generators, options.runs), [
        ("method", "method", ""), ("threads", "torch threads", ""), ("generator_ms", "generator ms / crop", ".1f"),
        ("refine_ms", "refine ms / 512 px frame", ".1f")]))
    text = "\n\n".join(tables)
    print(text)
    if options.record:
        record("Face GAN", "python -m bench.face_gan " + " ".join(f"--checkpoint {path}" for path in paths),
               "Portraits: " + ", ".join(PORTRAITS) + ".", text)


if __name__ == "__main__":
    main()
