"""One paste scene end to end: draw clips and parameters -> composite -> Scene.

`PasteMaker(settings, sources, targets)` is the picklable per-scene task the runner calls
with an index; `scene_id(settings, index)` names its folder. Scene `index` draws everything
from ``SeedSequence((seed, index))``, so the same inputs and settings give the same bytes.
`bg` is the target clip exactly as read (after the optional `max_size` downscale); `full`
is the composite; the pasted object is instance 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from genbench import contract
from genbench.errors import GenbenchError
from genbench.generators.bboxes import mask_bboxes
from genbench.generators.paste.composite import Pasted, paste, paste_trimask
from genbench.generators.paste.sample import sample_look, sample_motion, sample_trimask, trimask_spec
from genbench.generators.paste.settings import PasteSettings
from genbench.generators.paste.sources import (
    GENBENCH,
    SourceClip,
    TargetClip,
    load_ids,
    load_target,
    load_track,
    target_info,
)
from genbench.records import Instance, SampleSpec, SceneMeta
from genbench.scene import Scene

GENERATOR = "paste"
MAX_ATTEMPTS = 16  # draws of (source, object, target) before a scene is given up
OBJECT_ID = 1


def scene_id(settings: PasteSettings, index: int) -> str:
    return f"{GENERATOR}-s{settings.seed}-{index:06d}"


@lru_cache(maxsize=4)
def _ids(clip: SourceClip, max_size: int | None) -> np.ndarray:
    return load_ids(clip, max_size=max_size)


def _anchor(mask: np.ndarray) -> tuple[float, float]:
    """Median (y, x) centroid of a (T, H, W) bool mask over the frames where it is present."""
    centroids = [np.argwhere(m).mean(axis=0) for m in mask if m.any()]
    return tuple(float(v) for v in np.median(np.array(centroids), axis=0))  # type: ignore[return-value]


def min_frames(settings: PasteSettings, clip_frames: int) -> int:
    """Fewest frames an object must be present in: `settings.min_frames`, or every frame of a shorter clip
    (`clip_frames`: the most frames a scene can have from this source and target)."""
    return max(1, min(settings.min_frames, clip_frames))


@dataclass(frozen=True)
class _Draw:
    source: SourceClip
    object_id: int
    source_start: int
    target: TargetClip
    target_start: int
    num_frames: int
    fps: float | None


def _draw(settings: PasteSettings, sources: tuple[SourceClip, ...], targets: tuple[TargetClip, ...],
          rng: np.random.Generator) -> tuple[_Draw | None, str]:
    """Pick a source object, a source window where it is present, a target and a target window."""
    source = sources[int(rng.integers(len(sources)))]
    target = targets[int(rng.integers(len(targets)))]
    ids = _ids(source, settings.max_size)
    info = target_info(target)
    n = min(settings.frames, len(ids), info.num_frames)
    need = min_frames(settings, n)
    present = {int(k): (ids == k).any(axis=(1, 2)) for k in np.unique(ids) if k != 0}
    candidates = sorted(k for k, p in present.items() if p.sum() >= need)
    if not candidates:
        return None, f"source {source.name} has no object present in >= {need} frames"
    k = candidates[int(rng.integers(len(candidates)))]
    starts = [s for s in range(len(ids) - n + 1) if present[k][s:s + n].mean() >= 0.5]
    if not starts:
        return None, f"object {k} of {source.name} is present in fewer than half of any {n} frames"
    source_start = starts[int(rng.integers(len(starts)))]
    target_start = int(rng.integers(info.num_frames - n + 1))
    return _Draw(source, k, source_start, target, target_start, n, info.fps), ""


@dataclass(frozen=True)
class PasteMaker:
    """Picklable task: scene `index` of a paste dataset (see module docstring)."""

    settings: PasteSettings
    sources: tuple[SourceClip, ...]
    targets: tuple[TargetClip, ...]

    def __call__(self, index: int) -> Scene:
        return make_paste_scene(self.settings, self.sources, self.targets, index)


def make_paste_scene(settings: PasteSettings, sources: tuple[SourceClip, ...], targets: tuple[TargetClip, ...],
                     index: int) -> Scene:
    """Scene `index`: a fixed function of (settings, the clips, index). Raises GenbenchError when no
    usable paste is found in MAX_ATTEMPTS draws (the runner records it in failures.json)."""
    start = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence((settings.seed, index)))
    reason = ""
    for attempt in range(MAX_ATTEMPTS):
        draw, reason = _draw(settings, sources, targets, rng)
        if draw is None:
            continue
        n = draw.num_frames
        bg = load_target(draw.target, draw.target_start, draw.target_start + n, max_size=settings.max_size)
        ids = _ids(draw.source, settings.max_size)
        track = load_track(draw.source, ids, draw.object_id, draw.source_start, draw.source_start + n,
                           max_size=settings.max_size)
        n = min(len(bg), len(track.rgb))  # a container's frame count can be approximate
        bg, track.rgb, track.mask = bg[:n], track.rgb[:n], track.mask[:n]
        track.alpha = None if track.alpha is None else track.alpha[:n]
        hw = (bg.shape[1], bg.shape[2])
        motion = sample_motion(n, track.rgb.shape[1:3], _anchor(track.mask), hw, settings.scale_range, rng=rng)
        look = sample_look(hw, settings.shadow, rng=rng)
        choice = sample_trimask(hw, rng=rng)
        pasted = paste(track, bg, motion, look)
        area = pasted.visible.mean(axis=(1, 2))
        if (area >= settings.min_area).mean() < 0.5:
            reason = (f"pasted object covers >= {settings.min_area:.2%} of the frame in fewer than half the frames "
                      f"(median {np.median(area):.2%})")
            continue
        spec = {
            "attempt": attempt,
            "source": {"layout": draw.source.layout, "name": draw.source.name, "object_id": draw.object_id,
                       "start": draw.source_start},
            "target": {"name": draw.target.name, "start": draw.target_start},
            "motion": motion,
            "look": look,
            "trimask": choice,
            "split": "train",
        }
        timings = {"total": round(time.perf_counter() - start, 4)}
        return _scene(settings, index, spec, bg, pasted, draw, timings)
    raise GenbenchError(f"no usable paste for scene {index} after {MAX_ATTEMPTS} draws; last: {reason}")


def _scene(settings: PasteSettings, index: int, spec: dict[str, Any], bg: np.ndarray, pasted: Pasted, draw: _Draw,
           timings: dict[str, float]) -> Scene:
    changed = (pasted.full != bg).any(axis=-1)
    derived = trimask_spec(spec["trimask"])
    tri, stored = paste_trimask(pasted.visible, changed, spec["trimask"], derived)
    spec["trimask"]["stored"] = stored
    sample = SampleSpec(remove=(OBJECT_ID,), trimask=trimask_spec(spec["trimask"], stored=stored))
    n, h, w = bg.shape[:3]
    visible = pasted.visible.astype(np.uint8) * OBJECT_ID
    boxes, box_frames = mask_bboxes(pasted.visible)
    meta = SceneMeta(
        scene_id=scene_id(settings, index), generator=GENERATOR, seed=settings.seed, index=index,
        num_frames=n, height=h, width=w, fps=float(draw.fps or settings.fps), split=spec["split"],
        instances=[Instance(
            id=OBJECT_ID, asset_id=f"{draw.source.layout}:{draw.source.name}#{draw.object_id}", kind="pasted",
            extra={"bboxes": boxes, "bbox_frames": box_frames,
                   "visibility": [int(v) for v in pasted.visible.sum(axis=(1, 2))],
                   "has_effects": bool(draw.source.layout == GENBENCH and pasted.alpha[~pasted.visible].any())})],
        videos=[contract.FULL, contract.BG], layers=[], amodal=[OBJECT_ID], samples=[sample],
        settings=settings.to_dict(), spec=spec, run={"timings": timings},
        quality={
            "changed_pixels": int(changed.sum()),
            "changed_outside_object": int((changed & ~pasted.visible).sum()),
            "shadow_pixels": int((pasted.shadow > 0).sum()),
            "trimask_stored": stored,
        },
    )
    trimasks = {contract.sample_id(meta.scene_id, (OBJECT_ID,)): tri} if stored else {}
    return Scene(meta=meta, rgb={contract.FULL: pasted.full, contract.BG: bg}, visible=visible,
                 amodal={OBJECT_ID: np.where(pasted.visible, 255, 0).astype(np.uint8)}, trimasks=trimasks)
