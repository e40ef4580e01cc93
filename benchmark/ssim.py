"""SSIM exactly as scikit-image computes it by default, fast for uint8 frames.

``skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=1.0)`` with its defaults:
a 7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance (N / (N - 1)), the SSIM map averaged
over channels and over the pixels at least 3 from the border (skimage crops the filter radius).

On the interior the window never leaves the frame, so skimage's padding mode does not matter and
plain 7x7 window sums reproduce its filter. Frames are uint8, so the window sums of x, y,
x^2 + y^2 and x*y are integers below 2^24: exact in float32, whatever the summation order of
OpenCV's box filter. The formula is multiplied through by
49^2 255^2, so the differences that cancel (the variances and the covariance) are integers computed
exactly in int32; only the last products and the division round, in float64. It agrees with
skimage to float64 rounding (tested to 1e-9).
"""

from __future__ import annotations

import numpy as np

WIN = 7
K1 = 0.01
K2 = 0.03
PAD = (WIN - 1) // 2  # border pixels left out of the mean
_P = WIN * WIN
_C1 = (K1 * 255.0) ** 2 * _P * _P
_C2 = (K2 * 255.0) ** 2 * _P * (_P - 1)


def _f64(v: np.ndarray) -> np.ndarray:
    return v.astype(np.float64)


def _ssim_from_sums(sx: np.ndarray, sy: np.ndarray, sqq: np.ndarray, sxy: np.ndarray) -> np.ndarray:
    """SSIM from the exact int32 window sums of x, y, x^2 + y^2 and x*y (consumed).

    skimage's terms: means u = s / P and sample covariances v = (P s_xy - s_x s_y) / (P (P - 1)), in
    units of 1/255; here every term is scaled by P^2 255^2 (numerator and denominator alike), so the
    cancelling differences are integers below 2^31, computed exactly in int32, and only the final
    products and the division are rounded (float64).
    """
    cross = sx * sy
    energy = sx * sx
    energy += sy * sy
    sxy *= _P
    sxy -= cross  # P^2 (P - 1) 255^2 / P * covariance, exact
    sqq *= _P
    sqq -= energy  # the same for the sum of variances, exact
    num = _f64(cross)
    num *= 2
    num += _C1
    a2 = _f64(sxy)
    a2 *= 2
    a2 += _C2
    num *= a2
    den = _f64(energy)
    den += _C1
    b2 = _f64(sqq)
    b2 += _C2
    den *= b2
    num /= den
    return num


def ssim_map_cv2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SSIM map of (N, H, W, 3) uint8 frames, mean over channels, interior only: (N, H - 6, W - 6) float64."""
    import cv2

    n, h, w, channels = x.shape
    out = np.zeros((n, h - 2 * PAD, w - 2 * PAD), dtype=np.float64)

    def box(v: np.ndarray) -> np.ndarray:
        summed = cv2.boxFilter(v, cv2.CV_32F, (WIN, WIN), normalize=False, borderType=cv2.BORDER_CONSTANT)
        return summed[PAD:-PAD, PAD:-PAD].astype(np.int32)

    for i in range(n):
        for xc, yc in zip(cv2.split(x[i]), cv2.split(y[i]), strict=True):
            xf, yf = xc.astype(np.float32), yc.astype(np.float32)
            out[i] += _ssim_from_sums(box(xf), box(yf), box(xf * xf + yf * yf), box(xf * yf))
    out /= channels
    return out


def ssim(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-frame SSIM of (N, H, W, 3) uint8 frames: (N,) float64, equal to skimage's value per frame."""
    return ssim_map_cv2(x, y).mean((1, 2))
