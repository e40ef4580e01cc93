"""`mask-alpha`: the simplest layering, a lower bound: layers are the object masks, nothing more."""

from __future__ import annotations

import numpy as np

from genbench.contract import TRIMASK_REMOVE, TRIMASK_UNCERTAIN
from genbench.errors import GenbenchError
from genbench.methods import METHODS, LayeringMethod, RemovalMethod
from genbench.records import TrimaskSpec
from genbench.trimask import dilate


def clean_plate_trimask(masks: dict[int, np.ndarray], shape: tuple[int, int, int], dilation: int) -> np.ndarray:
    """The clean-plate trimask: every object (grown by `dilation` pixels) 0, background 128.

    masks: object id -> (T, H, W) bool; shape: (T, H, W). Returns (T, H, W) uint8.
    """
    objects = np.zeros(shape, dtype=bool)
    for mask in masks.values():
        objects |= mask.astype(bool)
    out = np.full(shape, TRIMASK_UNCERTAIN, dtype=np.uint8)
    out[dilate(objects, dilation)] = TRIMASK_REMOVE
    return out


class MaskAlpha(LayeringMethod):
    """Background from a removal method; layer k = the input's RGB where object k's mask is,
    alpha 255 there and 0 (with black RGB) elsewhere.

    background: a registered removal method's name (default "flow-propagation", which also
    handles a moving camera; "median" is the static-camera choice) or a RemovalMethod. It
    gets the clean-plate trimask: every object 0 (dilated by `dilation`, the trimask default),
    background 128.

    Known failure, by design: a layer holds no shadow, reflection or other effect, so they
    stay in the background and the recomposition of "remove object k" keeps them. It is the
    lower bound a layering method must beat.
    """

    def __init__(self, background: str | RemovalMethod = "flow-propagation",
                 dilation: int = TrimaskSpec().dilation) -> None:
        method = METHODS.get(background)() if isinstance(background, str) else background
        if not isinstance(method, RemovalMethod):
            raise GenbenchError(f"mask-alpha needs a removal method for the background, got {background!r}")
        self.background, self.dilation = method, int(dilation)

    def decompose(self, frames: np.ndarray, masks: dict[int, np.ndarray]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """frames (T, H, W, 3) uint8; masks: id -> (T, H, W) bool.

        Returns (bg (T, H, W, 3) uint8, {id: (T, H, W, 4) uint8 RGBA}).
        """
        for k, mask in masks.items():
            if mask.shape != frames.shape[:3]:
                raise GenbenchError(f"mask of object {k} is {mask.shape}, frames are {frames.shape[:3]}")
        if not masks:
            return frames.copy(), {}
        bg = self.background.remove(frames, clean_plate_trimask(masks, frames.shape[:3], self.dilation))
        layers = {}
        for k, mask in masks.items():
            inside = mask.astype(bool)[..., None]
            alpha = np.where(inside, 255, 0).astype(np.uint8)
            layers[k] = np.concatenate([np.where(inside, frames, 0).astype(np.uint8), alpha], axis=-1)
        return bg, layers
