"""Is a changed pixel a shadow (a darker copy of the background) or part of an object?

The colour test of MOG2's shadow detector (Cucchiara et al. 2003), on (H, W) maps of one frame
against its exposure-matched plate: brightness ratio frame / plate in `shadow_ratio` and
chromaticity (r, g, b / (r + g + b)) kept within ``shadow_chroma + 3 sigma / brightness``, sigma
the pixel's noise (chromaticity noise grows in the dark). An object darker than the ground and of
nearly its colour passes it too: this cannot tell them apart.
"""

from __future__ import annotations

import numpy as np


def shadow_mask(frame: np.ndarray, expected: np.ndarray, changed: np.ndarray, sigma: np.ndarray | float,
                ratio_range: tuple[float, float], chroma_k: float) -> np.ndarray:
    """(H, W) bool: the `changed` pixels that are shadow.

    frame, expected: (H, W, 3) float32 levels (the frame and its exposure-matched plate, clipped to [0, 255]);
    changed: (H, W) bool; sigma: per-channel noise sigma in levels ((H, W) map or scalar); ratio_range:
    (lo, hi) brightness ratio of a shadow; chroma_k: the chromaticity change a shadow may make.
    """
    lum_f = frame.sum(axis=-1) + 1.0
    lum_e = expected.sum(axis=-1) + 1.0
    ratio = lum_f / lum_e
    darker = changed & (ratio >= ratio_range[0]) & (ratio <= ratio_range[1])
    chroma = np.abs(frame / lum_f[..., None] - expected / lum_e[..., None]).max(axis=-1)
    return darker & (chroma <= chroma_k + 3.0 * np.maximum(sigma, 1.0) / lum_f)
