"""Controlled damage to exact bg and solo videos, standing in for a removal model's output: Gaussian
noise and a small per-channel colour shift, seeded. Used by `perf/omnimatte.py` and the tests to see
how the layer fit degrades as its inputs do."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Degradation:
    """sigma: Gaussian noise, colour units in [0, 1] (3/255 is three uint8 levels); shift: per channel,
    gain drawn in [1 - shift, 1 + shift] and offset in [-shift / 2, shift / 2], once per video."""

    name: str
    sigma: float = 0.0
    shift: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


LEVELS = (
    Degradation("exact"),
    Degradation("noise 1/255", 1 / 255),
    Degradation("noise 3/255", 3 / 255),
    Degradation("noise 6/255", 6 / 255),
    Degradation("noise 3/255 + colour 2%", 3 / 255, 0.02),
)


def degrade(video: np.ndarray, level: Degradation, seed: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> the same with `level`'s noise and colour shift; the same seed, the same bytes."""
    if level.sigma == 0 and level.shift == 0:
        return video.copy()
    rng = np.random.default_rng(seed)
    x = video.astype(np.float64) / 255.0
    if level.shift:
        gain = 1 + rng.uniform(-level.shift, level.shift, 3)
        offset = rng.uniform(-level.shift / 2, level.shift / 2, 3)
        x = x * gain + offset
    if level.sigma:
        x = x + rng.normal(0.0, level.sigma, x.shape)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def degrade_inputs(bg: np.ndarray, solos: dict[int, np.ndarray], level: Degradation, seed: int
                   ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """bg and every solo video degraded independently (seeds `seed`, `seed + k`), as a removal model's
    separate runs would be."""
    return degrade(bg, level, seed), {k: degrade(v, level, seed + 1 + k) for k, v in solos.items()}
