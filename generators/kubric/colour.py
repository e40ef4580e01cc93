"""sRGB <-> linear colour conversions (the IEC 61966-2-1 curve): specs hold sRGB, Blender takes linear."""

from __future__ import annotations

import numpy as np


def srgb_to_linear(rgb: list[float]) -> tuple[float, float, float]:
    c = np.asarray(rgb, dtype=np.float64)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return tuple(float(v) for v in lin)  # type: ignore[return-value]


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(np.maximum(c, 0.0), 1 / 2.4) - 0.055)
