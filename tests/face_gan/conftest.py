"""Shared fixtures for the face GAN tests: real clips from ../shared/data, a small generator size."""

from __future__ import annotations

from pathlib import Path

import pytest

from face_gan.models import GeneratorConfig

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# A few channels per level keep training steps in the tests to a fraction of a second.
SMALL_GENERATOR = GeneratorConfig(widths=(8, 16, 16, 16, 16), embedding=8, condition=16)
# emo_happy_eamm: a 256x256 clip of a smiling man, labelled by its name.
HAPPY_CLIP = "emo_happy_eamm.mp4"
SAD_CLIP = "emo_sad_eamm.mp4"




@pytest.fixture(scope="session")
def videos() -> Path:
    folder = DATA_DIR / "videos"
    if not folder.is_dir():
        pytest.skip(f"real test videos not found at {folder}")
    return folder


@pytest.fixture(scope="session")
def happy_pairs(videos):
    from face_gan.data import extract_pairs

    return extract_pairs(videos / HAPPY_CLIP, max_frames=16)


@pytest.fixture(scope="session")
def sad_pairs(videos):
    from face_gan.data import extract_pairs

    return extract_pairs(videos / SAD_CLIP, max_frames=12)
