"""The clean plate and per-frame exposure.

Model: frame t ~= gain_t * plate + offset_t per channel on background pixels, so global
exposure drift (auto exposure, passing clouds) is fitted per frame, not mistaken for
objects. The plate is the per-pixel temporal median of the exposure-normalised frames
over the frames where that pixel is background; the exposure-matched plate of frame t,
``gain_t * plate + offset_t``, is that frame's `bg`.
"""

from __future__ import annotations

import numpy as np

ROW_BLOCK_PIXELS = 1 << 21  # pixels x frames per block of the median: bounds memory on long 1080p clips
EXPOSURE_SAMPLES = 20000


def masked_median(frames: np.ndarray, use: np.ndarray, gains: np.ndarray | None = None,
                  offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the frames where `use` is True.

    frames: (T, H, W, 3) uint8; use: (T, H, W) bool; gains/offsets: (T, 3) exposure of each
    frame (frames are normalised as (frame - offset) / gain first). Pixels used by no frame
    take the median of all frames. Returns the plate (H, W, 3) float32 and the number of
    frames used per pixel (H, W) int32.
    """
    n, h, w = frames.shape[:3]
    g = np.ones((n, 3), np.float32) if gains is None else gains.astype(np.float32)
    o = np.zeros((n, 3), np.float32) if offsets is None else offsets.astype(np.float32)
    plate = np.empty((h, w, 3), dtype=np.float32)
    counts = use.sum(axis=0).astype(np.int32)
    rows = max(1, ROW_BLOCK_PIXELS // max(1, n * w))
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        block = (frames[:, r0:r1].astype(np.float32) - o[:, None, None]) / g[:, None, None]
        k = counts[r0:r1]
        everything = np.median(block, axis=0) if (k == 0).any() else None
        block[~use[:, r0:r1]] = np.nan
        block.sort(axis=0)  # NaNs sort last
        lo = np.take_along_axis(block, np.maximum(k - 1, 0)[None, ..., None] // 2, axis=0)[0]
        hi = np.take_along_axis(block, (k[None, ..., None] // 2).clip(max=n - 1), axis=0)[0]
        median = np.where((k % 2 == 1)[..., None], lo, (lo + hi) / 2)
        plate[r0:r1] = median if everything is None else np.where((k > 0)[..., None], median, everything)
    return plate, counts


def fit_exposure(frames: np.ndarray, plate: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame, per-channel gain and offset with frame ~= gain * plate + offset on `use` pixels.

    A least-squares fit, refitted once without the pixels whose residual exceeds 2.5 robust
    sigmas (objects the mask missed). Frames with fewer than 100 usable pixels keep gain 1,
    offset 0. Returns gains and offsets, (T, 3) float32 each.
    """
    n = frames.shape[0]
    gains = np.ones((n, 3), dtype=np.float32)
    offsets = np.zeros((n, 3), dtype=np.float32)
    for t in range(n):
        ys, xs = np.nonzero(use[t])
        if ys.size < 100:
            continue
        step = max(1, ys.size // EXPOSURE_SAMPLES)
        ys, xs = ys[::step], xs[::step]
        x = plate[ys, xs].astype(np.float64)
        y = frames[t, ys, xs].astype(np.float64)
        for c in range(3):
            keep = np.ones(ys.size, dtype=bool)
            for _ in range(2):
                a = np.stack([x[keep, c], np.ones(int(keep.sum()))], axis=1)
                (gain, offset), *_ = np.linalg.lstsq(a, y[keep, c], rcond=None)
                residual = np.abs(y[:, c] - (gain * x[:, c] + offset))
                sigma = 1.4826 * np.median(residual) + 0.5
                keep = residual <= 2.5 * sigma
                if keep.sum() < 50:
                    break
            gains[t, c], offsets[t, c] = gain, offset
    return gains, offsets


def expected(plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray, t: int) -> np.ndarray:
    """The exposure-matched plate of frame t, (H, W, 3) float32 (not rounded or clipped)."""
    return plate * gains[t] + offsets[t]


def plate_video(plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """`bg` for every frame: (T, H, W, 3) uint8, the exposure-matched plate rounded and clipped."""
    return np.stack([np.clip(np.round(expected(plate, gains, offsets, t)), 0, 255).astype(np.uint8)
                     for t in range(len(gains))])
