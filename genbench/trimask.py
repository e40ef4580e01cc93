"""The trimask: which pixels a removal method must remove, may change, or must keep.

Values (uint8): 0 = remove, 128 = uncertain, 255 = preserve (`genbench.contract`).

`trimask(visible, remove, spec)` derives it from the instance-id mask, in this order:

1. Start from the background: 128 everywhere if ``spec.band is None`` (the paper's
   convention: a removed object's shadow or reflection may be anywhere on the background),
   otherwise 255.
2. Pixels of objects that stay (ids not in `remove`) are 255.
3. With an integer band: background pixels within ``band`` pixels (Euclidean disk) of the
   remove region become 128: the only place the method may change the background.
4. The remove region, the removed objects' visible pixels grown by a disk of radius
   ``spec.dilation`` pixels, is 0. It wins over everything, because its pixels (the
   anti-aliased rim included) mix the removed object's colour with whatever lies there.

Dilation is a disk: pixel (dy, dx) is in the disk of radius r when dy^2 + dx^2 <= r^2,
so r = 1 grows a mask by its 4-neighbours and r = 2 by a 5x5 disk without corners.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from genbench.contract import TRIMASK_PRESERVE, TRIMASK_REMOVE, TRIMASK_UNCERTAIN
from genbench.records import TrimaskSpec


def disk(radius: int) -> np.ndarray:
    """Uint8 structuring element of the Euclidean disk of `radius` pixels, shape (2r+1, 2r+1)."""
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (yy * yy + xx * xx <= radius * radius).astype(np.uint8)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow a boolean (H, W) or (T, H, W) mask by a disk of `radius` pixels, frame by frame."""
    if radius == 0:
        return mask.astype(bool)
    import cv2  # heavy import, only when a trimask is made

    kernel = disk(radius)
    frames = mask.reshape(-1, *mask.shape[-2:]).astype(np.uint8)
    out = np.stack([cv2.dilate(f, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) for f in frames])
    return out.reshape(mask.shape).astype(bool)


def trimask(visible: np.ndarray, remove: Iterable[int], spec: TrimaskSpec | None = None) -> np.ndarray:
    """Trimask for removing the objects `remove` (ids >= 1).

    visible: (H, W) or (T, H, W) uint8 instance ids, 0 = background.
    Returns an array of the same shape, uint8 with values in {0, 128, 255}.
    """
    spec = spec or TrimaskSpec()
    remove_ids = np.array(sorted(set(int(k) for k in remove)), dtype=np.int64)
    if remove_ids.size == 0 or (remove_ids < 1).any():
        raise ValueError(f"remove must list object ids >= 1, got {list(remove_ids)}")
    removed = np.isin(visible, remove_ids)
    kept_objects = (visible != 0) & ~removed
    remove_region = dilate(removed, spec.dilation)

    background_value = TRIMASK_UNCERTAIN if spec.band is None else TRIMASK_PRESERVE
    out = np.full(visible.shape, background_value, dtype=np.uint8)
    out[kept_objects] = TRIMASK_PRESERVE
    if spec.band is not None:
        band = dilate(remove_region, spec.band) & (visible == 0)
        out[band] = TRIMASK_UNCERTAIN
    out[remove_region] = TRIMASK_REMOVE
    return out


def mark_uncertain(tri: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`tri` with `region` (bool, same shape) uncertain (128), its remove pixels (0) left as they are."""
    out = tri.copy()
    out[region & (tri != TRIMASK_REMOVE)] = TRIMASK_UNCERTAIN
    return out
