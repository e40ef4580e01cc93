"""`flow-propagation`: classic flow-guided video inpainting (propagate, then inpaint).

1. Optical flow between neighbouring frames (OpenCV DIS or Farneback on grey frames),
   both directions. Inside the hole the flow follows the object, not the background, so it
   is thrown away there (the hole grown by `flow_margin` pixels) and completed from the
   hole's surroundings by a smooth push-pull fill. The flow itself is computed on frames
   whose hole was first inpainted spatially, so the object's motion does not leak out.
2. A forward pass fills frame t's hole by sampling frame t-1 (already filled where it
   could be) along the completed flow; a backward pass does the same from frame t+1. A
   sample is taken only if all four pixels it interpolates are known. Where both passes
   filled a pixel, they are blended with weights 1 / (frames travelled since a real
   observation).
3. What no frame saw is inpainted spatially, frame by frame (cv2.inpaint).

Only the remove region (trimask == 0) changes; every other pixel is copied from the input.
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench.baselines.common import check_removal_inputs, inpaint_flag, inpaint_image, remove_region
from genbench.errors import GenbenchError
from genbench.methods import RemovalMethod
from genbench.trimask import dilate

FLOW_ALGORITHMS = ("dis", "farneback")
DIS_MIN_SIZE = 16  # measured: every (h, w) with 16 <= h <= 39, w up to 30 h, runs


def optical_flow(a: np.ndarray, b: np.ndarray, algorithm: str = "dis") -> np.ndarray:
    """Dense flow from grey frame `a` to `b` ((H, W) uint8): a[y, x] ~ b[y + f[..., 1], x + f[..., 0]].

    Returns (H, W, 2) float32 (dx, dy) in pixels. DIS is used only on frames at least
    DIS_MIN_SIZE pixels on each side: OpenCV 4.11's DIS rejects smaller ones, and crashes the
    process (segfault) on some, e.g. 12x48; smaller frames get Farneback.
    """
    if algorithm == "dis" and min(a.shape) >= DIS_MIN_SIZE:
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)
    if algorithm in FLOW_ALGORITHMS:
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    raise GenbenchError(f"unknown flow algorithm {algorithm!r}; use one of {', '.join(FLOW_ALGORITHMS)}")


def fill_smooth(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill the unknown pixels of `values` ((H, W, 2) float32) smoothly from the known ones (push-pull).

    The known pixels are averaged into a half-size image (weighted by how many are known),
    that image is filled the same way, and its bilinear enlargement fills the unknown pixels
    here. known: (H, W) bool. Known pixels are returned unchanged; with none known, zeros.
    (cv2.inpaint is not used for this: its Telea mode returns garbage on float32 input.)
    """
    if known.all():
        return values.copy()
    if not known.any():
        return np.zeros_like(values)
    height, width = known.shape
    weight = known.astype(np.float32)
    if min(height, width) <= 2:
        mean = (values * weight[..., None]).sum(axis=(0, 1)) / weight.sum()
        return np.where(known[..., None], values, mean).astype(np.float32)
    size = ((width + 1) // 2, (height + 1) // 2)
    total = cv2.resize(values * weight[..., None], size, interpolation=cv2.INTER_AREA)
    count = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    coarse = fill_smooth(total / np.maximum(count, 1e-3)[..., None], count > 1e-3)
    return np.where(known[..., None], values, cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR))


