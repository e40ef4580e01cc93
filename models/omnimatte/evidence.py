"""What the inputs say before any fitting: per layer, the colour correction of the background, the noise
floor, and the starting alpha the optimiser begins from.

bg and solo videos from a removal model are not an exact pair: they carry noise (a diffusion model's
grain, a sensor's) and small colour shifts, and the smallest alpha that explains |solo - bg| turns both
into a faint veil over the whole frame. Here, per layer k:

1. **colour**: ``solo_k ~= gain * bg + offset`` per channel, fitted (least squares, then again
   without outliers) on the *quiet* pixels, away from every object; bg is corrected towards solo_k.
   An exact pair gives gain 1, offset 0.
2. **noise**: sigma per channel = 1.4826 * MAD of the corrected difference on the same pixels; the
   noise floor is ``max(noise_k * sigma, min_floor)`` (colour units in [0, 1]).
3. **starting alpha**: `genbench.pixels.minimal_alpha` (the formula of the ground-truth layers) with
   that floor, 1 on the object mask: a pixel within the floor in every channel explains nothing, and a
   change past it loses `shrink` times the floor (soft thresholding at 1 biases every faint effect down
   by the whole floor; at 0, hard thresholding, a noise spike past the floor counts in full). The
   **ceiling** is the same formula with no floor, the change as it is, noise and all (on exact inputs the
   true layer's alpha): the fit never goes above it (`OmnimatteConfig.ceiling`). Where the
   input video `frames` is given, off the objects' pixels the alpha is at most what `frames` itself shows
   over bg (again with a floor): where the input agrees with the background, no object and no effect is
   there, whatever the solo video says.
4. **attached** (`attached_only`): off the objects, the input's alpha is kept only in patches that touch an
   object (8-connected, through any alpha above 0): a removal model's errors far from every object (a
   regenerated sky, a texture it paints anew) are not any object's effect. A real effect detached from its
   object (the mirror image of an object in the air) is lost with them.
5. **division** (`share`): off the objects, the input's alpha goes to the layer whose solo video shows the
   most alpha there (nobody's where none shows any: the solo videos say what is whose); another layer keeps
   its own starting alpha there only where it is at least `share` times the most. A removal model's solo
   videos show a faint trace of the other objects' effects (it removed them less well than in the clean
   plate), and less of each object's own effects than the input does; on exact inputs, where two effects
   overlap, both keep their alpha (the owner's is then their sum, the input's alpha, not its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from genbench.pixels import minimal_alpha
from genbench.trimask import dilate

MAD_TO_SIGMA = 1.4826  # sigma of a normal distribution from its median absolute deviation
MIN_QUIET = 64  # fewer quiet pixels than this: no colour correction and no measured noise
QUANTUM = 1.0 / 255.0  # one uint8 level: residuals this small are always inliers of the colour fit


@dataclass(frozen=True)
class Calibration:
    """solo ~= gain * bg + offset per channel; sigma: the noise of solo - corrected bg; all (3,) floats."""

    gain: np.ndarray
    offset: np.ndarray
    sigma: np.ndarray

    @classmethod
    def identity(cls) -> Calibration:
        return cls(np.ones(3), np.zeros(3), np.zeros(3))

    def apply(self, bg: np.ndarray) -> np.ndarray:
        """bg (..., 3) float in [0, 1] in the colours of the other video."""
        return np.clip(bg * self.gain + self.offset, 0.0, 1.0)

    def to_dict(self) -> dict[str, list[float]]:
        return {name: [round(float(v), 6) for v in getattr(self, name)] for name in ("gain", "offset", "sigma")}


def _robust_sigma(residual: np.ndarray) -> np.ndarray:
    """(N, 3) -> (3,): MAD-based sigma around the median."""
    return MAD_TO_SIGMA * np.median(np.abs(residual - np.median(residual, axis=0)), axis=0)


def calibrate(video: np.ndarray, bg: np.ndarray, quiet: np.ndarray) -> Calibration:
    """How `video` relates to `bg` where nothing should differ (`quiet`, (T, H, W) bool).

    video, bg: (T, H, W, 3) float in [0, 1]. A per-channel affine fit, refitted on the pixels within
    3 sigma of the first fit (shadows and other real changes in `quiet` drop out), then the noise sigma.
    """
    if quiet.sum() < MIN_QUIET:
        return Calibration.identity()
    x, y = bg[quiet].astype(np.float64), video[quiet].astype(np.float64)
    gain, offset = np.ones(3), np.zeros(3)
    keep = np.ones(len(x), dtype=bool)
    for _ in range(3):
        for c in range(3):
            xs, ys = x[keep, c], y[keep, c]
            if xs.std() > 1e-3:
                gain[c], offset[c] = np.polyfit(xs, ys, 1)
            else:
                gain[c], offset[c] = 1.0, float(np.median(ys - xs))
        residual = y - (x * gain + offset)
        inliers = (np.abs(residual) <= 3 * _robust_sigma(residual[keep]) + QUANTUM).all(axis=1)
        if inliers.sum() < MIN_QUIET:
            break
        keep = inliers
    return Calibration(gain, offset, _robust_sigma((y - (x * gain + offset))[keep]))


@dataclass(frozen=True)
class LayerEvidence:
    """One layer's starting point: bg in the solo video's colours (T, H, W, 3), the noise floor (3,), the
    starting alpha and the ceiling (T, H, W; both 1 on the object mask), all float in [0, 1]."""

    bg: np.ndarray
    floor: np.ndarray
    alpha: np.ndarray
    ceiling: np.ndarray
    calibration: Calibration

    def summary(self) -> dict[str, object]:
        return {**self.calibration.to_dict(), "floor": [round(float(v), 6) for v in self.floor]}


def quiet_pixels(masks: dict[int, np.ndarray], shape: tuple[int, int, int], margin: int) -> np.ndarray:
    """(T, H, W) bool: farther than `margin` pixels from every object mask."""
    objects = np.zeros(shape, dtype=bool)
    for mask in masks.values():
        objects |= mask.astype(bool)
    return ~dilate(objects, margin)


def input_alpha(frames: np.ndarray, bg: np.ndarray, quiet: np.ndarray, *, noise: float, min_floor: float,
                shrink: float = 1.0) -> np.ndarray:
    """(T, H, W) float: the smallest alpha that explains the input video over bg beyond its noise floor, all
    objects' layers together (bg calibrated to the input on the `quiet` pixels). frames, bg: (T, H, W, 3) uint8."""
    f = frames.astype(np.float64) / 255.0
    b = bg.astype(np.float64) / 255.0
    cal = calibrate(f, b, quiet)
    return minimal_alpha(f, cal.apply(b), np.maximum(noise * cal.sigma, min_floor), shrink)


