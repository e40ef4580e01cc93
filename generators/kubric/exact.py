"""Exact ground truth from renders (DESIGN.md, "Exact ground truth from renders").

Two renders of a scene differ by render noise everywhere light bounces, not only where
an object's shadow or reflection falls. This module turns raw renders into an exact pair:

1. effect mask of object k = box-blurred max-channel |full - minus_k| above `tolerance`
   levels, united with k's own pixels, dilated by a disk of `dilation` pixels;
2. minus_k = full outside that mask, the render inside, with a linear seam `feather` pixels
   wide; bg likewise (outside every object's mask) and solo_k = bg outside k's mask
   (measured between solo_k and bg, the context k is alone in);
3. GT layer k = the minimal-alpha difference matte of the final solo_k over the final bg
   inside k's mask: it recomposes solo_k to uint8 rounding.

All arrays are uint8 video, (T, H, W, 3) RGB or (T, H, W) masks, unless stated otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genbench import contract
from genbench.pixels import differs, max_abs_diff, minimal_alpha, over, recorded_psnr
from genbench.trimask import dilate


@dataclass(frozen=True)
class ExactParams:
    """tolerance: uint8 levels; blur: odd box size (pixels); dilation, feather: pixels."""

    tolerance: int = 3
    blur: int = 5
    dilation: int = 2
    feather: int = 2

    def to_dict(self) -> dict[str, int]:
        return {contract.EFFECT_TOLERANCE: self.tolerance, "effect_blur": self.blur, "mask_dilation": self.dilation,
                "feather": self.feather}


def effect_mask(a: np.ndarray, b: np.ndarray, params: ExactParams) -> np.ndarray:
    """(T, H, W) bool: where the box-blurred max-channel |a - b| exceeds the tolerance."""
    import cv2

    diff = max_abs_diff(a, b).astype(np.float32)
    blurred = np.stack([cv2.blur(f, (params.blur, params.blur), borderType=cv2.BORDER_REFLECT) for f in diff])
    return blurred > params.tolerance


def feather_weight(region: np.ndarray, feather: int) -> np.ndarray:
    """(T, H, W) float32 in [0, 1]: 1 on `region`, falling linearly to 0 `feather` + 1 pixels away."""
    import cv2

    if feather == 0:
        return region.astype(np.float32)
    out = np.empty(region.shape, dtype=np.float32)
    for t, frame in enumerate(region):
        if not frame.any():
            out[t] = 0.0
            continue
        distance = cv2.distanceTransform((~frame).astype(np.uint8), cv2.DIST_L2, 5)
        out[t] = np.clip(1.0 - distance / (feather + 1), 0.0, 1.0)
    return out


def blend(inside: np.ndarray, outside: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """round(weight * inside + (1 - weight) * outside) as uint8; weight is (T, H, W) in [0, 1]."""
    w = weight[..., None]
    out = inside.astype(np.float32) * w + outside.astype(np.float32) * (1.0 - w)
    return np.rint(out).astype(np.uint8)


def difference_matte(solo: np.ndarray, bg: np.ndarray, support: np.ndarray, opaque: np.ndarray) -> np.ndarray:
    """(T, H, W, 4) uint8 RGBA layer with the least alpha such that layer over `bg` gives `solo`.

    alpha = `genbench.pixels.minimal_alpha` (the formula the layer optimiser starts from), rounded up to
    uint8 so the colour stays in range; 1 on `opaque` (the object's own pixels), 0 outside
    `support`. rgb = (solo - (1 - alpha) bg) / alpha, 0 where alpha is 0.
    """
    s = solo.astype(np.float64) / 255.0
    b = bg.astype(np.float64) / 255.0
    alpha = minimal_alpha(s, b)
    alpha[opaque] = 1.0
    alpha[~support] = 0.0
    alpha8 = np.ceil(alpha * 255.0 - 1e-6).clip(0, 255)
    a = (alpha8 / 255.0)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rgb = np.where(a > 0, (s - (1.0 - a) * b) / np.where(a > 0, a, 1.0), 0.0)
    rgb8 = np.rint(np.clip(rgb, 0.0, 1.0) * 255.0)
    return np.concatenate([rgb8, alpha8[..., None]], axis=-1).astype(np.uint8)


def violations(full: np.ndarray, minus: np.ndarray, alpha: np.ndarray, object_mask: np.ndarray, *,
               levels: int = 2, dilation: int = 2) -> float:
    """Fraction of pixels where full and minus differ by more than `levels` but neither the layer
    (alpha > 0) nor the object's mask dilated by `dilation` pixels is there. Exact pairs give ~0."""
    differ = differs(full, minus, levels)
    covered = (alpha > 0) | dilate(object_mask, dilation)
    return float(np.mean(differ & ~covered))


def _outside_stats(a: np.ndarray, b: np.ndarray, outside: np.ndarray) -> dict[str, Any]:
    """Noise floor of a raw pair where the final pair is made equal: PSNR, largest and >2-level share
    (PSNR None: equal there, or no such pixel)."""
    diff = max_abs_diff(a, b)[outside]
    return {"noise_floor_psnr": recorded_psnr(a, b, outside),
            "outside_max_diff": int(diff.max()) if diff.size else 0,
            "outside_over_2": round(float(np.mean(diff > 2)), 6) if diff.size else 0.0}


@dataclass
class ExactResult:
    rgb: dict[str, np.ndarray]
    layers: dict[int, np.ndarray]
    quality: dict[str, Any]


def make_exact(raw: dict[str, np.ndarray], visible: np.ndarray, amodal: dict[int, np.ndarray],
               targets: list[int], params: ExactParams, *,
               rendered: dict[str, np.ndarray] | None = None,
               changed: dict[int, np.ndarray] | None = None) -> ExactResult:
    """Exact videos and layers from raw renders.

    raw: video name -> (T, H, W, 3) uint8 renders (`full`, `bg`, `minus_k`, `solo_k` for k in targets).
    visible: (T, H, W) uint8 ids of `full`; amodal: k -> (T, H, W) bool, k's pixels in solo_k.
    rendered: video name -> (T, H, W) bool, the pixels actually rendered (crop windows; missing: all).
        The noise floor is measured over rendered pixels only: the others were copied from the reference.
    changed: k -> (T, H, W) bool, where removing k changes how other objects move (a physics
        counterfactual): minus_k takes its render there too, and it is no violation.
    """
    full, bg_raw = raw[contract.FULL], raw[contract.BG]
    rendered = rendered or {}
    changed = changed or {}

    def where(name: str, outside: np.ndarray) -> np.ndarray:
        return outside & rendered[name] if name in rendered else outside

    bg_region = dilate(effect_mask(full, bg_raw, params) | (visible > 0), params.dilation)
    w_bg = feather_weight(bg_region, params.feather)
    bg = blend(bg_raw, full, w_bg)
    quality: dict[str, Any] = {"params": params.to_dict(),
                               "bg": {**_outside_stats(full, bg_raw, where(contract.BG, w_bg == 0)),
                                      "mask_fraction": round(float(np.mean(w_bg > 0)), 6)},
                               "objects": {}}
    rgb = {contract.FULL: full, contract.BG: bg}
    layers: dict[int, np.ndarray] = {}
    for k in targets:
        minus_raw, solo_raw = raw[contract.minus_video(k)], raw[contract.solo_video(k)]
        own = amodal[k] | (visible == k)
        effect = effect_mask(full, minus_raw, params)
        moved = changed.get(k)
        region = dilate(effect | own, params.dilation)
        w_minus = feather_weight(region if moved is None else region | moved, params.feather)
        minus = blend(minus_raw, full, w_minus)
        w_solo = feather_weight(dilate(effect_mask(solo_raw, bg_raw, params) | amodal[k], params.dilation),
                                params.feather)
        solo = blend(solo_raw, bg, w_solo)
        layer = difference_matte(solo, bg, w_solo > 0, amodal[k])
        rgb[contract.minus_video(k)], rgb[contract.solo_video(k)], layers[k] = minus, solo, layer
        shadow = effect & ~dilate(own, params.dilation)
        quality["objects"][str(k)] = {
            **_outside_stats(full, minus_raw, where(contract.minus_video(k), w_minus == 0)),
            "mask_fraction": round(float(np.mean(w_minus > 0)), 6),
            "effect_fraction": round(float(np.mean(shadow)), 6),
            "visible_fraction": round(float(np.mean(visible == k)), 6),
            "layer_recompose_psnr": recorded_psnr(over(layer, bg), solo),
            "violations": round(violations(full, minus, layer[..., 3], own if moved is None else own | moved,
                                           dilation=params.dilation), 6),
        }
        if moved is not None:
            quality["objects"][str(k)]["changed_fraction"] = round(float(np.mean(moved)), 6)
    return ExactResult(rgb=rgb, layers=layers, quality=quality)
