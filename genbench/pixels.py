"""Pixel formulas every part of genbench shares: PSNR, "did this pixel change", compositing.

One home for each, so the benchmark, the generators' quality records and the layer optimiser's
checks cannot come to disagree. Frames are uint8 RGB (T, H, W, 3) or (H, W, 3) unless stated.

- **PSNR** over R, G and B with data range 1.0 on [0, 1] values (the same as 255 on uint8):
  ``10 log10(1 / MSE)``, the MSE from exact integer sums divided in float64. An MSE of 0 scores
  `PSNR_CAP` (100 dB) instead of infinity; 100 dB is below the largest finite uint8 PSNR of a
  256x256 frame (101 dB), so the cap only ever replaces "identical". No pixels: NaN.
- **differs**: a pixel changed when some channel moved by more than a tolerance in uint8 levels.
- **over**: a uint8 RGBA layer over a uint8 RGB background, in float32, rounded to uint8; a ground
  truth layer over the ground-truth background gives back its `solo_<k>` video.
"""

from __future__ import annotations

import math

import numpy as np

PSNR_CAP = 100.0
SQUARED_SCALE = 3 * 255.0**2  # per-pixel squared error summed over RGB / this = MSE on [0, 1]


def psnr_from_mse(mse: np.ndarray | float) -> np.ndarray:
    """PSNR in dB for MSE on [0, 1] data (float64), capped at PSNR_CAP; NaN stays NaN."""
    mse = np.asarray(mse, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(1.0 / mse)
    return np.where(np.isnan(mse), np.nan, np.minimum(out, PSNR_CAP))


def squared_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., H, W) float32: squared uint8 differences summed over RGB (integers below 2^18, so exact)."""
    import cv2

    flat_a, flat_b = a.reshape(-1, *a.shape[-3:]), b.reshape(-1, *b.shape[-3:])
    ones = np.ones(3, dtype=np.float32)
    out = np.empty(flat_a.shape[:3], dtype=np.float32)
    for i in range(len(flat_a)):
        d = cv2.absdiff(flat_a[i], flat_b[i]).astype(np.float32)
        d *= d
        out[i] = d @ ones
    return out.reshape(a.shape[:-1])


def mse(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    """Mean squared error on [0, 1] over RGB of uint8 images, over the pixels `where` (bool, a's shape
    without channels) or all; NaN when there are none."""
    sq = squared_error(a, b).astype(np.float64)
    if where is not None:
        sq = sq[where]
    return float(sq.sum() / (SQUARED_SCALE * sq.size)) if sq.size else math.nan


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    """PSNR in dB of uint8 RGB images over the pixels `where` (or all); capped at PSNR_CAP, NaN when empty."""
    return float(psnr_from_mse(mse(a, b, where)))


def recorded_psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float | None:
    """`psnr` as a generator records it in meta.json: rounded to 3 decimals, None where the images are equal
    over `where` or there is no such pixel (a record says "exact" rather than the 100 dB cap)."""
    error = mse(a, b, where)
    return None if math.isnan(error) or error == 0 else round(float(psnr_from_mse(error)), 3)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., H, W) uint8: the largest per-channel |a - b| in uint8 levels."""
    import cv2

    d = cv2.absdiff(a.reshape(-1, a.shape[-2] * a.shape[-1]), b.reshape(-1, b.shape[-2] * b.shape[-1]))
    d = d.reshape(a.shape)
    return np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2])


def differs(a: np.ndarray, b: np.ndarray, tolerance: int) -> np.ndarray:
    """(..., H, W) bool: where uint8 RGB `a` and `b` differ by more than `tolerance` levels in any channel."""
    return max_abs_diff(a, b) > tolerance


def over(layer: np.ndarray, below: np.ndarray) -> np.ndarray:
    """uint8 RGBA `layer` (..., 4) over uint8 RGB `below` (..., 3): float32, rounded to uint8."""
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    out = layer[..., :3].astype(np.float32) * alpha + below.astype(np.float32) * (1.0 - alpha)
    return np.round(out).astype(np.uint8)


def minimal_alpha(solo: np.ndarray, bg: np.ndarray, floor: np.ndarray | float = 0.0, shrink: float = 1.0
                  ) -> np.ndarray:
    """The smallest alpha that explains `solo` as some colour over `bg`, per pixel: the difference matte.

    solo, bg: (..., 3) float in [0, 1]. Returns (...) float64 in [0, 1]: the max over channels of
    ``1 - solo / bg`` (darkening: a shadow of strength s gives s) and ``(solo - bg) / (1 - bg)``
    (brightening). `floor` (a scalar or one value per channel, in [0, 1] units) is a noise floor: a
    pixel whose every channel differs by at most the floor explains nothing, and the differences of the
    others are first shrunk towards 0 by `shrink` times the floor (1: soft thresholding, every change
    shrunk by the whole floor; 0: hard thresholding, a change past the floor counts in full).
    The ground-truth layers of a render use floor 0 (exact pairs); the layer optimiser starts
    from the same formula with the noise floor it measured between its bg and solo videos.
    """
    s = np.asarray(solo, dtype=np.float64)
    b = np.asarray(bg, dtype=np.float64)
    if np.any(np.asarray(floor) > 0):
        d = s - b
        floor = np.asarray(floor, dtype=np.float64)
        past = (np.abs(d) > floor).any(axis=-1, keepdims=True)
        s = np.where(past, b + np.sign(d) * np.maximum(np.abs(d) - shrink * floor, 0.0), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        darker = np.where(b > 0, 1.0 - s / np.where(b > 0, b, 1.0), 0.0)
        brighter = np.where(b < 1, (s - b) / np.where(b < 1, 1.0 - b, 1.0), 0.0)
    return np.clip(np.maximum(darker, brighter).max(axis=-1), 0.0, 1.0)
