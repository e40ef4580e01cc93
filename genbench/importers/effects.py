"""The removed objects' effect region, measured from a with/without pair itself.

The tripod generator already tells an object's shadow and other changes from noise when it compares a frame
with the clean plate; a published pair gives the clean plate of every frame directly (the video without the
object), so the same functions apply frame by frame: `segment.classify` labels each input frame against its
counterpart (changes beyond the clip's own noise, split into shadow and other changes), and
`make.effect_tolerance` turns the measured noise into the tolerance the benchmark's effect region uses
(meta.json ``quality.params.effect_tolerance``), raised to the pair's own spread where nothing changed when that
is larger (`pair_tolerance`: a codec's noise, which the median-based sigma misses). Changes inside the removed
objects' dilated mask belong to the objects; the rest is their effect (shadow, reflection, light) plus whatever
else differs between the two takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genbench.generators.tripod.make import effect_tolerance, stored_trimask
from genbench.generators.tripod.segment import classify
from genbench.generators.tripod.settings import TripodSettings
from genbench.pixels import differs, max_abs_diff, recorded_psnr
from genbench.trimask import dilate

SETTINGS = TripodSettings()  # the tripod pipeline's thresholds, unchanged
NOISE_QUANTILE = 0.99  # of the differences where nothing changed: the pair's noise, codec included


@dataclass
class PairEffects:
    """effect: (T, H, W) bool changed pixels outside the removed objects' dilated mask; shadow: the part of it
    that `classify` calls shadow; noise_sigma: median per-frame noise (levels); tolerance: uint8 levels."""

    effect: np.ndarray
    shadow: np.ndarray
    noise_sigma: float
    tolerance: int

    def quality(self, full: np.ndarray, without: np.ndarray, remove_region: np.ndarray) -> dict[str, object]:
        """Figures for meta.json: how large the effect is and how exact the pair is outside it. remove_region:
        (T, H, W) bool, the trimask's remove region (the removed objects' dilated mask)."""
        scored = differs(full, without, self.tolerance) & ~remove_region
        rest = ~remove_region & ~scored
        return {
            "noise_sigma": round(self.noise_sigma, 3),
            "effect_fraction": round(float(scored.mean()), 5),  # the region the benchmark scores as `effect`
            "classified_effect_fraction": round(float(self.effect.mean()), 5),
            "shadow_fraction": round(float(self.shadow.mean()), 5),
            "preserve_psnr": recorded_psnr(full, without, rest),
        }


def pair_effects(full: np.ndarray, without: np.ndarray, removed: np.ndarray,
                 settings: TripodSettings = SETTINGS) -> PairEffects:
    """The effect of the `removed` objects ((T, H, W) bool) in the pair `full` / `without` ((T, H, W, 3) uint8)."""
    valid = np.ones(full.shape[1:3], dtype=bool)
    labels = [classify(full[t], without[t].astype(np.float32), valid, settings) for t in range(len(full))]
    changed = np.stack([lab.objects | lab.shadow | lab.residual for lab in labels])
    outside = ~dilate(removed, settings.dilation)
    sigma = float(np.median([lab.noise for lab in labels]))
    return PairEffects(effect=changed & outside, shadow=np.stack([lab.shadow for lab in labels]) & outside,
                       noise_sigma=sigma, tolerance=pair_tolerance(full, without, ~changed & outside, sigma))


def pair_tolerance(full: np.ndarray, without: np.ndarray, unchanged: np.ndarray, sigma: float) -> int:
    """uint8 levels above which `full` and `without` differ by more than the pair's own noise: the tripod
    generator's `effect_tolerance` of the measured sigma, or the `NOISE_QUANTILE` of the differences where the
    classifier found no change (`unchanged`, (T, H, W) bool), whichever is larger. The quantile matters for
    lossy pairs: a codec leaves most blocks identical in both videos (a median-based sigma of 0) and the blocks
    around a moving object noisy in both."""
    quiet = max_abs_diff(full, without)[unchanged]
    spread = float(np.quantile(quiet, NOISE_QUANTILE)) if quiet.size else 0.0
    return max(effect_tolerance(sigma), math.ceil(spread))


def effect_trimask(removed: np.ndarray, effects: PairEffects, settings: TripodSettings = SETTINGS) -> np.ndarray:
    """The tripod generator's stored trimask for a pair: 0 = removed objects grown by `dilation`, 128 = the
    measured effect grown by `shadow_dilation`, 255 elsewhere. (T, H, W) uint8."""
    return stored_trimask(removed, effects.effect, np.ones(removed.shape, dtype=bool), settings)


def mask_edge_strength(video: np.ndarray, mask: np.ndarray) -> float:
    """Mean colour gradient (Sobel magnitude, largest channel, uint8 levels per pixel) on the 1-pixel ring either
    side of `mask`'s outline in `video` ((T, H, W, 3) uint8, (T, H, W) bool). A video showing the masked object
    has its outline there; the video without it mostly does not, which tells the two apart when a release's
    names leave it open (`build` warns when they look swapped)."""
    import cv2

    ring = dilate(mask, 1) & dilate(~mask, 1)  # pixels next to both sides of the outline
    if not ring.any():
        return 0.0
    total = 0.0
    for frame, where in zip(video, ring, strict=True):
        ys, xs = np.nonzero(where)
        if ys.size:  # the gradient only where the ring is (its bounding box, with the Sobel kernel's margin)
            box = (slice(max(0, ys.min() - 1), ys.max() + 2), slice(max(0, xs.min() - 1), xs.max() + 2))
            f = frame[box].astype(np.float32)
            grad = cv2.magnitude(cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3))
            total += float(grad.max(axis=-1)[where[box]].sum()) / 8.0
    return round(total / float(ring.sum()), 3)
