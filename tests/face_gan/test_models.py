"""Generator and discriminator behaviour that training and rendering rely on."""

import torch

from face_gan.models import Discriminator, Generator

from .conftest import SMALL_GENERATOR


def _inputs(batch: int = 2):
    torch.manual_seed(0)
    warped = torch.rand(batch, 3, 128, 128) * 2 - 1
    return warped, torch.rand(batch, 2, 128, 128), torch.rand(batch, 3, 128, 128) * 2 - 1


def test_untrained_generator_returns_warp():
    generator = Generator(SMALL_GENERATOR).eval()
    warped, landmarks, reference = _inputs()
    with torch.no_grad():
        output, mask = generator(warped, landmarks, reference, torch.tensor([0, 1]), torch.tensor([0.5, 0.5]))
    assert output.shape == warped.shape
    assert mask.shape == (2, 1, 128, 128)
    assert 0.02 < float(mask.mean()) < 0.1
    # The output is the learned image blended through the mask: mostly the warp.
    assert float((output - warped).abs().mean()) < 0.1
    assert float(output.abs().max()) <= 1.0


def test_emotion_condition_changes_output():
    generator = Generator(SMALL_GENERATOR).eval()
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.Linear) and module.out_features % 2 == 0 and module.in_features == 16:
                module.weight.normal_(0, 0.5)
    warped, landmarks, reference = _inputs(1)
    with torch.no_grad():
        happy, _ = generator(warped, landmarks, reference, torch.tensor([1]), torch.tensor([0.9]))
        sad, _ = generator(warped, landmarks, reference, torch.tensor([2]), torch.tensor([0.9]))
        calm, _ = generator(warped, landmarks, reference, torch.tensor([1]), torch.tensor([0.0]))
    assert float((happy - sad).abs().mean()) > 1e-4
    assert float((happy - calm).abs().mean()) > 1e-4


def test_discriminator_patches_and_projection():
    discriminator = Discriminator().eval()
    image, landmarks, _ = _inputs(1)
    with torch.no_grad():
        happy, features = discriminator(image, landmarks, torch.tensor([1]))
        angry, _ = discriminator(image, landmarks, torch.tensor([3]))
    assert happy.shape[:2] == (1, 1)
    assert happy.shape[-1] > 4  # one score per patch
    assert len(features) == 4
    assert not torch.allclose(happy, angry)
