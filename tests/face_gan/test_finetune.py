"""Fine-tuning from realism ratings, with the scripted rater standing in for people."""

import json

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from avatar.errors import AvatarError
from avatar.ratings import Rating, RatingStore
from bench.ratings_loop import scripted_score
from face_gan.finetune import FinetuneConfig, _ClipCache, finetune_from_ratings, ordering_accuracy, train_head
from face_gan.refiner import load_checkpoint, save_generator
from face_gan.train import TrainConfig, load_run_models, train

from .conftest import HAPPY_CLIP, SAD_CLIP, SMALL_GENERATOR

BLURS = (0.0, 0.8, 1.6, 2.4)


def _write_clip(source, output, sigma: float, frames: int = 12):
    reader = imageio_ffmpeg.read_frames(str(source), pix_fmt="rgb24")
    width, height = next(reader)["size"]
    writer = imageio_ffmpeg.write_frames(str(output), (width, height), fps=25, macro_block_size=1, quality=9)
    writer.send(None)
    for count, raw in enumerate(reader):
        if count == frames:
            break
        image = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        writer.send((cv2.GaussianBlur(image, (0, 0), sigma) if sigma else image).tobytes())
    reader.close()
    writer.close()
    return output


@pytest.fixture(scope="module")
def rated(videos, happy_pairs, tmp_path_factory):
    """Clips of two real videos at four blur levels, scored by the scripted rater, and a base checkpoint."""
    folder = tmp_path_factory.mktemp("rated")
    store = RatingStore(folder / "ratings.db")
    for source in (HAPPY_CLIP, SAD_CLIP):
        clips = []
        for sigma in BLURS:
            clip = _write_clip(videos / source, folder / f"{source[:-4]}-blur{sigma}.mp4", sigma)
            # Raw 256 px video spans a wider sharpness range than rendered clips.
            score = scripted_score(clip, sharpness_range=(10.0, 500.0))
            clips.append(clip)
            store.add(Rating(kind="score", clip=clip.name, score=score, rater="scripted"))
        for blurred in clips[1:]:
            store.add(Rating(kind="preference", clip=clips[0].name, other_clip=blurred.name, preferred="a",
                             rater="scripted"))
    config = TrainConfig(steps=2, batch_size=4, warmup_steps=0, generator=SMALL_GENERATOR.to_dict())
    train(folder / "run", [happy_pairs], [], config)
    generator, discriminator, _, _ = load_run_models(folder / "run")
    save_generator(generator, folder / "face_gan.pt", discriminator)
    return folder, store


def test_scripted_rater_prefers_sharp_mouths(rated):
    folder, store = rated
    scores = {rating.clip: rating.score for rating in store.all("score")}
    for source in ("emo_happy_eamm", "emo_sad_eamm"):
        ordered = [scores[f"{source}-blur{sigma}.mp4"] for sigma in BLURS]
        assert ordered == sorted(ordered, reverse=True)
        assert ordered[0] > ordered[-1]


def test_realism_head_learns_the_ratings(rated):
    folder, store = rated
    _, discriminator = load_checkpoint(folder / "face_gan.pt")
    cache = _ClipCache(folder)
    ratings = store.all()
    head, scores = train_head(discriminator, ratings, cache, FinetuneConfig(head_steps=150, batch_size=6))
    assert scores["training_ratings"] + scores["held_out_ratings"] == len(ratings)
    # Ordered as the rater ordered them on every rating, training and held out together.
    assert ordering_accuracy(head, ratings, cache) >= 0.8


def test_finetune_writes_versioned_checkpoints(rated, happy_pairs, sad_pairs):
    folder, _ = rated
    config = FinetuneConfig(head_steps=20, generator_steps=4, batch_size=4)
    first, manifest = finetune_from_ratings(folder / "ratings.db", folder / "face_gan.pt", [happy_pairs], [sad_pairs],
                                            config=config)
    assert first.name == "face_gan.ft1.pt"
    assert json.loads(first.with_suffix(".json").read_text(encoding="utf-8")) == manifest
    assert manifest["ratings"]["count"] == 14
    assert manifest["base"]["path"].endswith("face_gan.pt")
    assert {"warp_mouth_psnr", "gan_mouth_psnr"} <= set(manifest["reconstruction_after"])
    # The anchor keeps the generator near the base: reconstruction moves little in 4 steps.
    change = manifest["reconstruction_after"]["gan_mouth_psnr"] - manifest["reconstruction_before"]["gan_mouth_psnr"]
    assert abs(change) < 0.5
    generator, discriminator = load_checkpoint(first)
    assert discriminator is not None
    second, _ = finetune_from_ratings(folder / "ratings.db", first, [happy_pairs], [sad_pairs], config=config)
    assert second.name == "face_gan.ft2.pt"


def test_finetune_rejects_unusable_inputs(rated, happy_pairs, tmp_path):
    folder, _ = rated
    few = RatingStore(tmp_path / "few.db")
    few.add(Rating(kind="score", clip="x.mp4", score=3, rater="r"))
    with pytest.raises(AvatarError) as caught:
        finetune_from_ratings(tmp_path / "few.db", folder / "face_gan.pt", [happy_pairs], [])
    assert caught.value.key == "too_few_ratings"

    generator, _ = load_checkpoint(folder / "face_gan.pt")
    save_generator(generator, tmp_path / "generator_only.pt")
    with pytest.raises(AvatarError) as caught:
        finetune_from_ratings(folder / "ratings.db", tmp_path / "generator_only.pt", [happy_pairs], [])
    assert caught.value.key == "gan_checkpoint_no_discriminator"
