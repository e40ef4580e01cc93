"""`identity`: the output is the input. The floor every removal method must beat."""

from __future__ import annotations

import numpy as np

from genbench.baselines.common import check_removal_inputs
from genbench.methods import RemovalMethod


class Identity(RemovalMethod):
    """Returns the input frames unchanged.

    Known failure, by design: it removes nothing, so the object and its effects stay. It
    scores perfectly on the preserve region and is the dummy method of the tests.
    """

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> a copy of frames."""
        check_removal_inputs(frames, trimask)
        return frames.copy()