def complete_flow(flow: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Replace `flow` ((H, W, 2) float32) inside `hole` ((H, W) bool) by a smooth fill from outside.

    A hole covering the whole frame leaves no flow to extend: the result is zero motion.
    """
    return fill_smooth(flow, ~hole)


def _warp(image: np.ndarray, flow: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Sample `image` ((H, W[, C]) float32) at grid + flow, bilinear; outside the frame is 0."""
    coords = grid + flow
    return cv2.remap(image, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _propagate(frames: np.ndarray, hole: np.ndarray, flows: list[np.ndarray | None], order: range,
               step: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass: fill frame t's hole from frame t - step along flows[t] (t -> t - step).

    Returns (values (T, H, W, 3) float32, distance (T, H, W) float32: frames travelled from a
    real observation, 0 where the input is known, inf where this pass filled nothing).
    """
    values = frames.astype(np.float32)
    distance = np.where(hole, np.inf, 0.0).astype(np.float32)
    height, width = hole.shape[1:]
    grid = np.stack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)), -1)
    for t in order:
        todo = hole[t] & np.isinf(distance[t])
        if not todo.any():
            continue
        source = t - step
        known = np.isfinite(distance[source]).astype(np.float32)
        ok = (_warp(known, flows[t], grid) > 0.999) & todo
        if not ok.any():
            continue
        dist_source = np.where(np.isfinite(distance[source]), distance[source], 0.0).astype(np.float32)
        values[t][ok] = _warp(values[source], flows[t], grid)[ok]
        distance[t][ok] = _warp(dist_source, flows[t], grid)[ok] + 1.0
    return values, distance


class FlowPropagation(RemovalMethod):
    """Fills the remove region (trimask == 0) from neighbouring frames along optical flow,
    forwards and backwards, then inpaints spatially (cv2.inpaint) what no frame saw.

    flow: "dis" (default) or "farneback". flow_margin: pixels around the hole whose flow is
    distrusted and completed from further out (default 8, DIS's patch size: flow closer to
    the hole was estimated from patches that overlap it; 2 instead of 8 cost 9-29 dB on a
    static textured test clip). algorithm / radius: the spatial inpainting.

    Works with a moving camera when the background moves smoothly (flow completion is a
    smooth interpolation across the hole). Known failures: chained bilinear sampling blurs
    content carried over many frames; wrong flow near the hole drags object colours in;
    parallax and occlusions inside the hole are not modelled; what is never seen is only
    smeared in; and, like every baseline here, shadows and reflections outside the remove
    region stay.
    """

    def __init__(self, flow: str = "dis", flow_margin: int = 8, algorithm: str = "ns", radius: int = 3) -> None:
        if flow not in FLOW_ALGORITHMS:
            raise GenbenchError(f"unknown flow algorithm {flow!r}; use one of {', '.join(FLOW_ALGORITHMS)}")
        inpaint_flag(algorithm)
        self.flow, self.flow_margin, self.algorithm, self.radius = flow, int(flow_margin), algorithm, int(radius)

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        check_removal_inputs(frames, trimask)
        hole = remove_region(trimask)
        if not hole.any():
            return frames.copy()
        # Flow is computed on frames whose hole is spatially inpainted, so the removed object's own
        # motion does not leak into the background's flow around it.
        grey = np.stack([cv2.cvtColor(inpaint_image(f, h, radius=self.radius, algorithm=self.algorithm),
                                      cv2.COLOR_RGB2GRAY) for f, h in zip(frames, hole, strict=True)])
        distrust = dilate(hole, self.flow_margin)
        count = len(frames)

        def completed_flow(t: int, s: int) -> np.ndarray | None:  # t -> s, only where frame t has a hole to fill
            if not (0 <= s < count and hole[t].any()):
                return None
            return complete_flow(optical_flow(grey[t], grey[s], self.flow), distrust[t])

        back = [completed_flow(t, t - 1) for t in range(count)]
        fwd = [completed_flow(t, t + 1) for t in range(count)]
        v1, d1 = _propagate(frames, hole, back, range(1, count), step=1)
        v2, d2 = _propagate(frames, hole, fwd, range(count - 2, -1, -1), step=-1)
        w1 = np.where(np.isfinite(d1), 1.0 / np.maximum(d1, 1.0), 0.0)[..., None]
        w2 = np.where(np.isfinite(d2), 1.0 / np.maximum(d2, 1.0), 0.0)[..., None]
        weight = w1 + w2
        blended = (np.where(w1 > 0, v1, 0) * w1 + np.where(w2 > 0, v2, 0) * w2) / np.maximum(weight, 1e-12)
        filled = np.where(hole[..., None], np.clip(np.round(blended), 0, 255), frames).astype(np.uint8)
        unseen = hole & (weight[..., 0] == 0)
        return np.stack([inpaint_image(f, u, radius=self.radius, algorithm=self.algorithm)
                         for f, u in zip(filled, unseen, strict=True)])
