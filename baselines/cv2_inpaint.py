"""`cv2-inpaint`: per-frame spatial inpainting of the remove region with OpenCV."""

from __future__ import annotations

import numpy as np

from genbench.baselines.common import check_removal_inputs, inpaint_flag, inpaint_image, remove_region
from genbench.contract import TRIMASK_PRESERVE
from genbench.methods import RemovalMethod
from genbench.trimask import dilate


class CV2Inpaint(RemovalMethod):
    """Fills the remove region (trimask == 0) of each frame with cv2.inpaint, frame by frame.

    algorithm: "ns" (Navier-Stokes, default) or "telea". radius: the inpainting neighbourhood in pixels.
    dilation: extra pixels the hole grows beyond the trimask's remove region (default 0:
    the trimask's region is already dilated); the preserve region is never part of the hole.

    Known failures: it only sees one frame, so it smears the hole's surroundings into it
    (no texture, flicker over time), and it leaves the object's shadow and reflection
    behind, because they lie outside the remove region: the failure Generative Omnimatte
    points at.
    """

    def __init__(self, algorithm: str = "ns", radius: int = 3, dilation: int = 0) -> None:
        inpaint_flag(algorithm)  # unknown names fail here, not on the first clip
        self.algorithm, self.radius, self.dilation = algorithm, int(radius), int(dilation)

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        check_removal_inputs(frames, trimask)
        holes = dilate(remove_region(trimask), self.dilation) & (trimask != TRIMASK_PRESERVE)
        return np.stack([inpaint_image(f, h, radius=self.radius, algorithm=self.algorithm)
                         for f, h in zip(frames, holes, strict=True)])
