"""Draw a paste description from an explicit `rng`: motion, colour match, feather, shadow, trimask.

Everything returned is JSON-native and goes into ``meta.json`` as the scene's `spec`, so a
scene can be reproduced and inspected from its metadata alone. Coordinates are pixels,
(y, x) order, pixel centres at integers (OpenCV's convention).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genbench.contract import TRIMASK_REMOVE, TRIMASK_UNCERTAIN
from genbench.records import TrimaskSpec

FEATHER_RADIUS = 2  # the feather kernel is (2r+1) x (2r+1): alpha reaches at most r pixels (Chebyshev) past the mask


def sample_motion(num_frames: int, source_hw: tuple[int, int], anchor: tuple[float, float],
                  target_hw: tuple[int, int], scale_range: tuple[float, float], *,
                  rng: np.random.Generator) -> dict[str, Any]:
    """A smooth similarity transform per frame from source pixels to target pixels.

    The source clip is first fitted into the target frame (`base_scale`), then the object is
    scaled by a factor that eases from `scale[0]` to `scale[1]`, optionally mirrored, and its
    anchor (the object's median centroid in the source) follows a cubic Bezier `path` whose
    four control points lie in the middle 60% of the target frame (fractions of H and W).
    The object keeps its own motion relative to the anchor.
    """
    (hs, ws), (ht, wt) = source_hw, target_hw
    return {
        "num_frames": int(num_frames),
        "base_scale": float(min(ht / hs, wt / ws)),
        "scale": [float(v) for v in rng.uniform(scale_range[0], scale_range[1], size=2)],
        "flip": bool(rng.random() < 0.5),
        "path": rng.uniform(0.2, 0.8, size=(4, 2)).tolist(),
        "anchor": [float(anchor[0]), float(anchor[1])],
        "target_hw": [int(ht), int(wt)],
    }


def _ease(u: np.ndarray) -> np.ndarray:
    return u * u * (3.0 - 2.0 * u)


def transforms(motion: dict[str, Any]) -> np.ndarray:
    """(T, 2, 3) float64 affine matrices mapping source (x, y) to target (x, y) per frame."""
    n = motion["num_frames"]
    u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    s0, s1 = motion["scale"]
    scale = motion["base_scale"] * (s0 + (s1 - s0) * _ease(u))
    p = np.asarray(motion["path"], dtype=np.float64) * np.asarray(motion["target_hw"], dtype=np.float64)
    b = ((1 - u) ** 3)[:, None] * p[0] + (3 * (1 - u) ** 2 * u)[:, None] * p[1] \
        + (3 * (1 - u) * u ** 2)[:, None] * p[2] + (u ** 3)[:, None] * p[3]  # (T, 2) as (y, x)
    ay, ax = motion["anchor"]
    sx = -1.0 if motion["flip"] else 1.0
    out = np.zeros((n, 2, 3))
    out[:, 0, 0] = sx * scale
    out[:, 1, 1] = scale
    out[:, 0, 2] = b[:, 1] - sx * scale * ax
    out[:, 1, 2] = b[:, 0] - scale * ay
    return out


def sample_look(target_hw: tuple[int, int], shadow: bool, *, rng: np.random.Generator) -> dict[str, Any]:
    """Colour match strength, edge feather and (with `shadow`) cast-shadow parameters.

    colour_strength: 0 keeps the source colours, 1 moves the object's Lab mean and spread fully
        to the target clip's. feather_sigma: Gaussian sigma in pixels of the edge feather.
    shadow: shear (target x per pixel of object height), squash (shadow length per pixel of
        height), direction (+1 falls behind the object, up the frame; -1 towards the camera),
        blur_sigma (pixels), strength (darkening at full coverage: 0.4 leaves 60% of the light).
    """
    look: dict[str, Any] = {
        "colour_strength": float(rng.uniform(0.3, 0.8)),
        "feather_sigma": float(rng.uniform(0.6, 1.2)),
        "shadow": None,
    }
    if shadow:
        look["shadow"] = {
            "shear": float(rng.uniform(-1.0, 1.0)),
            "squash": float(rng.uniform(0.3, 0.7)),
            "direction": int(rng.choice([-1, 1])),
            "blur_sigma": float(max(0.8, rng.uniform(0.004, 0.015) * max(target_hw))),
            "strength": float(rng.uniform(0.35, 0.65)),
        }
    return look


def sample_trimask(target_hw: tuple[int, int], *, rng: np.random.Generator) -> dict[str, Any]:
    """The sample's trimask: remove region grown by `dilation`, then a band of `band` pixels whose
    value is 128 (uncertain) or 0 (folded into the remove region), chosen at random as in the
    paper's paste data; everything else preserve (255).
    """
    return {
        "band_value": int(rng.choice([TRIMASK_UNCERTAIN, TRIMASK_REMOVE])),
        "dilation": int(rng.integers(FEATHER_RADIUS + 1, FEATHER_RADIUS + 3)),
        "band": int(max(2, round(rng.uniform(0.02, 0.06) * min(target_hw)))),
    }


def trimask_spec(choice: dict[str, Any], *, stored: bool = False) -> TrimaskSpec:
    """The contract's TrimaskSpec for a `sample_trimask` choice: band 128 is a derived band;
    band 0 is the band folded into the remove region (dilation + band, no uncertain band)."""
    if choice["band_value"] == TRIMASK_UNCERTAIN:
        return TrimaskSpec(dilation=choice["dilation"], band=choice["band"], stored=stored)
    return TrimaskSpec(dilation=choice["dilation"] + choice["band"], band=0, stored=stored)
