"""`median`: a temporal clean plate for a static camera."""

from __future__ import annotations

import numpy as np

from genbench.baselines.common import check_removal_inputs, inpaint_flag, inpaint_image, remove_region
from genbench.methods import RemovalMethod


def clean_plate(frames: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the frames where the pixel is not hidden.

    frames: (T, H, W, 3) uint8; hidden: (T, H, W) bool. Returns (plate (H, W, 3) uint8,
    seen (H, W) bool). With an even number of visible frames the two middle values are
    averaged, rounding halves up; a pixel hidden in every frame is 0 and not seen.
    """
    count = (~hidden).sum(axis=0)  # (H, W) frames that see each pixel
    values = np.where(hidden[..., None], np.iinfo(np.uint16).max, frames.astype(np.uint16))
    values.sort(axis=0)  # hidden frames sort last
    lo = np.maximum((count - 1) // 2, 0)[None, ..., None]
    hi = np.maximum(count // 2, 0)[None, ..., None]
    lo_value = np.take_along_axis(values, np.broadcast_to(lo, (1, *values.shape[1:])), axis=0)[0]
    hi_value = np.take_along_axis(values, np.broadcast_to(hi, (1, *values.shape[1:])), axis=0)[0]
    seen = count > 0
    plate = np.where(seen[..., None], (lo_value.astype(np.uint32) + hi_value + 1) // 2, 0)
    return plate.astype(np.uint8), seen


def steady(frames: np.ndarray, hidden: np.ndarray, plate: np.ndarray, spread: int) -> np.ndarray:
    """(H, W) bool: pixels some frame sees whose visible values mostly stay within `spread` levels of `plate`.

    "Mostly": in the frame at three quarters of the way up the sorted deviations (rounded down), every channel
    is within `spread`, so a shadow or object passing through a few frames does not disqualify a pixel, while a
    moving camera (the values under a pixel change in most frames) does. frames (T, H, W, 3) uint8; hidden
    (T, H, W) bool; plate (H, W, 3) uint8, e.g. `clean_plate`'s.
    """
    deviation = np.abs(frames.astype(np.int16) - plate[None].astype(np.int16)).max(axis=-1)
    deviation = np.where(hidden, np.iinfo(np.int16).max, deviation)
    deviation.sort(axis=0)  # hidden frames sort last
    count = (~hidden).sum(axis=0)
    rank = np.maximum((count - 1) * 3 // 4, 0)[None]
    quantile = np.take_along_axis(deviation, rank, axis=0)[0]
    return (count > 0) & (quantile <= spread)


class TemporalMedian(RemovalMethod):
    """Fills the remove region with a clean plate: each pixel's median over the frames where
    it is outside the remove region (trimask != 0). Pixels that no frame sees are filled by
    spatial inpainting of the plate (cv2.inpaint, `algorithm` "ns" or "telea").

    Known failures: it assumes a static camera and a static background, so with a moving
    camera or changing light the plate is the wrong picture. It leaves shadows and
    reflections behind (they are outside the remove region), and copies a moving shadow
    into the hole from the frames where the shadow lay there. Where a slow object covers a
    pixel in every frame, the fill is spatial hallucination only. A kept object's rim inside
    the remove region is painted over with background.
    """

    def __init__(self, algorithm: str = "ns", radius: int = 3) -> None:
        inpaint_flag(algorithm)
        self.algorithm, self.radius = algorithm, int(radius)

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        check_removal_inputs(frames, trimask)
        hole = remove_region(trimask)
        plate, seen = clean_plate(frames, hole)
        plate = inpaint_image(plate, ~seen, radius=self.radius, algorithm=self.algorithm)
        return np.where(hole[..., None], plate[None], frames)
