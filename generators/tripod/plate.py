"""The clean plate and per-frame exposure.

Model: frame t ~= (gain_t * plate + offset_t) * light_t per channel on background pixels, so
global exposure drift (auto exposure, white balance) is fitted per frame, and slow light changes
that differ across the frame (a cloud's shadow rolling over the scene) by `light_t`, a smooth
gain field on a coarse grid, neither mistaken for objects. The plate is the per-pixel temporal
median of the exposure-normalised frames over the frames where that pixel is background; the
exposure-matched plate of frame t is that frame's `bg`.
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench.generators.tripod.groups import group_medians

ROW_BLOCK_PIXELS = 1 << 21  # pixels x frames per block of the median: bounds memory on long 1080p clips
EXPOSURE_SAMPLES = 5000
LIGHT_CELLS = 12  # cells of the light field along the frame's longest side
LIGHT_MIN_PIXELS = 12  # background pixels a cell needs for a value of its own
LIGHT_SAMPLES = 20000  # background pixels per frame the light field is fitted on (a regular subsample)
LIGHT_RANGE = (0.5, 1.5)


def masked_median(frames: np.ndarray, use: np.ndarray, gains: np.ndarray | None = None,
                  offsets: np.ndarray | None = None, light: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the frames where `use` is True.

    frames: (T, H, W, 3) uint8; use: (T, H, W) bool; gains/offsets: (T, 3) exposure of each
    frame, light: (T, rows, cols) light grids or None (frames are normalised as
    (frame / light - offset) / gain first). Pixels used by no frame
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
        block = frames[:, r0:r1].astype(np.float32)
        if light is not None:
            block /= np.stack([light_map(grid, h, w)[r0:r1] for grid in light])[..., None]
        block = (block - o[:, None, None]) / g[:, None, None]
        k = counts[r0:r1]
        everything = np.median(block, axis=0) if (k == 0).any() else None
        block[~use[:, r0:r1]] = np.nan
        block.sort(axis=0)  # NaNs sort last
        lo = np.take_along_axis(block, np.maximum(k - 1, 0)[None, ..., None] // 2, axis=0)[0]
        hi = np.take_along_axis(block, (k[None, ..., None] // 2).clip(max=n - 1), axis=0)[0]
        median = np.where((k % 2 == 1)[..., None], lo, (lo + hi) / 2)
        plate[r0:r1] = median if everything is None else np.where((k > 0)[..., None], median, everything)
    return plate, counts


def _line_fit(x: np.ndarray, y: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares y ~= gain * x + offset per column of (N, C) float64 x and y over the `keep` rows of each
    column: (C,) gains and offsets. A column whose x does not vary cannot tell a gain from an offset: gain 1."""
    w = keep.astype(np.float64)
    n = np.maximum(w.sum(axis=0), 1.0)
    mx, my = (w * x).sum(axis=0) / n, (w * y).sum(axis=0) / n
    sxx = (w * (x - mx) ** 2).sum(axis=0)
    sxy = (w * (x - mx) * (y - my)).sum(axis=0)
    flat = sxx < 1e-9 * n
    gain = np.where(flat, 1.0, sxy / np.where(flat, 1.0, sxx))
    return gain, my - gain * mx


