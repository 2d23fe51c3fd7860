"""Image quality measures for the face GAN: PSNR, SSIM and sharpness, over a crop or its mouth.

All functions take uint8 RGB crops (H, W, 3) and an optional boolean region
(H, W). The mouth region is the box around the outer lips, grown by a margin,
so it contains the lips, the teeth and the skin the jaw moves.
"""

from __future__ import annotations

import cv2
import numpy as np

from avatar.rig import LIPS_OUTER_LOWER, LIPS_OUTER_UPPER

# Margin around the outer-lip box, as a share of the mouth width.
MOUTH_MARGIN = 0.25
SSIM_SIGMA = 1.5
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def mouth_region(landmarks: np.ndarray, size: int) -> np.ndarray:
    """Boolean (size, size) box around the outer lips of crop landmarks (N, 2)."""
    lips = landmarks[list(LIPS_OUTER_UPPER) + list(LIPS_OUTER_LOWER)]
    low, high = lips.min(axis=0), lips.max(axis=0)
    margin = MOUTH_MARGIN * float(high[0] - low[0])
    x0, y0 = np.clip(np.floor(low - margin).astype(int), 0, size - 1)
    x1, y1 = np.clip(np.ceil(high + margin).astype(int) + 1, 1, size)
    region = np.zeros((size, size), dtype=bool)
    region[y0:y1, x0:x1] = True
    return region


def psnr(image: np.ndarray, reference: np.ndarray, region: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB (capped at 100 for identical pixels)."""
    difference = image.astype(np.float64) - reference.astype(np.float64)
    squared = difference**2 if region is None else (difference**2)[region]
    mse = float(squared.mean())
    return 100.0 if mse <= 1e-10 else float(10.0 * np.log10(255.0**2 / mse))


def ssim(image: np.ndarray, reference: np.ndarray, region: np.ndarray | None = None) -> float:
    """Structural similarity (Wang et al. 2004, Gaussian window) on luma, averaged over `region`."""
    a = _luma(image)
    b = _luma(reference)
    mean_a, mean_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mean_a**2
    var_b = _blur(b * b) - mean_b**2
    covariance = _blur(a * b) - mean_a * mean_b
    index = ((2 * mean_a * mean_b + _C1) * (2 * covariance + _C2)) / (
        (mean_a**2 + mean_b**2 + _C1) * (var_a + var_b + _C2))
    return float(index.mean() if region is None else index[region].mean())


def sharpness(image: np.ndarray, region: np.ndarray | None = None) -> float:
    """Variance of the Laplacian of the luma: higher is sharper."""
    laplacian = cv2.Laplacian(_luma(image), cv2.CV_64F)
    return float(laplacian.var() if region is None else laplacian[region].var())


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)


def _blur(values: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(values, (11, 11), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)