def attached(alpha: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """`alpha` (T, H, W) with every 8-connected patch of nonzero alpha that touches no pixel of `objects`
    (T, H, W) bool set to 0, frame by frame."""
    out = alpha.copy()
    for t in range(alpha.shape[0]):
        _, labels = cv2.connectedComponents(((alpha[t] > 0) | objects[t]).astype(np.uint8), connectivity=8)
        touching = np.unique(labels[objects[t]])
        out[t][~np.isin(labels, touching[touching > 0])] = 0
    return out


def nearest_object(masks: dict[int, np.ndarray], ids: list[int]) -> np.ndarray:
    """(T, H, W) index into `ids` of the nearest object per pixel (Euclidean; an object absent from a frame is
    farther than any present one)."""
    shape = masks[ids[0]].shape
    distance = np.full((len(ids), *shape), np.inf, np.float32)
    for i, k in enumerate(ids):
        for t in range(shape[0]):
            if masks[k][t].any():
                distance[i, t] = cv2.distanceTransform((~masks[k][t].astype(bool)).astype(np.uint8), cv2.DIST_L2, 5)
    return distance.argmin(axis=0)


def largest(stack: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """(T, H, W) index of the largest of `stack` (K, T, H, W) per pixel; ties go to `nearest` (T, H, W), the index
    of the nearest object (`nearest_object`)."""
    return (stack + 1e-6 * (nearest[None] == np.arange(len(stack))[:, None, None, None])).argmax(axis=0)


def divide(alphas: dict[int, np.ndarray], shown: np.ndarray, masks: dict[int, np.ndarray], off: np.ndarray,
           share: float) -> dict[int, np.ndarray]:
    """Off the objects (`off`), the input's alpha `shown` to the layer whose alpha in `alphas` is the largest
    (ties: the nearest object; where every alpha is 0 nobody gets it); the others keep theirs where it is at
    least `share` times the largest. All (T, H, W) float; on the objects every alpha is kept."""
    ids = sorted(alphas)
    stack = np.stack([alphas[k] for k in ids])
    owner = largest(stack, nearest_object(masks, ids))
    top = stack.max(axis=0)
    out = {}
    for i, k in enumerate(ids):
        mine = (owner == i) & (stack[i] > 0)
        there = np.where(mine, np.maximum(stack[i], shown), np.where(stack[i] >= share * top, stack[i], 0.0))
        out[k] = np.where(off, there, stack[i])
    return out


def gather(bg: np.ndarray, solos: dict[int, np.ndarray], masks: dict[int, np.ndarray],
           frames: np.ndarray | None, *, noise: float, min_floor: float, margin: int, shrink: float = 1.0,
           attached_only: bool = False, share: float | None = None) -> dict[int, LayerEvidence]:
    """Evidence of every layer. bg, solos, frames: (T, H, W, 3) uint8; masks: id -> (T, H, W) bool.

    noise: the floor in sigmas; min_floor: the least floor (colour units); margin: pixels kept clear
    around the objects when measuring colour and noise; shrink: how much of the floor a change past it loses
    (`minimal_alpha`); attached_only and share (None: no division): steps 4
    and 5 of the module docstring, which need `frames`.
    """
    b = bg.astype(np.float64) / 255.0
    quiet = quiet_pixels(masks, bg.shape[:3], margin)
    objects = ~quiet_pixels(masks, bg.shape[:3], 0)
    full_alpha = None if frames is None else input_alpha(frames, bg, quiet, noise=noise, min_floor=min_floor,
                                                         shrink=shrink)
    if full_alpha is not None and attached_only:
        full_alpha = attached(full_alpha, objects)
    out = {}
    for k, solo in solos.items():
        s = solo.astype(np.float64) / 255.0
        cal = calibrate(s, b, quiet)
        floor = np.maximum(noise * cal.sigma, min_floor)
        plate = cal.apply(b)
        alpha = minimal_alpha(s, plate, floor, shrink)
        if full_alpha is not None:
            alpha = np.where(objects, alpha, np.minimum(alpha, full_alpha))
        ceiling = np.maximum(minimal_alpha(s, plate), masks[k]).astype(np.float32)
        out[k] = LayerEvidence(plate.astype(np.float32), floor, alpha, ceiling, cal)  # alpha: float64 until the end
    alphas = {k: e.alpha for k, e in out.items()}
    if full_alpha is not None and share is not None and alphas:
        alphas = divide(alphas, full_alpha, masks, ~objects, share)
    starts = {k: np.maximum(alphas[k], masks[k].astype(np.float64)).astype(np.float32) for k in out}
    return {k: replace(e, alpha=starts[k], ceiling=np.maximum(e.ceiling, starts[k])) for k, e in out.items()}
