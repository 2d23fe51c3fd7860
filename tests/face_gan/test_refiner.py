"""Generator checkpoints and refining rendered frames."""

import numpy as np
import pytest
import torch

from avatar.errors import AvatarError
from avatar.face import load_portrait
from avatar.performance import ACTION_UNITS, Performance
from avatar.render import Renderer
from face_gan.models import Generator
from face_gan.refiner import GanRefiner, load_generator, save_generator

from .conftest import SMALL_GENERATOR


@pytest.fixture(scope="module")
def portrait():
    return load_portrait(None)


def _trained_looking_generator() -> Generator:
    """A generator whose mask is open, so refining visibly changes the face."""
    torch.manual_seed(1)
    generator = Generator(SMALL_GENERATOR).eval()
    with torch.no_grad():
        generator.head.bias[3] = 3.0
    return generator


def test_save_and_load_round_trip(tmp_path):
    generator = _trained_looking_generator()
    save_generator(generator, tmp_path / "g.pt")
    loaded = load_generator(tmp_path / "g.pt")
    assert loaded.config == generator.config
    for a, b in zip(generator.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_missing_and_invalid_checkpoints_are_reported(tmp_path):
    with pytest.raises(AvatarError) as caught:
        load_generator(tmp_path / "none.pt")
    assert caught.value.key == "gan_checkpoint_missing"
    (tmp_path / "text.pt").write_text("not a checkpoint", encoding="utf-8")
    with pytest.raises(AvatarError) as caught:
        load_generator(tmp_path / "text.pt")
    assert caught.value.key == "gan_checkpoint_invalid"
    torch.save({"format": 99, "generator": {}}, tmp_path / "future.pt")
    with pytest.raises(AvatarError) as caught:
        load_generator(tmp_path / "future.pt")
    assert "format 99" in caught.value.params["reason"]


def test_refiner_changes_only_the_face(portrait):
    plain = Renderer(portrait, 384)
    refined = Renderer(portrait, 384, _trained_looking_generator())
    frames = 3
    performance = Performance(
        fps=25, mouth_opening=np.array([0.0, 0.6, 1.0], dtype=np.float32), mouth_width=np.zeros(frames, np.float32),
        action_units=np.zeros((frames, len(ACTION_UNITS)), np.float32), blink=np.zeros(frames, np.float32),
        head_rotation=np.zeros((frames, 3), np.float32), head_translation=np.zeros((frames, 2), np.float32),
        speaking=np.ones(frames, np.float32), emotion=np.array([1, 1, 1], dtype=np.int8),
        intensity=np.full(frames, 0.8, np.float32))
    for index in range(frames):
        a = plain.render(performance, index)
        b = refined.render(performance, index)
        difference = np.abs(a.image.astype(int) - b.image.astype(int)).sum(axis=2)
        mouth = a.landmarks[13].astype(int)
        assert difference[mouth[1] - 5 : mouth[1] + 5, mouth[0] - 5 : mouth[0] + 5].mean() > 5
        # The crop covers about 1.4 face heights around the face centre: the corners stay the warp's.
        assert difference[:20, :20].max() == 0
        assert difference[-20:, -20:].max() == 0


def test_refiner_reference_is_the_portraits_own_face(portrait):
    renderer = Renderer(portrait, 256, _trained_looking_generator())
    assert isinstance(renderer.refiner, GanRefiner)
    reference = renderer.refiner.reference
    assert reference.shape == (1, 3, 128, 128)
    # Skin tones, not the grey fill of an empty crop.
    assert float(reference.std()) > 0.1
