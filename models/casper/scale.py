"""The remove region's fill sampled at the scale the network was trained at.

A small pixel-space network trained on 64x64 renders sees an object at 128 px at twice the size it learned
to fill; its receptive field then covers half the context it was trained with. With ``config.fill_size`` set,
the clip is also sampled with its long side shrunk to that many pixels, and the upscaled result fills the
remove region wherever the clean plate is not kept; the effect and uncertain regions keep the native-size
sample, which sees the shadows and reflections at full detail.
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench.baselines.common import remove_region, resize_video
from genbench.contract import TRIMASK_PRESERVE, TRIMASK_REMOVE, TRIMASK_UNCERTAIN


def shrink(frames: np.ndarray, trimask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """frames (T, H, W, 3) and trimask (T, H, W) uint8 with the long side at `size` pixels: frames by area
    averaging; a small pixel is in the remove region when any pixel under it is, preserved when all are."""
    _, h, w = trimask.shape
    scale = size / max(h, w)
    width, height = round(w * scale), round(h * scale)
    hole = resize_video(remove_region(trimask).astype(np.float32), height, width, cv2.INTER_AREA) > 0
    keep = resize_video((trimask == TRIMASK_PRESERVE).astype(np.float32), height, width, cv2.INTER_AREA) >= 1
    small = np.where(hole, TRIMASK_REMOVE, np.where(keep, TRIMASK_PRESERVE, TRIMASK_UNCERTAIN)).astype(np.uint8)
    return resize_video(frames, height, width, cv2.INTER_AREA), small


def fill_from(result: np.ndarray, small: np.ndarray, where: np.ndarray) -> np.ndarray:
    """`result` (T, H, W, 3) with the pixels of `where` (T, H, W) taken from `small` upscaled (bicubic)."""
    _, h, w, _ = result.shape
    return np.where(where[..., None], resize_video(small, h, w, cv2.INTER_CUBIC), result)
