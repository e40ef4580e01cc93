"""Effect kinds of an object, measured from Cycles light passes (docs/effect-kinds.md).

Cycles splits the light of every pixel by the first surface it scattered off: diffuse and glossy,
each direct and indirect, and transmission (`blender.LIGHT_PASSES`, luminance, linear). Removing
object k changes some of them; which ones says what kind of effect k had on that pixel:

- `shadow`: diffuse direct light is lower with k present (k blocks a lamp, the sun or the sky);
- `light`: diffuse light (direct or indirect) is higher with k present (k glows, or bounces light);
- `reflection`: indirect glossy light changed (k's lit surface seen in a mirror or glossy surface), or
  direct glossy light is higher with k present (k's glow seen in one). Direct glossy light lower
  with k present is the sun's highlight in k's shadow, which every Principled surface has: not a
  reflection;
- `refraction`: the transmission pass changed (k seen through glass).

Per pixel of k's effect mask, outside k's own pixels, each pass's blurred change gets its share
of the image's blurred change (`exact.effect_mask`'s uint8 levels), split in proportion to the
passes' absolute changes; a kind is there where its pass's share exceeds the effect tolerance
and its relative change (to the blurred total light) exceeds the pass's noise floor. The noise
floor is measured per scene and pass where the image does not change by more than the tolerance
(mostly render noise there): `NOISE_SIGMAS` robust standard deviations (1.4826 x the median
absolute deviation) of the relative change, never below `min_relative`.
Pure numpy/OpenCV, no bpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genbench.pixels import max_abs_diff
from genbench.trimask import dilate

# kind -> (light pass, sign): +1 the pass is higher with the object, -1 lower, 0 either way.
KIND_RULES: dict[str, tuple[tuple[str, int], ...]] = {
    "shadow": (("diffuse_direct", -1),),
    "reflection": (("glossy_indirect", 0), ("glossy_direct", 1)),
    "refraction": (("transmission", 0),),
    "light": (("diffuse_direct", 1), ("diffuse_indirect", 1)),
}
KINDS = tuple(KIND_RULES)
PASSES = ("diffuse_direct", "diffuse_indirect", "glossy_direct", "glossy_indirect", "transmission")
NOISE_SIGMAS = 6.0
MIN_NOISE_PIXELS = 200  # fewer unchanged pixels than this: the noise floor is `min_relative` alone


@dataclass(frozen=True)
class KindParams:
    """tolerance: uint8 levels; blur: odd box size; dilation: pixels (as `exact.ExactParams`);
    min_relative: the least change of a pass, relative to the pixel's total light, that counts."""

    tolerance: int = 3
    blur: int = 5
    dilation: int = 2
    min_relative: float = 0.05

    def to_dict(self) -> dict[str, Any]:
        return {"min_relative": self.min_relative, "noise_sigmas": NOISE_SIGMAS,
                "passes": list(PASSES), "rules": {k: [list(r) for r in v] for k, v in KIND_RULES.items()}}


@dataclass
class KindResult:
    masks: dict[str, np.ndarray]  # kind -> (T, H, W) bool, only kinds present somewhere
    stats: dict[str, Any]  # kind areas (fraction of pixels) and the passes' noise floors


def _blur(frames: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return np.stack([cv2.blur(f, (size, size), borderType=cv2.BORDER_REFLECT) for f in frames.astype(np.float32)])


def kind_masks(full: np.ndarray, minus: np.ndarray, full_passes: dict[str, np.ndarray],
               minus_passes: dict[str, np.ndarray], own: np.ndarray, region: np.ndarray,
               params: KindParams) -> KindResult:
    """Effect kinds of the object removed from `full` in `minus` (see the module docstring).

    full, minus: (T, H, W, 3) uint8 raw renders; *_passes: pass name -> (T, H, W) float luminance;
    own: (T, H, W) bool, the object's pixels in `full`; region: (T, H, W) bool, the object's effect mask
    (every kind mask lies inside it).
    """
    image = _blur(max_abs_diff(full, minus).astype(np.float32), params.blur)
    near_own = dilate(own, 1)
    change, total = {}, np.zeros(image.shape, np.float32)
    for name in PASSES:
        a, b = full_passes[name].astype(np.float32), minus_passes[name].astype(np.float32)
        delta = a - b
        delta[near_own] = 0.0  # the object's own light must not blur into its surroundings
        change[name] = _blur(delta, params.blur)
        total += np.maximum(np.maximum(a, b), 0.0)
    total = _blur(total, params.blur) + 1e-3
    absolute = sum(np.abs(c) for c in change.values()) + 1e-9
    outside = ~dilate(own, params.dilation) & region
    still = image <= params.tolerance
    strong, direction, floors = {}, {}, {}
    for name in PASSES:
        relative = change[name] / total
        quiet = relative[still & ~near_own]
        floor = 0.0
        if quiet.size >= MIN_NOISE_PIXELS:
            floor = NOISE_SIGMAS * 1.4826 * float(np.median(np.abs(quiet - np.median(quiet))))
        floors[name] = round(max(params.min_relative, floor), 6)
        levels = image * np.abs(change[name]) / absolute
        strong[name] = (levels > params.tolerance) & (np.abs(relative) > floors[name])
        direction[name] = np.sign(change[name])
    masks: dict[str, np.ndarray] = {}
    for kind, rules in KIND_RULES.items():
        hit = np.zeros(image.shape, bool)
        for name, sign in rules:
            hit |= strong[name] & (direction[name] == sign if sign else True)
        mask = dilate(hit & outside, params.dilation) & region & ~own
        if mask.any():
            masks[kind] = mask
    stats = {"areas": {kind: round(float(np.mean(m)), 6) for kind, m in masks.items()}, "noise_floors": floors}
    return KindResult(masks=masks, stats=stats)
