"""Is the camera static? Estimate each frame's motion and stabilise small shake.

Two passes of ECC (OpenCV's enhanced-correlation alignment, rotation + translation) on
greyscale frames downscaled to at most `ANALYSIS_SIZE` pixels, with pixels that changed a
lot (moving objects) masked out:

1. each frame against a key frame (the first, then the previous frame whenever the camera
   has moved more than `REKEY_FRACTION` of the diagonal from it), chained into a camera path:
   robust to slow pans that a comparison with one reference would miss, without the drift of
   chaining every pair of frames; the path measures how far the camera moved;
2. each frame against a reference (the temporal median of a sample of frames, which moving
   objects barely affect), started from the path: the warps used to stabilise.

Warps follow OpenCV's ECC convention: ``frame(W @ [x, y, 1]) ~= reference(x, y)``, so
``cv2.warpAffine(frame, W, flags=WARP_INVERSE_MAP)`` brings a frame onto the reference.
Translations are scaled back to full-resolution pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from genbench.generators.tripod.segment import hysteresis

ANALYSIS_SIZE = 256
REFERENCE_SAMPLES = 25
REKEY_FRACTION = 0.1  # a new key frame when the camera moved this fraction of the diagonal from the last one
FLATTEN_FRACTION = 1 / 8
MIN_GAIN = 0.3  # share of the texture decorrelation a warp must remove to be believed
MOVING_LEVEL = 0.08  # grey difference (0..1) above which a pixel is masked out of the alignment
_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 80, 1e-5)


@dataclass
class Alignment:
    """warps: (T, 2, 3) float32 per frame onto the reference, full-resolution pixels;
    shifts: (T,) largest displacement of a frame corner from the camera's median position,
    in pixels (from the chained camera path); failed: frames that could not be aligned with
    the previous one (a cut, a jump, or a scene with no texture)."""

    warps: np.ndarray
    shifts: np.ndarray
    failed: list[int]

    @property
    def max_shift(self) -> float:
        return float(self.shifts.max()) if self.shifts.size else 0.0


def _grey(frame: np.ndarray, scale: float) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    if scale < 1.0:
        h, w = grey.shape
        grey = cv2.resize(grey, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    return grey


def corner_shift(warp: np.ndarray, height: int, width: int) -> float:
    """Largest displacement in pixels of the four frame corners under a (2, 3) warp."""
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], np.float64)
    moved = corners @ warp.astype(np.float64).T
    return float(np.linalg.norm(moved - corners[:, :2], axis=1).max())


def _static_mask(template: np.ndarray, image: np.ndarray) -> np.ndarray | None:
    """uint8 mask of pixels that did not change much (1), or None when too few did to be useful. A change that
    varies slowly across the frame (a cloud's shadow) counts only above twice `MOVING_LEVEL`: what moves is
    what differs from the change's blur at `FLATTEN_FRACTION` of the frame, or differs a lot, and every change
    above `MOVING_LEVEL` connected to such a pixel (the flat inside of a large object is as slow as a cloud's
    shadow, but its edges are sharp)."""
    change = image - template
    slow = cv2.GaussianBlur(change, (0, 0), FLATTEN_FRACTION * max(change.shape), borderType=cv2.BORDER_REFLECT)
    sharp = (np.abs(change - slow) > MOVING_LEVEL) | (np.abs(change) > 2 * MOVING_LEVEL)
    moving = hysteresis(sharp, np.abs(change) > MOVING_LEVEL) | sharp
    moving = cv2.dilate(moving.astype(np.uint8), np.ones((5, 5), np.uint8))
    static = (moving == 0).astype(np.uint8)
    return static if static.mean() > 0.5 else None


def _residual(template: np.ndarray, image: np.ndarray, warp: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute grey difference between `template` and `image` warped by `warp`, over `mask` pixels
    that the warped image covers."""
    h, w = template.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(image, warp, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)
    use = (mask > 0) & (warped >= 0)
    return float(np.abs(warped - template)[use].mean()) if use.any() else float("inf")


def _flat(grey: np.ndarray) -> np.ndarray:
    """`grey` minus its blur at `FLATTEN_FRACTION` of its size: texture and edges, not slow gradients."""
    return grey - cv2.GaussianBlur(grey, (0, 0), FLATTEN_FRACTION * max(grey.shape), borderType=cv2.BORDER_REFLECT)


def _correlation(template: np.ndarray, image: np.ndarray, warp: np.ndarray, mask: np.ndarray | None) -> float:
    """ECC's criterion (correlation coefficient) of the textures (`_flat`) of `template` and of `image` warped
    by `warp`, over `mask` (or all pixels)."""
    h, w = template.shape
    warped = cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    return float(cv2.computeECC(_flat(template), _flat(warped), mask))


def _ecc(template: np.ndarray, image: np.ndarray, init: np.ndarray) -> np.ndarray | None:
    """ECC warp of `image` onto `template` from `init`, or None when it does not converge.

    When enough pixels are static, a converged warp (with or without the mask) that fits them worse
    than `init` is a false optimum (a large object entering a small frame can pull ECC to a wild
    rotation): `init` is kept. So it is when the warp explains less than `MIN_GAIN` of what `init` leaves
    uncorrelated in the two frames' texture: on footage with little texture and much noise, ECC wanders
    to warps no better than staying put, and a tripod stays put. When ECC does not converge but the
    frames differ by less than half of `MOVING_LEVEL` on average where nothing moves (the static pixels, or
    all pixels when too few are static), there is nothing to align on and `init` is kept too (a large
    object entering or leaving a small frame can stall ECC); otherwise (a cut, a jump) None."""
    static = _static_mask(template, image)
    for mask in (static, None):
        try:
            _, warp = cv2.findTransformECC(template, image, init.copy(), cv2.MOTION_EUCLIDEAN, _CRITERIA, mask, 3)
        except cv2.error:
            continue
        if static is not None and _residual(template, image, warp, static) > _residual(template, image, init, static):
            return init.copy()
        before, after = (1.0 - _correlation(template, image, w, static) for w in (init, warp))
        if after > (1.0 - MIN_GAIN) * before:
            return init.copy()
        return warp
    still = static if static is not None else np.ones(template.shape, np.uint8)
    if _residual(template, image, init, still) < MOVING_LEVEL / 2:
        return init.copy()  # no texture to converge on, but the frames look alike where nothing moves
    return None


def _as3(warp: np.ndarray) -> np.ndarray:
    return np.vstack([warp.astype(np.float64), [0.0, 0.0, 1.0]])


def estimate_alignment(frames: np.ndarray) -> Alignment:
    """Camera motion of (T, H, W, 3) uint8 `frames`: path, shifts and warps onto a median reference."""
    n, h, w = frames.shape[:3]
    scale = min(1.0, ANALYSIS_SIZE / max(h, w))
    greys = [_grey(f, scale) for f in frames]
    identity = np.eye(2, 3, dtype=np.float32)
    rekey = REKEY_FRACTION * float(np.hypot(*greys[0].shape))
    key, key_path, previous = 0, np.eye(3), identity
    path = [np.eye(3)]  # frame-0 coordinates -> frame-t coordinates
    failed = []
    for t in range(1, n):
        relative = _ecc(greys[key], greys[t], previous)
        if relative is None or corner_shift(relative, *greys[0].shape) > rekey:
            key, key_path = t - 1, path[t - 1]
            relative = _ecc(greys[key], greys[t], identity)
            if relative is None:
                failed.append(t)
                relative = identity
        path.append(_as3(relative) @ key_path)
        previous = relative
    paths = np.stack(path)
    median_shift = np.median(paths[:, :2, 2], axis=0)
    centred = paths[:, :2].copy()
    centred[:, :, 2] -= median_shift
    full_res = centred.copy()
    full_res[:, :, 2] /= scale
    shifts = np.array([corner_shift(c, h, w) for c in full_res])

    picks = np.unique(np.linspace(0, n - 1, min(n, REFERENCE_SAMPLES)).round().astype(int))
    reference = np.median(np.stack([greys[i] for i in picks]), axis=0).astype(np.float32)
    warps = np.zeros((n, 2, 3), dtype=np.float32)
    for t, grey in enumerate(greys):
        init = centred[t].astype(np.float32)
        warp = _ecc(reference, grey, init) if not failed else None
        warps[t] = init if warp is None else warp
        warps[t, :, 2] /= scale
    return Alignment(warps=warps, shifts=shifts, failed=failed)


def stabilise(frames: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """Warp every frame onto the reference.

    Returns (T, H, W, 3) uint8 stabilised frames and (T, H, W) bool `valid`: False where a
    frame has no data (outside its original borders; filled by replicating the border).
    """
    n, h, w = frames.shape[:3]
    out = np.empty_like(frames)
    valid = np.empty((n, h, w), dtype=bool)
    ones = np.ones((h, w), dtype=np.uint8)
    for t in range(n):
        flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP  # sharper than bilinear: edges shimmer less
        out[t] = cv2.warpAffine(frames[t], alignment.warps[t], (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpAffine(ones, alignment.warps[t], (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        valid[t] = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0  # the interpolated rim is not data either
    return out, valid
