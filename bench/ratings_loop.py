"""Prove that ratings improve the face GAN, with a scripted rater in place of people.

The scripted rater is a deterministic function of a measurable property of
the frames. It takes the sharpness (variance of the Laplacian) of the mouth
region of the aligned face crop, on a log scale from 100 (score 1) to 320
(score 5), the range rendered 256 px clips span.

1. Render the training sentences on the training portraits with the base
   checkpoint and with warp only. The rater scores each clip and states a
   preference for each same-sentence pair. Ratings go into a SQLite store.
2. `avatar finetune` (the same function) trains the realism head and
   fine-tunes the generator.
3. Render held-out sentences on held-out portraits with the base and the new
   checkpoint: the rater should score the new one higher, while the
   self-reenactment PSNR stays within `PSNR_TOLERANCE_DB` of the base.

    .venv/bin/python -m bench.ratings_loop [--base checkpoints/face_gan.pt] [--record]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.common import record, require_data
from face_gan.align import crop_affine, transform_points, warp_crop
from face_gan.data import track_video
from face_gan.metrics import mouth_region, sharpness

# Mouth sharpness of rendered 256 px clips spans about 100 to 300 (real video frames: 400 to 700).
SHARPNESS_RANGE = (100.0, 320.0)
PSNR_TOLERANCE_DB = 0.5
TRAIN_SENTENCES = (
    "[happy] Welcome back, it is great to see you all again!",
    "[sad] I am sorry to share some difficult news today.",
    "[surprised] Wow, nobody expected the results to be this good!",
    "[neutral] The report covers the first quarter of the year.",
)
HELD_OUT_SENTENCES = (
    "[angry] This delay is simply not acceptable any more.",
    "[happy] Thank you for watching, and see you next week!",
)
TRAIN_PORTRAITS = ("p01_real_frontal_woman_people0.png", "p04_real_glasses_man_d8.jpg")
HELD_OUT_PORTRAITS = ("p02_real_frontal_man_mead60.png", "p09_real_neutral_sad1.png")


def scripted_score(video: Path, max_frames: int = 200, sharpness_range: tuple[float, float] = SHARPNESS_RANGE) -> int:
    """Rate a clip from 1 to 5 by the median mouth sharpness of its frames, on a log scale over `sharpness_range`."""
    values = []
    for index, (image, points) in enumerate(track_video(video, max_frames)):
        if points is None or index % 4:
            continue
        affine = crop_affine(points)
        crop = warp_crop(image, affine)
        values.append(sharpness(crop, mouth_region(transform_points(affine, points), crop.shape[0])))
    if not values:
        return 1
    low, high = np.log(sharpness_range[0]), np.log(sharpness_range[1])
    share = np.clip((np.log(max(float(np.median(values)), 1e-6)) - low) / (high - low), 0.0, 1.0)
    return int(round(1 + 4 * share))


def render_clip(text: str, portrait: Path, output: Path, refiner: str, checkpoint: Path | None) -> Path:
    from avatar.pipeline import RenderSettings, render_script

    if output.is_file():  # a rerun with --work reuses finished renders
        return output
    render_script(text, output, RenderSettings(portrait=portrait, language="en", size=256, refiner=refiner,
                                               gan_checkpoint=checkpoint))
    return output


def main() -> None:
    from avatar.fileio import file_sha256
    from avatar.ratings import Rating, RatingStore
    from face_gan import DEFAULT_HOLDOUT
    from face_gan.data import find_videos
    from face_gan.finetune import FinetuneConfig, finetune_from_ratings
    from face_gan.pipeline import load_clips, split_holdout
    from face_gan.refiner import default_gan_checkpoint

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=default_gan_checkpoint())
    parser.add_argument("--work", type=Path, default=None, help="folder for renders and ratings (reused when rerun)")
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    options = parser.parse_args()
    data = require_data()
    portraits = data / "portraits"
    work = options.work or Path(tempfile.mkdtemp(prefix="ratings-loop-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "ratings.db").unlink(missing_ok=True)
    (work / "face_gan.ft1.pt").unlink(missing_ok=True)
    for stale in work.glob("held*-fine-tuned.*"):
        stale.unlink()
    base_sha = file_sha256(options.base)

    # 1. Render and rate the training clips.
    store = RatingStore(work / "ratings.db")
    for number, text in enumerate(TRAIN_SENTENCES):
        for portrait in TRAIN_PORTRAITS:
            clips = {}
            for refiner in ("gan", "none"):
                clip = render_clip(text, portraits / portrait, work / f"train{number}-{portrait[:3]}-{refiner}.mp4",
                                   refiner, options.base)
                clips[refiner] = (clip, scripted_score(clip))
                store.add(Rating(kind="score", clip=clip.name, score=clips[refiner][1], rater="scripted",
                                 settings={"refiner": refiner, "portrait": portrait},
                                 checkpoint_sha256=base_sha if refiner == "gan" else None))
            (a, score_a), (b, score_b) = clips["gan"], clips["none"]
            preferred = "same"
            if score_a != score_b:
                preferred = "a" if score_a > score_b else "b"
            store.add(Rating(kind="preference", clip=a.name, other_clip=b.name, preferred=preferred, rater="scripted",
                             checkpoint_sha256=base_sha))

    # 2. Fine-tune from the ratings.
    clips, _ = load_clips(find_videos(data / "videos"))
    training, validation = split_holdout(clips, DEFAULT_HOLDOUT)
    tuned, manifest = finetune_from_ratings(work / "ratings.db", options.base, training, validation,
                                            output=work / "face_gan.ft1.pt", config=FinetuneConfig())

    # 3. Held-out renders, base against fine-tuned.
    scores: dict[str, list[int]] = {"base": [], "fine-tuned": []}
    for number, text in enumerate(HELD_OUT_SENTENCES):
        for portrait in HELD_OUT_PORTRAITS:
            for name, checkpoint in (("base", options.base), ("fine-tuned", tuned)):
                clip = render_clip(text, portraits / portrait, work / f"held{number}-{portrait[:3]}-{name}.mp4", "gan",
                                   checkpoint)
                scores[name].append(scripted_score(clip))
    before, after = manifest["reconstruction_before"], manifest["reconstruction_after"]
    rows = [
        "| checkpoint | held-out scripted score (mean of 4 clips) | mouth PSNR dB | crop PSNR dB |",
        "|---|---|---|---|",
        f"| base | {np.mean(scores['base']):.2f} | {before['gan_mouth_psnr']:.2f} | {before['gan_psnr']:.2f} |",
        f"| fine-tuned | {np.mean(scores['fine-tuned']):.2f} | {after['gan_mouth_psnr']:.2f} | {after['gan_psnr']:.2f} |",
    ]
    head = manifest["realism_head"]
    text = (f"Ratings: {manifest['ratings']['count']} ({head['training_ratings']} training, {head['held_out_ratings']} "
            f"held out); realism head held-out order accuracy {head['held_out_accuracy_before']} before, "
            f"{head['held_out_accuracy']} after training.\n\n" + "\n".join(rows) +
            f"\n\nPSNR tolerance: {PSNR_TOLERANCE_DB} dB; mouth PSNR change "
            f"{after['gan_mouth_psnr'] - before['gan_mouth_psnr']:+.2f} dB.")
    print(text)
    print(f"work folder: {work}")
    if options.record:
        record("Fine-tuning from ratings (scripted rater)", f"python -m bench.ratings_loop --base {options.base}",
               f"Scripted rater: median mouth sharpness on a log scale, {SHARPNESS_RANGE[0]:.0f} -> 1 and "
               f"{SHARPNESS_RANGE[1]:.0f} -> 5.", text)


if __name__ == "__main__":
    main()
