"""The regions a removal is scored on, per frame and pixel: (T, H, W) bool masks.

- ``full``: every pixel (scored with the whole-frame formulas of `genbench.benchmark.metrics`).
- ``object``: the removed objects' dilated mask, i.e. the trimask's remove region (value 0).
- ``effect``: pixels outside the object region where the input and the ground truth differ by more
  than `EFFECT_TOLERANCE` uint8 levels in any channel (or the scene's recorded
  ``meta.json: quality.effect_tolerance``): the removed objects' shadows, reflections and bounce
  light. A method that leaves the shadow behind fails here while looking fine on ``full``.
- ``preserve``: the rest (neither object nor effect): pixels whose right answer is the input.

The three named masks partition the frame. A region empty in a frame scores NaN there.
"""

from __future__ import annotations

import numpy as np

from genbench.contract import TRIMASK_REMOVE

REGIONS = ("full", "object", "effect", "preserve")
EFFECT_TOLERANCE = 2  # uint8 levels; differences of 1-2 levels are rounding, not an effect


def effect_tolerance(quality: dict) -> int:
    """The scene's recorded effect tolerance in uint8 levels (meta.json quality.effect_tolerance), else 2."""
    value = quality.get("effect_tolerance", EFFECT_TOLERANCE)
    return int(value) if value is not None else EFFECT_TOLERANCE


def differs(a: np.ndarray, b: np.ndarray, tolerance: int = EFFECT_TOLERANCE) -> np.ndarray:
    """(T, H, W) bool: where (T, H, W, 3) uint8 `a` and `b` differ by more than `tolerance` in any channel."""
    import cv2

    d = cv2.absdiff(a.reshape(-1, a.shape[-2] * a.shape[-1]), b.reshape(-1, b.shape[-2] * b.shape[-1]))
    d = d.reshape(a.shape)
    return np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2]) > tolerance


def split_regions(object_mask: np.ndarray, changed: np.ndarray) -> dict[str, np.ndarray]:
    """object / effect / preserve from the object mask and the changed pixels, all (T, H, W) bool."""
    effect = changed & ~object_mask
    return {"object": object_mask, "effect": effect, "preserve": ~object_mask & ~effect}


def removal_regions(frames: np.ndarray, target: np.ndarray, trimask: np.ndarray,
                    tolerance: int = EFFECT_TOLERANCE) -> dict[str, np.ndarray]:
    """Regions of one removal sample (``full`` is implicit).

    frames, target: (T, H, W, 3) uint8 input and ground truth; trimask: (T, H, W) uint8 {0, 128, 255}.
    """
    return split_regions(trimask == TRIMASK_REMOVE, differs(frames, target, tolerance))
