"""What the built-in baselines share: input checks, the remove region, spatial inpainting.

By default every baseline changes only the trimask's remove region (value 0) and copies every other
pixel from the input, so the preserve region (255) and the uncertain region (128) come out
bit-identical. None of them looks for shadows or reflections: that is the gap the benchmark's
effect region measures. And since the trimask's remove region wins over kept objects, the rim of
a kept object that touches a removed one is painted over with background by all of them.
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench import contract
from genbench.errors import GenbenchError

INPAINT_ALGORITHMS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def check_removal_inputs(frames: np.ndarray, trimask: np.ndarray) -> None:
    """Raise GenbenchError unless frames is (T, H, W, 3) uint8 and trimask (T, H, W) uint8 in {0, 128, 255}."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise GenbenchError(f"frames must be (T, H, W, 3) uint8, got {frames.dtype}{frames.shape}")
    if trimask.dtype != np.uint8 or trimask.shape != frames.shape[:3]:
        raise GenbenchError(f"trimask must be {frames.shape[:3]} uint8 like the frames, got {trimask.dtype}"
                            f"{trimask.shape}")
    extra = set(np.unique(trimask).tolist()) - set(contract.TRIMASK_VALUES)
    if extra:
        raise GenbenchError(f"trimask has values {sorted(extra)}; only {contract.TRIMASK_VALUES} are allowed")


def remove_region(trimask: np.ndarray) -> np.ndarray:
    """(T, H, W) bool: where the trimask says remove (value 0)."""
    return trimask == contract.TRIMASK_REMOVE


def resize_video(frames: np.ndarray, height: int, width: int, interpolation: int) -> np.ndarray:
    """Every frame resized to (height, width) with an OpenCV interpolation flag; unchanged when already that size."""
    if frames.shape[1:3] == (height, width):
        return frames
    return np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in frames])


def inpaint_flag(algorithm: str) -> int:
    """The OpenCV flag for "ns" (Navier-Stokes, Bertalmio 2001) or "telea" (fast marching, Telea 2004).

    "ns" is the baselines' default: it fills a flat area exactly, where OpenCV 4.11's Telea
    leaves a +-2 level dither; on the toy data the two are within 0.4 dB of each other.
    """
    if algorithm not in INPAINT_ALGORITHMS:
        raise GenbenchError(f"unknown inpainting algorithm {algorithm!r}; use one of {sorted(INPAINT_ALGORITHMS)}")
    return INPAINT_ALGORITHMS[algorithm]


def inpaint_image(image: np.ndarray, hole: np.ndarray, *, radius: int = 3, algorithm: str = "ns") -> np.ndarray:
    """Fill `hole` ((H, W) bool) of `image` from its surroundings with cv2.inpaint.

    image: (H, W, 3) uint8.
    Pixels outside the hole are returned unchanged. A hole that covers the whole image has
    nothing to fill from and is returned as it is.
    """
    if not hole.any() or hole.all():
        return image.copy()
    out = cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8), radius, inpaint_flag(algorithm))
    return np.where(hole[..., None] if image.ndim == 3 else hole, out, image)
