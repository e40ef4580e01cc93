"""Training windows for Casper, drawn from one or more genbench datasets with weights.

Every manifest sample of the chosen split is a training clip: input `full`, its trimask and its
target (`bg` or `minus_<k>`); Kubric renders, object-paste and tripod datasets all look the same
here. A batch picks a dataset by weight, a sample uniformly inside it, a random temporal window
(clips shorter than the window are played forward then backward), a random crop (frames smaller
than the crop are edge-padded), a random horizontal flip and a random time reversal. The random
stream is passed in, so a batch depends only on (seed, step): resuming needs no saved RNG state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genbench.benchmark.split import refuse_benchmark_content
from genbench.contract import DATASET_FILE, DEFAULT_EFFECT_TOLERANCE, TRIMASK_REMOVE
from genbench.dataset import read_info
from genbench.errors import GenbenchError
from genbench.models.casper.pipeline import encode_trimask, encode_video
from genbench.models.casper.prefill import prefill
from genbench.pixels import differs
from genbench.records import Sample
from genbench.samples import load_removal, removal_samples

Clip = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # frames, trimask, target, pre-filled frames


@dataclass
class Source:
    """One dataset folder, its sampling weight and its samples of the training split.

    Clips are read (and pre-filled) on first use and kept in memory.
    """

    root: Path
    weight: float
    generator: str
    samples: list[Sample]
    prefill: str = "none"
    cache: dict[str, Clip] = field(default_factory=dict)

    def clip(self, index: int) -> Clip:
        sample = self.samples[index]
        if sample.sample_id not in self.cache:
            item = load_removal(self.root, sample, None)
            filled = prefill(item.frames, item.trimask, self.prefill)
            self.cache[sample.sample_id] = (item.frames, item.trimask, item.target, filled)
        return self.cache[sample.sample_id]


def open_sources(roots: list[Path], weights: list[float] | None, split: str, prefill: str = "none") -> list[Source]:
    """Check and open the training datasets. weights: one per root (default: equal); prefill: the config's."""
    if not roots:
        raise GenbenchError("no training data given; pass --data DIR[,DIR...]")
    weights = weights if weights is not None else [1.0] * len(roots)
    if len(weights) != len(roots) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise GenbenchError(f"--weights needs {len(roots)} non-negative numbers (one per --data folder), not all 0; "
                            f"got {weights}")
    sources = []
    for root, weight in zip(roots, weights, strict=True):
        root = Path(root)
        if not (root / DATASET_FILE).is_file():
            raise GenbenchError(f"{root}: not a genbench dataset (no {DATASET_FILE}); make one with "
                                "`genbench render`, `genbench paste` or `genbench tripod`")
        refuse_benchmark_content(root, "training")
        info = read_info(root)
        sources.append(Source(root, float(weight), info.generator, removal_samples(root, split), prefill))
    return sources


def _window(length: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` frame indices: a random window, or the clip played forward and back when shorter."""
    if length >= size:
        start = int(rng.integers(0, length - size + 1))
        return np.arange(start, start + size)
    cycle = np.concatenate([np.arange(length), np.arange(length - 2, 0, -1)]) if length > 1 else np.zeros(1, int)
    return np.resize(cycle, size)


def _pad_to(x: np.ndarray, size: int) -> np.ndarray:
    """Edge-pad axes 1 and 2 (H, W) of a (T, H, W, ...) array up to `size`."""
    ph, pw = max(0, size - x.shape[1]), max(0, size - x.shape[2])
    if not ph and not pw:
        return x
    pad = [(0, 0), (0, ph), (0, pw)] + [(0, 0)] * (x.ndim - 3)
    return np.pad(x, pad, mode="edge")


def crop_window(clip: Clip, frames: int, crop: int, rng: np.random.Generator) -> Clip:
    """A random (frames, crop, crop) window of a clip, flipped and time-reversed at random."""
    idx = _window(len(clip[0]), frames, rng)
    if rng.random() < 0.5:
        idx = idx[::-1]
    arrays = [_pad_to(x[idx], crop) for x in clip]
    y = int(rng.integers(0, arrays[0].shape[1] - crop + 1))
    x = int(rng.integers(0, arrays[0].shape[2] - crop + 1))
    flip = rng.random() < 0.5
    out = []
    for a in arrays:
        a = a[:, y:y + crop, x:x + crop]
        out.append(np.ascontiguousarray(a[:, :, ::-1] if flip else a))
    return out[0], out[1], out[2], out[3]


def make_batch(sources: list[Source], size: int, frames: int, crop: int, rng: np.random.Generator,
               change_weight: float) -> dict[str, torch.Tensor]:
    """video, target, prefill: (B, 3, T, crop, crop) in [-1, 1]; trimask: (B, 2, ...); weight: (B, 1, ...).

    The weight is `change_weight` where the target differs from the input (more than 2/255) or the
    trimask says remove, else 1: most pixels are unchanged, and the few that change (the object,
    its shadow and reflection) are what the model has to learn.
    """
    p = np.array([s.weight for s in sources])
    videos, tris, targets, filled, weights = [], [], [], [], []
    for _ in range(size):
        source = sources[int(rng.choice(len(sources), p=p / p.sum()))]
        video, tri, target, pre = crop_window(source.clip(int(rng.integers(len(source.samples)))), frames, crop, rng)
        changed = differs(video, target, DEFAULT_EFFECT_TOLERANCE) | (tri == TRIMASK_REMOVE)
        videos.append(encode_video(video))
        tris.append(encode_trimask(tri))
        targets.append(encode_video(target))
        filled.append(encode_video(pre))
        weights.append(torch.from_numpy(1.0 + (change_weight - 1.0) * changed.astype(np.float32))[None])
    return {"video": torch.stack(videos), "trimask": torch.stack(tris), "target": torch.stack(targets),
            "prefill": torch.stack(filled), "weight": torch.stack(weights)}
