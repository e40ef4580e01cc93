"""How close a tripod analysis is to the ground truth of the footage it analysed (`degrade.Truth`).

Every figure is over the whole clip, every frame (windows or not), with the trimask the scenes
store (`make.stored_trimask`) built for every frame:

- plate_mae / plate_psnr: the exposure-matched plate (`bg`) against the true background of each
  frame rounded to uint8, mean absolute error in levels and PSNR (`genbench.pixels.psnr`), over
  pixels with data;
- object_iou: detected objects (tracks, not dilated) against the true object masks, pooled over frames;
- shadow_recall: share of the true effect pixels (shadows, reflections; outside objects) that the
  trimask does not preserve (uncertain, or remove where an object's dilation covers them);
- shadow_precision: share of the uncertain pixels within `margin` pixels of a true object or effect;
- bg_uncertain / bg_remove: share of the background, every pixel farther than `margin` from any true
  object or effect, that the trimask marks uncertain / remove;
- windows / false_windows: accepted windows, and those among them with no true object in any frame.

`margin` is the generator's largest dilation plus one pixel: the trimask grows objects and bands by
design, so pixels that close are neither background nor a mistake.
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench import contract
from genbench.generators.tripod.degrade import Truth
from genbench.generators.tripod.make import Analysis, plate_video, stored_trimask
from genbench.generators.tripod.settings import TripodSettings
from genbench.pixels import psnr
from genbench.trimask import dilate

FIGURES = ("plate_mae", "plate_psnr", "object_iou", "shadow_recall", "shadow_precision", "bg_uncertain", "bg_remove",
           "windows", "false_windows")


def margin(settings: TripodSettings) -> int:
    """Pixels around true objects and effects that count as neither background nor mistakes."""
    return max(settings.dilation, settings.shadow_dilation) + 1


def onto_analysis(truth: Truth, analysis: Analysis) -> Truth:
    """`truth` in the analysis's frame: warped like the frames when they were stabilised, else unchanged."""
    if analysis.warps is None:
        return truth
    n, h, w = truth.objects.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

    def warp(image: np.ndarray, t: int) -> np.ndarray:
        return cv2.warpAffine(image, analysis.warps[t], (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)

    bg = np.stack([warp(truth.bg[t], t) for t in range(n)])
    objects = np.stack([warp(truth.objects[t].astype(np.float32), t) >= 0.5 for t in range(n)])
    effects = np.stack([warp(truth.effects[t].astype(np.float32), t) >= 0.5 for t in range(n)]) & ~objects
    return Truth(bg=bg, full=truth.full, objects=objects, effects=effects)


def _share(mask: np.ndarray, where: np.ndarray) -> float:
    return float(mask[where].mean()) if where.any() else float("nan")


def score(analysis: Analysis, truth: Truth, settings: TripodSettings) -> dict[str, float]:
    """The figures of the module docstring (floats; NaN where a figure has no pixels to count)."""
    truth = onto_analysis(truth, analysis)
    bg = plate_video(analysis.plate, analysis.gains, analysis.offsets, analysis.light)
    true_bg = np.clip(np.round(truth.bg), 0, 255).astype(np.uint8)
    error = np.abs(bg.astype(np.float32) - true_bg).mean(axis=-1)
    detected = analysis.tracks > 0
    tri = stored_trimask(detected, analysis.uncertain, analysis.valid, settings)
    near = dilate(truth.objects | truth.effects, margin(settings))
    uncertain = tri == contract.TRIMASK_UNCERTAIN
    union = (detected | truth.objects).sum()
    false_windows = sum(not truth.objects[w.start:w.stop].any() for w in analysis.accepted)
    return {
        "plate_mae": float(error[analysis.valid].mean()),
        "plate_psnr": psnr(bg, true_bg, analysis.valid),
        "object_iou": float((detected & truth.objects).sum() / union) if union else float("nan"),
        "shadow_recall": _share(tri != contract.TRIMASK_PRESERVE, truth.effects),
        "shadow_precision": _share(near, uncertain),
        "bg_uncertain": _share(uncertain, ~near),
        "bg_remove": _share(tri == contract.TRIMASK_REMOVE, ~near),
        "windows": float(len(analysis.accepted)),
        "false_windows": float(false_windows),
    }
