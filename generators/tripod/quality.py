"""Quality figures of a window that need no ground truth, and the bar a window must pass.

Recorded in every tripod scene's meta.json (`quality`), beside the clip's noise model:

- mask_stability: how steady the object masks are: the IoU of each track's mask with its mask in
  the next frame moved by the track's centroid motion, averaged over tracks and frame pairs
  (1 for a rigid object whose mask does not flicker; noise that eats and grows the mask lowers it);
- shadow_stability: the same for the shadow masks, moved with the objects' centroid motion
  (None when the window has no shadow);
- unattached_uncertain: share of the window's pixels marked uncertain although no object is within
  `reach` of them (lasting unexplained changes): where the trimask may be wrong about the background;
- no_data: share of the window's pixels without data (outside a stabilised frame's borders; uncertain);
- light_range: [min, max] gain of the fitted light field over the window (1 = no light change).

The bar (`reject_reason`): the clip's noise sigma at most `max_noise` levels, mask stability at least
`min_stability`, unattached uncertain pixels at most `max_unattached` of the window.

One check is not a recorded figure (it is in the rejection reason): `surroundings_fill_errors`, whether the
objects look like an object in the input and like background in the plate. The plate is a temporal median, so an
object that rests for most of the footage is *in* it, and the frames without it are where the pipeline finds a
change: the window's input then shows the empty scene there and its target the object. A fill from the
surroundings predicts background, not an object, so the input's object pixels must differ from it more than
the plate's do.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from genbench.generators.tripod.settings import TripodSettings


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def _moved(mask: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(H, W) bool `mask` translated by `shift` = (dx, dy) pixels (nearest neighbour)."""
    h, w = mask.shape
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(mask.astype(np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST) > 0


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def mask_stability(tracks: np.ndarray) -> float | None:
    """Mean IoU of each track's (T, H, W) int32 mask with its next frame's, after the centroid motion; None when
    no track spans two consecutive frames."""
    scores = []
    for k in np.unique(tracks[tracks > 0]):
        masks = tracks == k
        for t in range(len(masks) - 1):
            if masks[t].any() and masks[t + 1].any():
                shift = _centroid(masks[t + 1]) - _centroid(masks[t])
                scores.append(_iou(_moved(masks[t], shift), masks[t + 1]))
    return float(np.mean(scores)) if scores else None


def shadow_stability(shadow: np.ndarray, objects: np.ndarray) -> float | None:
    """Mean IoU of the (T, H, W) bool shadow mask with its next frame's, moved by the objects' centroid motion,
    over frame pairs where both frames hold a shadow and an object; None when there are none."""
    scores = []
    for t in range(len(shadow) - 1):
        if shadow[t].any() and shadow[t + 1].any() and objects[t].any() and objects[t + 1].any():
            shift = _centroid(objects[t + 1]) - _centroid(objects[t])
            scores.append(_iou(_moved(shadow[t], shift), shadow[t + 1]))
    return float(np.mean(scores)) if scores else None


def unattached_share(uncertain: np.ndarray, objects: np.ndarray, reach: float) -> float:
    """Share of all (T, H, W) pixels that are `uncertain` but farther than `reach` pixels from every object of
    their frame (all of a frame's uncertain pixels when it has no object)."""
    far = 0
    for changes, present in zip(uncertain, objects, strict=True):
        if not changes.any():
            continue
        if not present.any():
            far += int(changes.sum())
            continue
        distance = cv2.distanceTransform((~present).astype(np.uint8), cv2.DIST_L2, 3)
        far += int((changes & (distance > reach)).sum())
    return far / uncertain.size


def window_quality(tracks: np.ndarray, shadow: np.ndarray, uncertain: np.ndarray, valid: np.ndarray,
                   light: np.ndarray | None, settings: TripodSettings) -> dict[str, Any]:
    """The figures of the module docstring for one window: tracks (T, H, W) int32, shadow, uncertain and valid
    (T, H, W) bool, light (T, rows, cols) float32 or None."""
    objects = tracks > 0
    reach = max(3.0, settings.reach * float(np.sqrt(max(1, objects.sum(axis=(1, 2)).max()))))
    stability = mask_stability(tracks)
    shadows = shadow_stability(shadow, objects)
    return {
        "mask_stability": None if stability is None else round(stability, 4),
        "shadow_stability": None if shadows is None else round(shadows, 4),
        "unattached_uncertain": round(unattached_share(uncertain & valid, objects, reach), 5),
        "no_data": round(float((~valid).mean()), 5),
        "light_range": [1.0, 1.0] if light is None else [round(float(light.min()), 4), round(float(light.max()), 4)],
    }


def reject_reason(noise_sigma: float, quality: dict[str, Any], settings: TripodSettings) -> str | None:
    """Why a window with these figures (its clip's `noise_sigma` and `window_quality`) falls below the bar, or
    None when it passes."""
    if noise_sigma > settings.max_noise:
        return (f"footage too noisy: noise sigma {noise_sigma:.1f} levels, more than max_noise {settings.max_noise:g} "
                "(masks would not be ground truth)")
    stability = quality["mask_stability"]
    if stability is not None and stability < settings.min_stability:
        return (f"object masks unstable: consecutive masks overlap {stability:.0%} after the object's motion, less "
                f"than min_stability {settings.min_stability:.0%}")
    if quality["unattached_uncertain"] > settings.max_unattached:
        return (f"unexplained changes: {quality['unattached_uncertain']:.1%} of the pixels are uncertain with no "
                f"object near them, more than max_unattached {settings.max_unattached:.1%}")
    return None


FILL_RADIUS = 5  # cv2.inpaint's neighbourhood for the surroundings' fill
FILL_FRAMES = 8  # frames of a window the fill is compared on (evenly spaced over those with objects)
FILL_MARGIN = 8  # pixels of surroundings kept around the objects' box (the fill works on that crop)
MAX_INVERTED = 0.25  # a window is rejected when at least this share of the frames checked look inverted


def frames_to_check(objects: np.ndarray) -> np.ndarray:
    """Indices of up to FILL_FRAMES frames of (T, H, W) bool `objects` that hold an object, evenly spaced."""
    present = np.flatnonzero(objects.any(axis=(1, 2)))
    return present[np.linspace(0, len(present) - 1, min(FILL_FRAMES, len(present))).round().astype(int)]


def surroundings_fill_errors(frames: np.ndarray, plate: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """(N, 2): for the `frames_to_check`, the mean absolute difference (levels) over the object pixels between a
    fill from their surroundings (`cv2.inpaint`, Telea) and the input `frames`, and the same for the `plate`
    video; both (T, H, W, 3) uint8, objects (T, H, W) bool. The objects are grown by one pixel (their
    anti-aliased rims). A real object gives a first figure well above the second; an object resting in the plate,
    the reverse. Given only the frames to check, it checks them all."""
    chosen = frames_to_check(objects)
    h, w = objects.shape[1:]
    errors = np.zeros((len(chosen), 2))
    for row, t in enumerate(chosen):
        ys, xs = np.nonzero(objects[t])
        y0, y1 = max(0, ys.min() - FILL_MARGIN), min(h, ys.max() + FILL_MARGIN + 1)
        x0, x1 = max(0, xs.min() - FILL_MARGIN), min(w, xs.max() + FILL_MARGIN + 1)
        hole = cv2.dilate(objects[t, y0:y1, x0:x1].astype(np.uint8), np.ones((3, 3), np.uint8))
        for column, video in enumerate((frames, plate)):
            crop = np.ascontiguousarray(video[t, y0:y1, x0:x1])
            filled = cv2.inpaint(crop, hole, FILL_RADIUS, cv2.INPAINT_TELEA)
            errors[row, column] = np.abs(filled.astype(np.int16) - crop.astype(np.int16))[hole > 0].mean()
    return errors


def inverted_reason(errors: np.ndarray) -> str | None:
    """Why a window whose `surroundings_fill_errors` are `errors` looks inverted (its objects like background, its
    plate like an object), or None when it does not."""
    inverted = errors[:, 0] < errors[:, 1]
    if not len(errors) or inverted.mean() < MAX_INVERTED:
        return None
    return (f"the objects look like background and the plate like an object on {int(inverted.sum())} of the "
            f"{len(errors)} frames checked (a fill from the surroundings differs from the input by "
            f"{errors[:, 0].mean():.1f} levels, from the plate by {errors[:, 1].mean():.1f}): an object resting for "
            "most of the footage is in the temporal-median plate; give footage whose clean plate fills most of its "
            "frames")