def sample_pixels(mask: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of at most about `count` of `mask`'s pixels, an even stride through them in raster order."""
    ys, xs = np.nonzero(mask)
    step = max(1, ys.size // count)
    return ys[::step], xs[::step]


def fit_exposure(frames: np.ndarray, plate: np.ndarray, use: np.ndarray,
                 light: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame, per-channel gain and offset with frame / light ~= gain * plate + offset on `use` pixels
    (`light`: (T, rows, cols) light grids, or None for none).

    A least-squares fit, refitted once without the pixels whose residual exceeds 2.5 robust
    sigmas (objects the mask missed). Frames with fewer than 100 usable pixels keep gain 1,
    offset 0. Returns gains and offsets, (T, 3) float32 each.
    """
    n = frames.shape[0]
    gains = np.ones((n, 3), dtype=np.float32)
    offsets = np.zeros((n, 3), dtype=np.float32)
    for t in range(n):
        if np.count_nonzero(use[t]) < 100:
            continue
        ys, xs = sample_pixels(use[t], EXPOSURE_SAMPLES)
        x = plate[ys, xs].astype(np.float64)
        y = frames[t, ys, xs].astype(np.float64)
        if light is not None:
            y /= light_map(light[t], *plate.shape[:2])[ys, xs, None]
        keep = np.ones(y.shape, dtype=bool)
        for _ in range(2):
            gain, offset = _line_fit(x, y, keep)
            residual = np.abs(y - (gain * x + offset))
            sigma = 1.4826 * np.median(residual, axis=0) + 0.5
            keep = residual <= 2.5 * sigma
            if (keep.sum(axis=0) < 50).any():
                break
        gains[t], offsets[t] = gain, offset
    return gains, offsets


def light_grid(height: int, width: int) -> tuple[int, int]:
    """(rows, columns) of the light field's grid for an (H, W) frame: square cells, LIGHT_CELLS on the longest side."""
    cell = max(height, width) / LIGHT_CELLS
    return max(1, round(height / cell)), max(1, round(width / cell))


def _fill_and_smooth(grid: np.ndarray) -> np.ndarray:
    """A (rows, cols) float32 grid with its NaN holes filled from the nearest known cells (normalised Gaussian
    convolution, wider until every hole is reached), then smoothed with a Gaussian of one cell; all NaN: ones."""
    known = np.isfinite(grid)
    if not known.any():
        return np.ones_like(grid)
    values = np.where(known, grid, 0).astype(np.float32)
    filled = values.copy()
    sigma = 1.0
    while True:
        weight = cv2.GaussianBlur(known.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        blurred = cv2.GaussianBlur(values, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        reached = ~known & (weight > 1e-4)
        filled[reached] = blurred[reached] / weight[reached]
        if (known | reached).all() or sigma > max(grid.shape):
            filled[~(known | reached)] = float(np.median(grid[known]))
            break
        sigma *= 3.0
    return cv2.GaussianBlur(filled, (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE)


def fit_light(frames: np.ndarray, plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray,
              use: np.ndarray) -> np.ndarray:
    """Per-frame smooth illumination gain on top of the global exposure: (T, rows, cols) float32 grid
    (`light_grid`), each cell the median ratio of frame to exposure-matched plate luminance over its
    `use` background pixels, holes filled, smoothed, clipped to LIGHT_RANGE. Upsample with `light_map`."""
    n, h, w = frames.shape[:3]
    rows, cols = light_grid(h, w)
    yy, xx = np.mgrid[:h, :w]
    cell_of = ((yy * rows // h) * cols + xx * cols // w).astype(np.int32)
    out = np.ones((n, rows, cols), np.float32)
    for t in range(n):
        if np.count_nonzero(use[t]) < 100:
            continue
        ys, xs = sample_pixels(use[t], LIGHT_SAMPLES)
        expected_lum = (plate[ys, xs] * gains[t] + offsets[t]).sum(axis=-1)
        ratio = (frames[t, ys, xs].astype(np.float32).sum(axis=-1) + 3.0) / (expected_lum + 3.0)
        grid = group_medians(ratio.astype(np.float32), cell_of[ys, xs], rows * cols, min_size=LIGHT_MIN_PIXELS)
        grid = grid.reshape(rows, cols)
        out[t] = np.clip(_fill_and_smooth(grid), *LIGHT_RANGE)
    return out


def light_map(light: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) float32 gain of one frame's (rows, cols) light grid, bilinearly interpolated between cell centres."""
    return cv2.resize(light.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def expected(plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray, t: int,
             light: np.ndarray | None = None) -> np.ndarray:
    """The exposure-matched plate of frame t, (H, W, 3) float32 (not rounded or clipped); `light`: the
    (T, rows, cols) light grids of `fit_light`, or None for none."""
    out = plate * gains[t] + offsets[t]
    if light is not None:
        out = out * light_map(light[t], *plate.shape[:2])[..., None]
    return out


def plate_video(plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray,
                light: np.ndarray | None = None) -> np.ndarray:
    """`bg` for every frame: (T, H, W, 3) uint8, the exposure-matched plate rounded and clipped."""
    return np.stack([np.clip(np.round(expected(plate, gains, offsets, t, light)), 0, 255).astype(np.uint8)
                     for t in range(len(gains))])
