"""How noisy the footage is, and where: a noise model per region class, estimated per clip.

Real footage is not equally noisy everywhere: sensor noise grows with brightness (shot noise),
compression leaves flat areas smooth and rings around texture, and a shaking camera makes
textured areas shimmer. So the plate's pixels are put in classes, brightness (`BRIGHTNESS_BINS`
quantiles of the plate's luminance) times texture (`TEXTURE_BINS` quantiles of its gradient
magnitude), and each class gets its own figures from the background residuals (frame minus its
exposure-matched plate) of every frame, over the pixels known to be background:

- sigma: robust standard deviation of one channel's residual (1.4826 x median absolute value);
- tail: the `TAIL_QUANTILE` quantile of the largest channel's absolute residual (the statistic
  the segmentation thresholds), which catches heavy-tailed errors (compression blocks, shimmer)
  that sigma does not see. Residuals above `cap_k` x sigma (objects the background mask missed)
  are left out of it.

Frames are not equally noisy either: an encoder's rate control starts blurry and pulses at key
frames. So each frame gets a scale, the median of its residuals relative to their class's
typical residual (clipped to `FRAME_SCALE_RANGE`), which multiplies its classes' figures; the
tails are measured on residuals divided by their frame's scale. A class with too few samples
takes the figures of the whole clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from genbench.generators.tripod.groups import group_medians
from genbench.generators.tripod.plate import expected, sample_pixels

BRIGHTNESS_BINS = 3
TEXTURE_BINS = 3
TAIL_QUANTILE = 0.99
MIN_SAMPLES = 200
MAX_SAMPLES_PER_FRAME = 5000
FRAME_SCALE_RANGE = (0.5, 3.0)


@dataclass
class NoiseModel:
    """classes: (H, W) int32 region class of each pixel; sigma, tail: (K,) float32 levels per class in a
    typical frame; clip_sigma: the clip's robust per-channel residual sigma (levels) over all classes;
    frame_scale: (T,) float32 how much noisier each frame is than a typical one."""

    classes: np.ndarray
    sigma: np.ndarray
    tail: np.ndarray
    clip_sigma: float
    frame_scale: np.ndarray

    def maps(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(H, W) float32 sigma and tail of each pixel of frame t."""
        return self.sigma[self.classes] * self.frame_scale[t], self.tail[self.classes] * self.frame_scale[t]

    def summary(self) -> dict[str, float]:
        """Figures for meta.json: clip sigma, and the least and most noisy class (sigma and tail, levels)."""
        return {"sigma": round(self.clip_sigma, 3), "sigma_min": round(float(self.sigma.min()), 3),
                "sigma_max": round(float(self.sigma.max()), 3), "tail_max": round(float(self.tail.max()), 3),
                "frame_scale_max": round(float(self.frame_scale.max()), 3)}


def _quantile_bins(values: np.ndarray, count: int) -> np.ndarray:
    """(H, W) int32 bin 0..count-1 of each value, by the values' own quantiles (ties share a bin)."""
    edges = np.quantile(values, np.linspace(0, 1, count + 1)[1:-1])
    return np.digitize(values, edges).astype(np.int32)


def region_classes(plate: np.ndarray) -> np.ndarray:
    """(H, W) int32 class of each pixel of the (H, W, 3) float32 plate: brightness bin x TEXTURE_BINS + texture
    bin (texture: gradient magnitude of the luminance, lightly smoothed so a class is a region, not a pixel)."""
    grey = cv2.cvtColor(np.clip(plate, 0, 255).astype(np.float32), cv2.COLOR_RGB2GRAY)
    gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    gradient = cv2.GaussianBlur(gradient, (0, 0), 1.0)
    return _quantile_bins(grey, BRIGHTNESS_BINS) * TEXTURE_BINS + _quantile_bins(gradient, TEXTURE_BINS)


def _samples(frames: np.ndarray, use: np.ndarray, plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray,
             light: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Background residuals of at most MAX_SAMPLES_PER_FRAME `use` pixels per frame: (N, 3) float32 residuals,
    (N,) int32 frame indices and (N, 2) int64 (y, x) positions."""
    residuals, frame_of, where = [], [], []
    for t in range(frames.shape[0]):
        ys, xs = sample_pixels(use[t], MAX_SAMPLES_PER_FRAME)
        residuals.append(frames[t, ys, xs].astype(np.float32) - expected(plate, gains, offsets, t, light)[ys, xs])
        frame_of.append(np.full(ys.size, t, np.int32))
        where.append(np.stack([ys, xs], axis=1))
    return np.concatenate(residuals), np.concatenate(frame_of), np.concatenate(where)


def fit_noise(frames: np.ndarray, use: np.ndarray, plate: np.ndarray, gains: np.ndarray, offsets: np.ndarray,
              light: np.ndarray | None = None, cap_k: float = 8.0) -> NoiseModel:
    """The noise model of a clip.

    frames: (T, H, W, 3) uint8; use: (T, H, W) bool background pixels to learn from; plate: (H, W, 3) float32,
    gains, offsets: (T, 3), light: (T, rows, cols) or None: the exposure model (`plate.expected`).
    """
    classes = region_classes(plate)
    n = frames.shape[0]
    count = int(classes.max()) + 1
    residual, frame_of, where = _samples(frames, use, plate, gains, offsets, light)
    if residual.shape[0] < MIN_SAMPLES:
        return NoiseModel(classes=classes, sigma=np.zeros(count, np.float32), tail=np.zeros(count, np.float32),
                          clip_sigma=0.0, frame_scale=np.ones(n, np.float32))
    magnitude = np.abs(residual)
    largest = magnitude.max(axis=1)
    clip_sigma = 1.4826 * float(np.median(magnitude))
    k = classes[where[:, 0], where[:, 1]]
    sigma = 1.4826 * group_medians(magnitude.mean(axis=1), k, count, np.nan, MIN_SAMPLES)
    # mean of three |residuals| has a median a little above one's; rescale it to one channel's median
    sigma *= float(np.median(magnitude)) / max(float(np.median(magnitude.mean(axis=1))), 1e-6)
    sigma = np.where(np.isfinite(sigma), sigma, clip_sigma).astype(np.float32)
    typical = group_medians(largest, k, count, float(np.median(largest)), MIN_SAMPLES)
    scale = largest / np.maximum(typical[k], 0.5)
    frame_scale = np.clip(group_medians(scale, frame_of, n, 1.0, MIN_SAMPLES) / max(float(np.median(scale)), 1e-6),
                          *FRAME_SCALE_RANGE).astype(np.float32)
    normalised = largest / frame_scale[frame_of]
    tail = np.empty(count, np.float32)
    order = np.argsort(k, kind="stable")
    bounds = np.searchsorted(k[order], np.arange(count + 1))
    clip_tail = _tail(normalised, cap_k * max(clip_sigma, 1.0))
    for c in range(count):
        chunk = normalised[order[bounds[c]:bounds[c + 1]]]
        tail[c] = _tail(chunk, cap_k * max(float(sigma[c]), 1.0)) if chunk.size >= MIN_SAMPLES else clip_tail
    return NoiseModel(classes=classes, sigma=sigma, tail=tail, clip_sigma=clip_sigma, frame_scale=frame_scale)


def _tail(largest: np.ndarray, cap: float) -> float:
    kept = largest[largest <= cap]
    return float(np.quantile(kept, TAIL_QUANTILE)) if kept.size else cap
