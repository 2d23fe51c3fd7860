"""The face GAN at render time: load a generator checkpoint and refine rendered frames.

`GanRefiner` is built once per portrait, whose aligned crop is the reference
for every frame. It then refines each warped frame in place: it aligns a crop
to the frame's landmarks, runs the generator with the frame's emotion, and
pastes the result back through the generator's own mask.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from avatar.errors import AvatarError
from face_gan.align import CROP_SIZE, FACE_PIXELS, crop_affine, paste_crop, warp_crop
from face_gan.data import landmark_map, to_image, to_tensor
from face_gan.models import Discriminator, Generator, GeneratorConfig

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
DEFAULT_CHECKPOINT = "face_gan.pt"


def default_gan_checkpoint() -> Path:
    """checkpoints/face_gan.pt (or under $AVATAR_CHECKPOINTS)."""
    from emotion.classifier import checkpoint_dir

    return checkpoint_dir() / DEFAULT_CHECKPOINT


def save_generator(generator: Generator, path: Path, discriminator: Discriminator | None = None) -> None:
    """Write a checkpoint (generator weights, config, crop geometry) to a temporary file, then rename it.

    The discriminator is optional: rendering never needs it, but fine-tuning
    from realism ratings starts from it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    content = {
        "format": CHECKPOINT_FORMAT, "config": generator.config.to_dict(), "crop_size": CROP_SIZE,
        "face_pixels": FACE_PIXELS, "generator": {key: value.cpu() for key, value in generator.state_dict().items()},
    }
    if discriminator is not None:
        content["discriminator"] = {key: value.cpu() for key, value in discriminator.state_dict().items()}
    torch.save(content, temporary)
    os.replace(temporary, path)


def load_generator(path: Path) -> Generator:
    """Load the generator of a checkpoint written by `save_generator`, in eval mode.

    Raises:
        AvatarError: the file is missing, is not a face GAN checkpoint, or was
            made for another crop geometry.
    """
    return load_checkpoint(path)[0]


def load_checkpoint(path: Path) -> tuple[Generator, Discriminator | None]:
    """Load the generator (eval mode) and, when the checkpoint has one, the discriminator.

    Raises:
        AvatarError: see `load_generator`.
    """
    if path.is_dir():
        raise AvatarError("path_is_directory", path=str(path))
    if not path.is_file():
        raise AvatarError("gan_checkpoint_missing", path=str(path))
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):
        raise AvatarError("gan_checkpoint_invalid", path=str(path), reason="not a PyTorch checkpoint") from None
    try:
        if not isinstance(saved, dict) or "generator" not in saved:
            raise ValueError("not a face GAN checkpoint")
        if saved.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format {saved.get('format')!r}, expected {CHECKPOINT_FORMAT}")
        if saved["crop_size"] != CROP_SIZE or abs(saved["face_pixels"] - FACE_PIXELS) > 1e-6:
            raise ValueError(f"crop {saved['crop_size']} px, face {saved['face_pixels']} px")
        generator = Generator(GeneratorConfig.from_dict(saved["config"]))
        generator.load_state_dict(saved["generator"])
        discriminator = None
        if "discriminator" in saved:
            discriminator = Discriminator()
            discriminator.load_state_dict(saved["discriminator"])
    except (KeyError, TypeError, AttributeError) as error:
        raise AvatarError("gan_checkpoint_invalid", path=str(path), reason=f"missing or malformed entry {error}") from None
    except (ValueError, RuntimeError) as error:
        raise AvatarError("gan_checkpoint_invalid", path=str(path), reason=str(error).splitlines()[0]) from None
    return generator.eval(), (discriminator.eval() if discriminator is not None else None)


class GanRefiner:
    """Refine rendered frames of one portrait with a generator.

    Args:
        generator: a loaded generator (eval mode).
        portrait_image: the portrait at output size, RGB uint8 (H, W, 3).
        portrait_landmarks: its landmarks in output pixels, (N, 2+).
    """

    def __init__(self, generator: Generator, portrait_image: np.ndarray, portrait_landmarks: np.ndarray) -> None:
        # A visible CUDA GPU (a Ray task given --ray-gpus sees only its own) runs the generator;
        # otherwise the CPU does. Channels-last convolutions ran about 1.35x faster on a 2-core CPU.
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.generator = generator.to(self.device, memory_format=torch.channels_last)
        reference = warp_crop(portrait_image, crop_affine(portrait_landmarks))
        self.reference = self._input(to_tensor(reference)[None])  # (1, 3, S, S)

    @torch.inference_mode()
    def refine(self, image: np.ndarray, landmarks: np.ndarray, emotion: int, intensity: float) -> None:
        """Refine the face in `image` (H, W, 3) in place; `landmarks` (N, 2) are the frame's target points."""
        affine = crop_affine(landmarks)
        crop = warp_crop(image, affine)
        local = landmarks[:, :2] @ affine[:, :2].T + affine[:, 2]
        condition = self._input(torch.from_numpy(landmark_map(local))[None])
        refined, mask = self.generator(self._input(to_tensor(crop)[None]), condition, self.reference,
                                       torch.tensor([int(emotion)], device=self.device),
                                       torch.tensor([float(intensity)], device=self.device))
        paste_crop(image, to_image(refined[0].cpu()), affine, mask[0, 0].cpu().numpy())

    def _input(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(self.device).contiguous(memory_format=torch.channels_last)
