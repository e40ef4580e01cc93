"""What the benchmark scores, read from a dataset: removal samples and layering scenes.

A **removal item** is one manifest sample: the input clip (`full`), its trimask and its target
(`bg` or `minus_<k>`). A **layering item** is one scene with ground-truth layers: the input, the
visible-object masks, `bg`, and per object `solo_<k>` and its RGBA layer. Only the first
`max_frames` frames are read when a frame cap is set (the protocol's frame cap).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.benchmark.predictions import Expected, read_frames
from genbench.benchmark.regions import effect_tolerance
from genbench.benchmark.split import official_digest
from genbench.dataset import read_info, read_manifest
from genbench.errors import GenbenchError
from genbench.records import Sample, SceneMeta
from genbench.scene import read_meta, scene_dir
from genbench.trimask import trimask as derive_trimask

TASKS = ("removal", "layering")


def dataset_digest(root: Path) -> str:
    """Names the dataset version scored (results, the prediction cache and leaderboard groups use it).

    A copy of an official benchmark split (its dataset.json names the split and every data file
    matches the committed checksums) is named by those checksums, so a shipped, built-and-published
    or fetched copy is the same version wherever its indexes were rebuilt. Any other dataset: the
    sha256 of manifest.parquet then dataset.json."""
    official = official_digest(root)
    if official is not None:
        return official
    h = hashlib.sha256()
    for name in (contract.MANIFEST_FILE, contract.DATASET_FILE):
        h.update((Path(root) / name).read_bytes())
    return h.hexdigest()


def clip_length(num_frames: int, max_frames: int | None) -> int:
    return num_frames if max_frames is None else min(num_frames, max_frames)


def _split_error(root: Path, split: str, what: str, available: list[str]) -> GenbenchError:
    shown = ", ".join(sorted(set(available))) or "none"
    return GenbenchError(f"{root}: no {what} in split {split!r} (splits with {what}: {shown}); pass --split")


def removal_samples(root: Path, split: str) -> list[Sample]:
    """The manifest's samples of `split`, sorted by sample id; GenbenchError when there are none."""
    read_info(root)  # schema check
    samples = read_manifest(root)
    chosen = sorted((s for s in samples if s.split == split), key=lambda s: s.sample_id)
    if not chosen:
        raise _split_error(root, split, "samples", [s.split for s in samples])
    return chosen


def layering_scenes(root: Path, split: str) -> list[SceneMeta]:
    """Scenes of `split` that have ground-truth layers (toy, Kubric-style), sorted by id."""
    read_info(root)
    all_metas = [read_meta(root, sid) for sid in sorted({s.scene_id for s in read_manifest(root)})]
    chosen = [m for m in all_metas if m.split == split and _has_layers(m)]
    if not chosen:
        raise _split_error(root, split, "scenes with ground-truth layers",
                           [m.split for m in all_metas if _has_layers(m)])
    return chosen


def _has_layers(meta: SceneMeta) -> bool:
    ids = meta.object_ids
    return (bool(ids) and sorted(meta.layers) == sorted(ids) and contract.BG in meta.videos
            and all(contract.solo_video(k) in meta.videos for k in ids))


@dataclass
class RemovalItem:
    """frames, target: (T, H, W, 3) uint8; trimask: (T, H, W) uint8 in {0, 128, 255}."""

    sample: Sample
    frames: np.ndarray
    trimask: np.ndarray
    target: np.ndarray
    tolerance: int

    @property
    def item_id(self) -> str:
        return self.sample.sample_id


def removal_expected(sample: Sample, max_frames: int | None) -> list[Expected]:
    t = clip_length(sample.num_frames, max_frames)
    return [Expected(sample.sample_id, t, sample.height, sample.width, 3)]


