"""Is a changed pixel a shadow (a darker copy of the background) or part of an object?

Two tests on (H, W) maps of one frame against its exposure-matched plate:

- *colour*, the test of MOG2's shadow detector (Cucchiara et al. 2003): brightness ratio frame /
  plate in `shadow_ratio` and chromaticity (r, g, b / (r + g + b)) kept within ``shadow_chroma +
  3 sigma / brightness``, sigma the pixel's noise (chromaticity noise grows in the dark);
- *pattern*, where the ground has texture to test with: a shadow dims the ground and keeps its
  pattern, so the frame varies locally as much as the plate times the brightness ratio; a flat
  object (a dark coat, a car door) over a patterned ground does not. A pixel whose frame varies
  (local standard deviation over `WINDOW` x `WINDOW`, noise removed) less than `FLAT_SHARE` of
  what a shadow of its ratio would show, where that is at least `TEXTURED_K` noise sigmas, is no
  shadow. Where a window straddles an object's edge the edge itself makes the frame vary, so the
  test errs towards shadow there, as the colour test alone does.

On flat ground, and for objects with a pattern of their own, the colour test decides alone.
"""

from __future__ import annotations

import cv2
import numpy as np

WINDOW = 7
FLAT_SHARE = 0.5
TEXTURED_K = 2.0


def _local_std(values: np.ndarray) -> np.ndarray:
    """(H, W) float32 standard deviation of `values` over each pixel's WINDOW x WINDOW neighbourhood."""
    mean = cv2.blur(values, (WINDOW, WINDOW))
    return np.sqrt(np.maximum(cv2.blur(values * values, (WINDOW, WINDOW)) - mean * mean, 0.0))


def shadow_mask(frame: np.ndarray, expected: np.ndarray, changed: np.ndarray, sigma: np.ndarray | float,
                ratio_range: tuple[float, float], chroma_k: float) -> np.ndarray:
    """(H, W) bool: the `changed` pixels that are shadow.

    frame, expected: (H, W, 3) float32 levels (the frame and its exposure-matched plate, clipped to [0, 255]);
    changed: (H, W) bool; sigma: per-channel noise sigma in levels ((H, W) map or scalar); ratio_range:
    (lo, hi) brightness ratio of a shadow; chroma_k: the chromaticity change a shadow may make.
    """
    out = np.zeros(changed.shape, dtype=bool)
    ys, xs = np.nonzero(changed)
    if ys.size == 0:
        return out
    pad = WINDOW  # the tests look this far around a pixel: work on the changed pixels' bounding box only
    box = (slice(max(0, ys.min() - pad), ys.max() + pad + 1), slice(max(0, xs.min() - pad), xs.max() + pad + 1))
    f, e, c = frame[box], expected[box], changed[box]
    s = sigma[box] if isinstance(sigma, np.ndarray) else sigma
    lum_f = f.sum(axis=-1) + 1.0
    lum_e = e.sum(axis=-1) + 1.0
    ratio = lum_f / lum_e
    darker = c & (ratio >= ratio_range[0]) & (ratio <= ratio_range[1])
    chroma = np.abs(f / lum_f[..., None] - e / lum_e[..., None]).max(axis=-1)
    colour_kept = chroma <= chroma_k + 3.0 * np.maximum(s, 1.0) / lum_f
    lum_noise = np.sqrt(3.0) * np.maximum(s, 0.5)  # sigma of a sum of three channels
    as_shadow = ratio * _local_std(lum_e)  # how much a shadow of this ratio would vary here
    varies = np.sqrt(np.maximum(_local_std(lum_f) ** 2 - lum_noise**2, 0.0))
    flat_surface = (as_shadow > TEXTURED_K * lum_noise) & (varies < FLAT_SHARE * as_shadow)
    out[box] = darker & colour_kept & ~flat_surface
    return out
