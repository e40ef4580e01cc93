"""Realise a paste description as pixels: colour match, warp, feather, cast shadow, composite.

All functions are pure. The composite leaves every pixel that neither the object's matte
nor the shadow reaches byte-identical to the target, so `full` equals `bg` there exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from genbench.contract import TRIMASK_PRESERVE
from genbench.generators.paste.sample import FEATHER_RADIUS, transforms
from genbench.generators.paste.sources import Track
from genbench.records import TrimaskSpec
from genbench.trimask import dilate, trimask


@dataclass
class Pasted:
    """full: (T, H, W, 3) uint8 composite; visible: (T, H, W) bool, the pasted object's pixels;
    alpha: (T, H, W) float32 matte of the object (and its own effects for genbench layers);
    shadow: (T, H, W) float32 darkening of the synthetic shadow, 0 where there is none."""

    full: np.ndarray
    visible: np.ndarray
    alpha: np.ndarray
    shadow: np.ndarray


def _lab(rgb: np.ndarray) -> np.ndarray:
    flat = rgb.reshape(-1, rgb.shape[-2], 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape)


def _rgb(lab: np.ndarray) -> np.ndarray:
    flat = lab.reshape(-1, lab.shape[-2], 3).astype(np.float32)
    return np.clip(cv2.cvtColor(flat, cv2.COLOR_Lab2RGB).reshape(lab.shape) * 255.0, 0.0, 255.0)


def colour_match(rgb: np.ndarray, mask: np.ndarray, target: np.ndarray, strength: float) -> np.ndarray:
    """Move the object's Lab mean and spread towards the target clip's by `strength` in [0, 1].

    rgb: (T, H, W, 3) uint8 source frames; mask: (T, H, W) bool object pixels; target:
    (T', H', W', 3) uint8. Returns (T, H, W, 3) float32 in [0, 255]; pixels outside the mask
    are returned unchanged. One transfer for the whole clip, so colours do not flicker.
    """
    out = rgb.astype(np.float32)
    if not mask.any():
        return out
    lab = _lab(rgb)
    obj = lab[mask]
    tgt = _lab(target).reshape(-1, 3)
    mu_o, sd_o = obj.mean(axis=0), obj.std(axis=0) + 1e-3
    mu_t, sd_t = tgt.mean(axis=0), tgt.std(axis=0) + 1e-3
    gain = 1.0 + strength * (np.clip(sd_t / sd_o, 0.5, 2.0) - 1.0)
    matched = (obj - mu_o) * gain + mu_o + strength * (mu_t - mu_o)
    lab[mask] = matched
    out[mask] = _rgb(lab)[mask]
    return out


def _extend_colours(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill a few pixels around `mask` with the mean of nearby object colours, so the feathered
    edge blends the object's own colour, not the source clip's background (no halo)."""
    m = mask.astype(np.float32)
    k = (2 * FEATHER_RADIUS + 1,) * 2
    num = cv2.blur(rgb * m[..., None], k, borderType=cv2.BORDER_CONSTANT)
    den = cv2.blur(m, k, borderType=cv2.BORDER_CONSTANT)[..., None]
    fill = np.where(den > 1e-6, num / np.maximum(den, 1e-6), rgb)
    return np.where(mask[..., None], rgb, fill)


def shadow_matrix(anchor_y: float, shadow: dict[str, Any]) -> np.ndarray:
    """(2, 3) affine map of object pixels to their shadow on the ground line y = anchor_y.

    A pixel at height h = anchor_y - y above the contact line lands at x + shear * h,
    anchor_y - direction * squash * h.
    """
    k, v, d = shadow["shear"], shadow["squash"], shadow["direction"]
    return np.array([[1.0, -k, k * anchor_y], [0.0, d * v, anchor_y * (1.0 - d * v)]])


def cast_shadow(visible: np.ndarray, shadow: dict[str, Any]) -> np.ndarray:
    """Darkening in [0, strength] of a shadow projected from the object's mask.

    visible: (T, H, W) bool object pixels. Returns (T, H, W) float32; 0 in frames without the object.
    """
    out = np.zeros(visible.shape, dtype=np.float32)
    h, w = visible.shape[1:]
    sigma = shadow["blur_sigma"]
    ksize = 2 * int(np.ceil(3 * sigma)) + 1
    for t, mask in enumerate(visible):
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            continue
        projected = cv2.warpAffine(mask.astype(np.float32), shadow_matrix(float(rows[-1]), shadow), (w, h),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out[t] = cv2.GaussianBlur(projected, (ksize, ksize), sigma) * shadow["strength"]
    return out


def paste(track: Track, target: np.ndarray, motion: dict[str, Any], look: dict[str, Any]) -> Pasted:
    """Composite `track` onto `target` ((T, H, W, 3) uint8) with a sampled motion and look."""
    n, h, w = target.shape[:3]
    rgb = colour_match(track.rgb, track.mask, target, look["colour_strength"])
    matrices = transforms(motion)
    sigma = look["feather_sigma"]
    ksize = (2 * FEATHER_RADIUS + 1,) * 2
    visible = np.zeros((n, h, w), dtype=bool)
    alpha = np.zeros((n, h, w), dtype=np.float32)
    colour = np.zeros((n, h, w, 3), dtype=np.float32)
    for t in range(n):
        m = matrices[t]
        warp = {"dsize": (w, h), "flags": cv2.INTER_LINEAR, "borderMode": cv2.BORDER_CONSTANT, "borderValue": 0}
        visible[t] = cv2.warpAffine(track.mask[t].astype(np.float32), m, **warp) >= 0.5
        colour[t] = cv2.warpAffine(rgb[t], m, **{**warp, "borderMode": cv2.BORDER_REPLICATE})
        if track.alpha is None:  # feather the mask; the feather blends the object's own colour, extended outwards
            colour[t] = _extend_colours(colour[t], visible[t])
            alpha[t] = cv2.GaussianBlur(visible[t].astype(np.float32), ksize, sigma, borderType=cv2.BORDER_CONSTANT)
        else:  # a layer's matte and colours are defined wherever its alpha is (its shadow included)
            alpha[t] = np.clip(cv2.warpAffine(track.alpha[t], m, **warp), 0.0, 1.0)
    shadow = cast_shadow(visible, look["shadow"]) if look["shadow"] else np.zeros_like(alpha)
    base = target.astype(np.float32) * (1.0 - shadow[..., None])
    a = alpha[..., None]
    full = np.clip(np.round(a * colour + (1.0 - a) * base), 0, 255).astype(np.uint8)
    untouched = (alpha == 0) & (shadow == 0)
    full[untouched] = target[untouched]
    return Pasted(full=full, visible=visible, alpha=alpha, shadow=shadow)


def paste_trimask(visible: np.ndarray, changed: np.ndarray, spec_choice: dict[str, Any],
                  derived_spec: TrimaskSpec) -> tuple[np.ndarray, bool]:
    """The sample's trimask and whether it must be stored.

    visible: (T, H, W) bool object; changed: (T, H, W) bool pixels where full != bg.
    The derived trimask (`derived_spec`) is used when every changed pixel lies in its remove or
    uncertain region; otherwise (a cast shadow or a layer's own effects reach past the band)
    the changed pixels outside it, grown by 2 pixels, get the band's value and the result is stored.
    """
    ids = visible.astype(np.uint8)
    tri = trimask(ids, [1], derived_spec)
    uncovered = changed & (tri == TRIMASK_PRESERVE)
    if not uncovered.any():
        return tri, False
    extra = dilate(uncovered, 2) & (tri == TRIMASK_PRESERVE)
    tri[extra] = spec_choice["band_value"]
    return tri, True
