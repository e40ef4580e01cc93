"""Which renders a scene needs: every (variant, frame) pair, with identical ones rendered once.

A variant is a set of objects left in the render (`full`: all, `bg`: none, `minus_k`: all
but k, `solo_k`: only k). Two (variant, frame) pairs whose camera pose and whose visible
objects' poses are bit-identical give bit-identical pixels (same Cycles seed and settings),
so they share one render: `bg` under a static camera is rendered once, `solo_1` of a
one-object scene is `full`, `minus_1` of a two-object scene is `solo_2`, and so on. Pure
Python, no bpy.

Under physics counterfactuals a `minus_k` variant may have a world of its own: the poses of
the objects that k's removal set moving differently (`worlds`: variant name -> poses). Its
renders use those poses, and its windows also cover those objects where they are in either world.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genbench import contract
from genbench.generators.kubric.region import MERGE_SLACK, EffectBounds, Rect, merge, screen_windows

Poses = dict[int, tuple[np.ndarray, np.ndarray]]  # object id -> (positions (T, 3), quaternions (T, 4))


@dataclass(frozen=True)
class Variant:
    """A video to render: its name, the object ids left in, whether its index pass is needed,
    and what it is (`kind` full/bg/minus/solo, `object_id` k for minus_k and solo_k)."""

    name: str
    visible: frozenset[int]
    index: bool = False
    kind: str = "full"
    object_id: int = 0


@dataclass
class RenderJob:
    """One render: the frame whose poses it uses, the objects shown, every (variant, frame) it serves,
    and the pixel windows to render (None: the whole frame; []: nothing, the variant equals its reference);
    world: the variant whose own poses it renders (None: the scene's)."""

    frame: int
    visible: frozenset[int]
    index: bool
    uses: list[tuple[str, int]] = field(default_factory=list)
    windows: list[Rect] | None = None
    world: str | None = None


def scene_variants(ids: list[int], targets: list[int], indexed: frozenset[int] = frozenset()) -> list[Variant]:
    """full and solo_k need the index pass (visible and amodal masks); bg and minus_k do not, but for the
    objects `indexed` (a physics counterfactual: where the objects that move differently are)."""
    everything = frozenset(ids)
    variants = [Variant(contract.FULL, everything, index=True), Variant(contract.BG, frozenset(), kind="bg")]
    variants += [Variant(contract.minus_video(k), everything - {k}, index=k in indexed, kind="minus", object_id=k)
                 for k in targets]
    variants += [Variant(contract.solo_video(k), frozenset({k}), index=True, kind="solo", object_id=k)
                 for k in targets]
    return variants


def variant_windows(variants: list[Variant], bounds: EffectBounds, camera: tuple[np.ndarray, np.ndarray],
                    objects: Poses, *, focal_mm: float, sensor_mm: float, size: int, margin: int,
                    worlds: dict[str, Poses] | None = None) -> dict[tuple[str, int], list[Rect] | None]:
    """The pixel windows each (variant, frame) must render for exact ground truth (None: the whole frame).

    full: everything. bg: every object's effects. minus_k: k's effects on the scene without k, and with a
    world of its own (`worlds`) the effects of every object whose pose differs there, at both poses.
    solo_k: k's effects on the empty scene.
    """
    out: dict[tuple[str, int], list[Rect] | None] = {}
    everything = frozenset(objects)
    worlds = worlds or {}
    for t in range(len(camera[0])):
        pose = {k: (p[t], q[t]) for k, (p, q) in objects.items()}
        lone = {k: bounds.components(k, pose) for k in objects}

        def window(parts: list[list[np.ndarray] | None], t: int = t) -> list[Rect] | None:
            if any(p is None for p in parts):
                return None
            points = [x for p in parts if p is not None for x in p]
            return screen_windows(points, camera[0][t], camera[1][t], focal_mm=focal_mm, sensor_mm=sensor_mm,
                                  size=size, margin=margin)

        for v in variants:
            if v.kind == "full":
                out[(v.name, t)] = None
            elif v.kind == "bg":
                out[(v.name, t)] = window(list(lone.values()))
            elif v.kind == "solo":
                out[(v.name, t)] = window([lone[v.object_id]])
            else:
                parts = [bounds.components(v.object_id, pose, v.visible)]
                if v.name in worlds:
                    own = {k: (p[t], q[t]) for k, (p, q) in worlds[v.name].items()}
                    for j in moved(pose, own):
                        parts += [bounds.components(j, pose, everything), bounds.components(j, own, v.visible)]
                out[(v.name, t)] = window(parts)
    return out


def moved(pose: dict[int, tuple[np.ndarray, np.ndarray]], own: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Ids of `own` whose pose at a frame (position, quaternion) is not bit-identical to `pose`'s."""
    return [j for j, (p, q) in sorted(own.items())
            if not (np.array_equal(p, pose[j][0]) and np.array_equal(q, pose[j][1]))]


def plan_renders(variants: list[Variant], camera: tuple[np.ndarray, np.ndarray], objects: Poses, *,
                 dedupe: bool = True, windows: dict[tuple[str, int], list[Rect] | None] | None = None,
                 size: int = 0, worlds: dict[str, Poses] | None = None) -> list[RenderJob]:
    """Render jobs covering every (variant, frame), frame-major.

    camera: positions (T, 3), quaternions (T, 4); objects: id -> (positions (T, 3), quaternions (T, 4)).
    With dedupe=False every pair is its own job (the naive reference). windows: what each
    (variant, frame) needs (missing or None: the whole frame); a job renders all of its uses' windows,
    merged as in `region.merge` for frames `size` pixels wide. worlds: variant name -> the poses it
    renders instead of `objects` (a physics counterfactual's).
    """
    frames = len(camera[0])
    worlds = worlds or {}
    jobs: dict[bytes, RenderJob] = {}
    ordered: list[RenderJob] = []
    for t in range(frames):
        for v in variants:
            poses = worlds.get(v.name, objects)
            if dedupe:
                parts = [np.ascontiguousarray(camera[0][t]).tobytes(), np.ascontiguousarray(camera[1][t]).tobytes()]
                for k in sorted(v.visible):
                    parts += [k.to_bytes(2, "little"), np.ascontiguousarray(poses[k][0][t]).tobytes(),
                              np.ascontiguousarray(poses[k][1][t]).tobytes()]
                key = b"|".join(parts)
            else:
                key = f"{v.name}/{t}".encode()
            job = jobs.get(key)
            if job is None:
                job = jobs[key] = RenderJob(frame=t, visible=v.visible, index=v.index,
                                            world=v.name if v.name in worlds else None)
                ordered.append(job)
            job.index = job.index or v.index
            job.uses.append((v.name, t))
    for job in ordered:
        needed = [None if windows is None else windows.get(use) for use in job.uses]
        if any(w is None for w in needed):
            job.windows = None
        else:
            job.windows = merge([r for w in needed if w is not None for r in w], int(MERGE_SLACK * size * size))
    return ordered
