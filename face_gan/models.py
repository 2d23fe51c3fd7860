"""Generator and discriminator of the conditional face-expression GAN.

Generator: a small U-Net over the aligned crop. Its input stacks the warped
crop, the target landmark map (contours and inner mouth) and a reference crop
of the same person. The emotion (label embedding and intensity) modulates
every block through FiLM. It predicts an image and a mask, and returns
`mask * image + (1 - mask) * warped`, so pixels it leaves alone stay the
warp's. The mask starts nearly closed, so an untrained generator is the warp.

Discriminator: a PatchGAN over the crop and the landmark map with spectral
normalisation, conditioned on the emotion by projection (Miyato & Koyama,
2018): each patch's score adds the inner product of its features with the
label's embedding. It also returns its feature maps for feature matching.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from emotion.types import EMOTIONS

NUM_EMOTIONS = len(EMOTIONS)
IMAGE_CHANNELS = 3
CONDITION_CHANNELS = 2
# Initial mask logit: sigmoid(-3) = 0.05, so training starts from the warp.
MASK_BIAS = -3.0


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator sizes; stored in every checkpoint so it rebuilds the same network."""

    widths: tuple[int, ...] = (32, 64, 96, 128, 128)
    embedding: int = 32
    condition: int = 64

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> GeneratorConfig:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


class EmotionCode(nn.Module):
    """Emotion label embedding scaled by intensity, mixed with the intensity itself, (B, C)."""

    def __init__(self, embedding: int, condition: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(NUM_EMOTIONS, embedding)
        self.mix = nn.Sequential(nn.Linear(embedding + 1, condition), nn.SiLU(), nn.Linear(condition, condition))

    def forward(self, label: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
        intensity = intensity.float().view(-1, 1)
        return self.mix(torch.cat([self.embed(label) * intensity, intensity], dim=1))


class FilmBlock(nn.Module):
    """3x3 conv, group norm, emotion FiLM, SiLU; `stride=2` halves the size."""

    def __init__(self, channels_in: int, channels_out: int, condition: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.norm = nn.GroupNorm(8, channels_out)
        self.film = nn.Linear(condition, 2 * channels_out)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(code)[:, :, None, None].chunk(2, dim=1)
        return F.silu(self.norm(self.conv(x)) * (1.0 + scale) + shift)


class Generator(nn.Module):
    """Refine a warped face crop; see the module docstring.

    Inputs are (B, 3, S, S) images in -1..1 and a (B, 2, S, S) landmark map; S
    must be divisible by 2 ** (len(widths) - 1).
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        widths, condition = self.config.widths, self.config.condition
        self.code = EmotionCode(self.config.embedding, condition)
        channels_in = 2 * IMAGE_CHANNELS + CONDITION_CHANNELS
        self.stem = FilmBlock(channels_in, widths[0], condition)
        self.down = nn.ModuleList(FilmBlock(a, b, condition, stride=2) for a, b in zip(widths, widths[1:], strict=False))
        self.middle = FilmBlock(widths[-1], widths[-1], condition)
        self.up = nn.ModuleList(
            FilmBlock(widths[i + 1] + widths[i], widths[i], condition) for i in reversed(range(len(widths) - 1))
        )
        self.head = nn.Conv2d(widths[0], IMAGE_CHANNELS + 1, 3, padding=1)
        with torch.no_grad():
            self.head.bias[IMAGE_CHANNELS] = MASK_BIAS

    def forward(self, warped: torch.Tensor, landmarks: torch.Tensor, reference: torch.Tensor,
                label: torch.Tensor, intensity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (refined crop (B, 3, S, S) in -1..1, mask (B, 1, S, S) in 0..1)."""
        code = self.code(label, intensity)
        x = self.stem(torch.cat([warped, landmarks, reference], dim=1), code)
        skips = [x]
        for block in self.down:
            x = block(x, code)
            skips.append(x)
        x = self.middle(x, code)
        skips.pop()
        for block in self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1), code)
        out = self.head(x)
        image = torch.tanh(out[:, :IMAGE_CHANNELS])
        mask = torch.sigmoid(out[:, IMAGE_CHANNELS:])
        return mask * image + (1.0 - mask) * warped, mask


class Discriminator(nn.Module):
    """Patch discriminator with emotion projection; returns (patch scores (B, 1, s, s), features)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 128)) -> None:
        super().__init__()
        layers = []
        channels = IMAGE_CHANNELS + CONDITION_CHANNELS
        for number, width in enumerate(widths):
            stride = 2 if number < len(widths) - 1 else 1
            layers.append(spectral_norm(nn.Conv2d(channels, width, 4, stride=stride, padding=1 if stride == 2 else 0)))
            channels = width
        self.layers = nn.ModuleList(layers)
        self.score = spectral_norm(nn.Conv2d(channels, 1, 1))
        self.embed = spectral_norm(nn.Embedding(NUM_EMOTIONS, channels))

    def forward(self, image: torch.Tensor, landmarks: torch.Tensor,
                label: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = torch.cat([image, landmarks], dim=1)
        features = []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
            features.append(x)
        projection = (x * self.embed(label)[:, :, None, None]).sum(dim=1, keepdim=True)
        return self.score(x) + projection, features


def count_parameters(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())
