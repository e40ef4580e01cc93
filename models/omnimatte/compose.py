"""Compositing layers: "over", the depth order of a scene's layers, and the recomposition check."""

from __future__ import annotations

import numpy as np


def over(layer: np.ndarray, below: np.ndarray) -> np.ndarray:
    """uint8 RGBA `layer` (T, H, W, 4) over uint8 RGB `below` (T, H, W, 3), rounded to uint8.

    The arithmetic of the toy generator and of `genbench.benchmark.items.composite_over`, so a
    layer scored by the benchmark recomposes to the same bytes here.
    """
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    out = layer[..., :3].astype(np.float32) * alpha + below.astype(np.float32) * (1.0 - alpha)
    return np.round(out).astype(np.uint8)


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


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 arrays over all values (data range 255), capped at 100 as the benchmark caps it."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else min(100.0, 10 * np.log10(255.0**2 / mse))
