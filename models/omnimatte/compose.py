"""Compositing a scene's layers (`genbench.pixels.over`, back to front) and their depth order."""

from __future__ import annotations

import numpy as np

from genbench.pixels import over


def compose(bg: np.ndarray, layers: dict[int, np.ndarray], order: list[int]) -> np.ndarray:
    """The layers of `order` (back to front) over `bg`. bg (T, H, W, 3) uint8 -> same shape."""
    out = bg
    for k in order:
        out = over(layers[k], out)
    return out


def depth_order(layers: dict[int, np.ndarray], visible: np.ndarray | None) -> list[int]:
    """Object ids back to front.

    With the input's instance ids `visible` ((T, H, W) uint8, 0 = background): object k is in front
    of j where k is visible on pixels where j's layer is opaque (alpha >= 250: its body, since a layer
    comes from the object's unoccluded solo video). Objects are sorted by how many others they
    occlude minus how many occlude them; ties, and no `visible`, keep ascending ids.
    """
    ids = sorted(layers)
    if visible is None or len(ids) < 2:
        return ids
    covers = {j: layers[j][..., 3] >= 250 for j in ids}
    score = dict.fromkeys(ids, 0)
    for j in ids:
        for k in ids:
            if j == k:
                continue
            k_over_j = int(np.count_nonzero(covers[j] & (visible == k)))
            j_over_k = int(np.count_nonzero(covers[k] & (visible == j)))
            if k_over_j > j_over_k:
                score[k] += 1
                score[j] -= 1
    return sorted(ids, key=lambda k: (score[k], k))
