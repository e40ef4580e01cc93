"""Reading a dataset's removal samples and layering scenes: what methods, training and the benchmark consume.

A **removal item** is one manifest sample: the input clip (`full`), its trimask and its target
(`bg` or `minus_<k>`). A **layering item** is one scene with ground-truth layers: the input, the
visible-object masks, `bg`, and per object `solo_<k>` and its RGBA layer. Only the first
`max_frames` frames are read when a frame cap is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genbench import contract
from genbench.dataset import read_info, read_manifest
from genbench.errors import GenbenchError
from genbench.frames import read_frames
from genbench.progress import get_logger
from genbench.records import Sample, SceneMeta
from genbench.scene import read_meta, scene_dir
from genbench.trimask import trimask as derive_trimask

log = get_logger("data")
PREFERRED_SPLIT = "test"  # what an unspecified split means when a dataset has it


def effect_tolerance(quality: dict[str, Any]) -> int:
    """The scene's effect tolerance in uint8 levels (meta.json ``quality.params.effect_tolerance``), else the
    default: input and target differing by more than this outside the object is the object's effect."""
    value = quality.get(contract.QUALITY_PARAMS, {}).get(contract.EFFECT_TOLERANCE)
    return contract.DEFAULT_EFFECT_TOLERANCE if value is None else int(value)


def clip_length(num_frames: int, max_frames: int | None) -> int:
    return num_frames if max_frames is None else min(num_frames, max_frames)


def choose_split(root: Path, split: str | None, available: list[str], what: str,
                 prefer: str = PREFERRED_SPLIT) -> str:
    """`split` when given; else `prefer` when present, else the only split there is (said in the log)."""
    present = sorted(set(available))
    if split is not None:
        if split not in present:
            shown = ", ".join(present) or "none"
            raise GenbenchError(f"{root}: no {what} in split {split!r} (splits with {what}: {shown}); pass --split")
        return split
    if prefer in present:
        return prefer
    if len(present) == 1:
        log.info("%s: using split %r, the only one with %s", root, present[0], what)
        return present[0]
    if not present:
        raise GenbenchError(f"{root}: no {what} in any split")
    raise GenbenchError(f"{root}: {what} in splits {', '.join(present)} and none is {prefer!r}; "
                        "choose one with --split")


def removal_samples(root: Path, split: str | None, prefer: str = PREFERRED_SPLIT) -> list[Sample]:
    """The manifest's samples of `split` (None: see `choose_split`), sorted by sample id."""
    read_info(root)  # schema check
    samples = read_manifest(root)
    split = choose_split(root, split, [s.split for s in samples], "samples", prefer)
    return sorted((s for s in samples if s.split == split), key=lambda s: s.sample_id)


def layering_scenes(root: Path, split: str | None) -> list[SceneMeta]:
    """Scenes of `split` (None: see `choose_split`) that have ground-truth layers, sorted by id."""
    read_info(root)
    all_metas = [read_meta(root, sid) for sid in sorted({s.scene_id for s in read_manifest(root)})]
    with_layers = [m for m in all_metas if has_layers(m)]
    split = choose_split(root, split, [m.split for m in with_layers], "scenes with ground-truth layers")
    return [m for m in with_layers if m.split == split]


def has_layers(meta: SceneMeta) -> bool:
    ids = meta.object_ids
    return (bool(ids) and sorted(meta.layers) == sorted(ids) and contract.BG in meta.videos
            and all(contract.solo_video(k) in meta.videos for k in ids))


def effect_masks(root: Path, meta: SceneMeta, objects: tuple[int, ...] | list[int], count: int
                 ) -> dict[str, np.ndarray]:
    """Effect kind -> (T, H, W) bool: where any of `objects` has an effect of that kind (first `count` frames)."""
    folder = scene_dir(root, meta.scene_id) / contract.MASKS_DIR / contract.EFFECTS_DIR
    out: dict[str, np.ndarray] = {}
    for k in objects:
        for kind in meta.effects.get(k, []):
            mask = read_frames(folder / str(k) / kind, count) > 0
            out[kind] = out[kind] | mask if kind in out else mask
    return out


def dynamics_mask(root: Path, meta: SceneMeta, objects: tuple[int, ...] | list[int], count: int
                  ) -> np.ndarray | None:
    """(T, H, W) bool: where removing `objects` changes how other objects move (masks/changed/<k>/, first `count`
    frames), or None when the scene records no changed region for any of them."""
    folder = scene_dir(root, meta.scene_id) / contract.MASKS_DIR / contract.CHANGED_DIR
    masks = [read_frames(folder / str(k), count) > 0 for k in objects if k in meta.changed]
    return np.logical_or.reduce(masks) if masks else None


@dataclass
class RemovalItem:
    """frames, target: (T, H, W, 3) uint8; trimask: (T, H, W) uint8 in {0, 128, 255}; tolerance: uint8 levels;
    effects: effect kind -> (T, H, W) bool where the removed objects' effect of that kind is (when recorded);
    dynamics: (T, H, W) bool where other objects move differently without the removed ones (when recorded)."""

    sample: Sample
    frames: np.ndarray
    trimask: np.ndarray
    target: np.ndarray
    tolerance: int
    effects: dict[str, np.ndarray] = field(default_factory=dict)
    dynamics: np.ndarray | None = None

    @property
    def item_id(self) -> str:
        return self.sample.sample_id


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
    if not target:
        return RemovalItem(sample, frames, tri, np.empty((0,), np.uint8), effect_tolerance(meta.quality))
    return RemovalItem(sample, frames, tri, read_frames(folder / contract.RGB_DIR / sample.target, t),
                       effect_tolerance(meta.quality), effect_masks(root, meta, sample.remove, t),
                       dynamics_mask(root, meta, sample.remove, t))


@dataclass
class LayeringItem:
    """One scene with GT layers. frames, bg: (T, H, W, 3) uint8; visible: (T, H, W) uint8 ids;
    objects: object id -> (T, H, W) bool where it is (amodal when stored, else visible);
    solo: id -> (T, H, W, 3) uint8; layers: id -> (T, H, W, 4) uint8 RGBA;
    effects: id -> effect kind -> (T, H, W) bool (when recorded)."""

    meta: SceneMeta
    frames: np.ndarray
    visible: np.ndarray
    bg: np.ndarray = field(default_factory=lambda: np.empty((0,), np.uint8))
    objects: dict[int, np.ndarray] = field(default_factory=dict)
    solo: dict[int, np.ndarray] = field(default_factory=dict)
    layers: dict[int, np.ndarray] = field(default_factory=dict)
    effects: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    tolerance: int = contract.DEFAULT_EFFECT_TOLERANCE

    @property
    def item_id(self) -> str:
        return self.meta.scene_id

    def visible_masks(self) -> dict[int, np.ndarray]:
        """What a layering method gets: object id -> (T, H, W) bool where it is visible."""
        return {k: self.visible == k for k in self.meta.object_ids}


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
            item.effects[k] = effect_masks(root, meta, [k], t)
            if k in meta.amodal:
                item.objects[k] = read_frames(folder / contract.MASKS_DIR / contract.AMODAL_DIR / str(k), t) > 0
            else:
                item.objects[k] = item.visible == k
    return item