def load_removal(root: Path, sample: Sample, max_frames: int | None, *, target: bool = True) -> RemovalItem:
    """Read one removal sample (the target too unless `target` is False)."""
    folder = scene_dir(root, sample.scene_id)
    meta = read_meta(root, sample.scene_id)
    t = clip_length(sample.num_frames, max_frames)
    frames = read_frames(folder / contract.RGB_DIR / contract.FULL, t)
    if sample.trimask_stored:
        tri = read_frames(folder / contract.TRIMASK_DIR / sample.sample_id, t)
    else:
        visible = read_frames(folder / contract.MASKS_DIR / contract.VISIBLE_DIR, t)
        tri = derive_trimask(visible, sample.remove, sample.trimask_spec)
    gt = read_frames(folder / contract.RGB_DIR / sample.target, t) if target else np.empty((0,), np.uint8)
    return RemovalItem(sample, frames, tri, gt, effect_tolerance(meta.quality))


@dataclass
class LayeringItem:
    """One scene with GT layers. frames, bg: (T, H, W, 3) uint8; visible: (T, H, W) uint8 ids;
    objects: object id -> (T, H, W) bool where it is (amodal when stored, else visible);
    solo: id -> (T, H, W, 3) uint8; layers: id -> (T, H, W, 4) uint8 RGBA."""

    meta: SceneMeta
    frames: np.ndarray
    visible: np.ndarray
    bg: np.ndarray = field(default_factory=lambda: np.empty((0,), np.uint8))
    objects: dict[int, np.ndarray] = field(default_factory=dict)
    solo: dict[int, np.ndarray] = field(default_factory=dict)
    layers: dict[int, np.ndarray] = field(default_factory=dict)
    tolerance: int = 2

    @property
    def item_id(self) -> str:
        return self.meta.scene_id

    def visible_masks(self) -> dict[int, np.ndarray]:
        """What a layering method gets: object id -> (T, H, W) bool where it is visible."""
        return {k: self.visible == k for k in self.meta.object_ids}


def layering_expected(meta: SceneMeta, max_frames: int | None) -> list[Expected]:
    t = clip_length(meta.num_frames, max_frames)
    out = [Expected(f"{meta.scene_id}/{contract.BG}", t, meta.height, meta.width, 3)]
    out += [Expected(f"{meta.scene_id}/{contract.LAYERS_DIR}/{k}", t, meta.height, meta.width, 4)
            for k in meta.object_ids]
    return out


def load_layering(root: Path, meta: SceneMeta, max_frames: int | None, *, truth: bool = True) -> LayeringItem:
    """Read one layering scene (its ground truth too unless `truth` is False)."""
    folder = scene_dir(root, meta.scene_id)
    t = clip_length(meta.num_frames, max_frames)
    rgb = folder / contract.RGB_DIR
    item = LayeringItem(meta, read_frames(rgb / contract.FULL, t),
                        read_frames(folder / contract.MASKS_DIR / contract.VISIBLE_DIR, t),
                        tolerance=effect_tolerance(meta.quality))
    if truth:
        item.bg = read_frames(rgb / contract.BG, t)
        for k in meta.object_ids:
            item.solo[k] = read_frames(rgb / contract.solo_video(k), t)
            item.layers[k] = read_frames(folder / contract.LAYERS_DIR / str(k), t)
            if k in meta.amodal:
                item.objects[k] = read_frames(folder / contract.MASKS_DIR / contract.AMODAL_DIR / str(k), t) > 0
            else:
                item.objects[k] = item.visible == k
    return item


def composite_over(layer: np.ndarray, below: np.ndarray) -> np.ndarray:
    """uint8 RGBA (T, H, W, 4) `layer` over uint8 RGB `below`, in float32, rounded to uint8.

    The same arithmetic as the toy generator's compositing, so a GT layer over the GT background
    reproduces `solo_<k>` bit for bit there.
    """
    alpha = layer[..., 3:4].astype(np.float32) / 255.0
    out = layer[..., :3].astype(np.float32) * alpha + below.astype(np.float32) * (1.0 - alpha)
    return np.round(out).astype(np.uint8)
