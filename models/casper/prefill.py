"""The classical pre-fill Casper refines: the remove region filled by a classical method.

With ``config.prefill == "cv2"`` (OpenCV inpainting, frame by frame) the network is conditioned on this
pre-filled clip too and predicts the clean clip as ``prefill + residual``, so an untrained model
already equals the `cv2-inpaint` baseline and training spends its steps on what the baseline cannot
do: shadows, reflections, texture and temporal consistency (DiffuEraser conditions on ProPainter's
output the same way). ``"median"`` fills with the `median` baseline instead (each pixel's median over
the frames that see it, OpenCV inpainting where none does): the true background wherever a static
camera saw it, the wrong picture when the camera moves. ``"none"`` conditions on the input only and
predicts ``input + residual``.

`static_plate` works the other way round, after sampling: where other frames see the background of a
remove-region pixel and its value there is steady (a static camera), the temporal clean plate is the true
background, exact up to noise, and it replaces the network's fill; the network fills only what no frame shows
and what moves. The config's ``plate`` (levels of spread allowed; None: off) turns it on.
"""

from __future__ import annotations

import numpy as np

from genbench.baselines.common import inpaint_image, remove_region
from genbench.baselines.median import clean_plate, steady
from genbench.errors import GenbenchError

PREFILLS = ("none", "cv2", "median")


def prefill(frames: np.ndarray, trimask: np.ndarray, kind: str) -> np.ndarray:
    """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8 with the remove region filled."""
    if kind == "none":
        return frames
    if kind == "median":
        from genbench.baselines.median import TemporalMedian

        return TemporalMedian().remove(frames, trimask)
    if kind != "cv2":
        raise GenbenchError(f"unknown prefill {kind!r}; use one of {', '.join(PREFILLS)}")
    holes = remove_region(trimask)
    return np.stack([inpaint_image(f, h, radius=3, algorithm="ns") for f, h in zip(frames, holes, strict=True)])


def static_plate(frames: np.ndarray, trimask: np.ndarray, spread: int) -> tuple[np.ndarray, np.ndarray]:
    """The temporal clean plate (H, W, 3) uint8 and the (T, H, W) remove-region pixels it is kept at: those
    the frames that see them see steadily (`steady` with `spread` levels)."""
    hole = remove_region(trimask)
    plate, _ = clean_plate(frames, hole)
    return plate, hole & steady(frames, hole, plate, spread)[None]  # steady pixels are seen ones
