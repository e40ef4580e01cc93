"""Kubric-style 2D boxes of an object's mask, shared by the generators that derive masks from pixels."""

from __future__ import annotations

import numpy as np


def mask_bboxes(mask: np.ndarray) -> tuple[list[list[float]], list[int]]:
    """Kubric's `bboxes` and `bbox_frames` of a (T, H, W) bool mask.

    Each box is (ymin, xmin, ymax, xmax) as fractions of H and W, rounded to 6 digits; frames
    where the mask is empty have no box and are left out of `bbox_frames`.
    """
    h, w = mask.shape[1:]
    boxes, frames = [], []
    for t, m in enumerate(mask):
        ys, xs = np.nonzero(m)
        if ys.size:
            boxes.append([round(ys.min() / h, 6), round(xs.min() / w, 6), round((ys.max() + 1) / h, 6),
                          round((xs.max() + 1) / w, 6)])
            frames.append(t)
    return boxes, frames
