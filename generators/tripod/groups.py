"""Statistics per group of values (pixels per connected component, per grid cell, per frame) in one sort."""

from __future__ import annotations

import numpy as np


def group_medians(values: np.ndarray, groups: np.ndarray, count: int, fallback: float = np.nan,
                  min_size: int = 1) -> np.ndarray:
    """(count,) float32 median of (N,) `values` per (N,) int group id in 0..count-1 (`fallback` for groups with
    fewer than `min_size` values)."""
    order = np.lexsort((values, groups))
    ordered = values[order]
    sizes = np.bincount(groups, minlength=count)[:count]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    last = max(ordered.size - 1, 0)
    low = ordered[np.minimum(starts + (sizes - 1) // 2, last)] if ordered.size else np.zeros(count)
    high = ordered[np.minimum(starts + sizes // 2, last)] if ordered.size else np.zeros(count)
    return np.where(sizes >= max(min_size, 1), (low + high) / 2, fallback).astype(np.float32)
