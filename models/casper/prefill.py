"""The classical pre-fill Casper refines: the remove region filled by OpenCV inpainting, frame by frame.

With ``config.prefill == "cv2"`` the network is conditioned on this pre-filled clip too and predicts
the clean clip as ``prefill + residual``, so an untrained model already equals the `cv2-inpaint`
baseline and training spends its steps on what the baseline cannot do: shadows, reflections,
texture and temporal consistency (DiffuEraser conditions on ProPainter's output the same way).
``"none"`` conditions on the input only and predicts ``input + residual``.
"""

from __future__ import annotations

import numpy as np

from genbench.baselines.common import inpaint_image
from genbench.contract import TRIMASK_REMOVE
from genbench.errors import GenbenchError

PREFILLS = ("none", "cv2")


def prefill(frames: np.ndarray, trimask: np.ndarray, kind: str) -> np.ndarray:
    """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8 with the remove region filled."""
    if kind == "none":
        return frames
    if kind != "cv2":
        raise GenbenchError(f"unknown prefill {kind!r}; use one of {', '.join(PREFILLS)}")
    holes = trimask == TRIMASK_REMOVE
    return np.stack([inpaint_image(f, h, radius=3, algorithm="ns") for f, h in zip(frames, holes, strict=True)])
