"""Physics counterfactuals (`--counterfactual physics`): minus_k as the scene would have played out without k.

Under the default `visual` counterfactual, minus_k leaves k out of the render only, so an object k
struck keeps moving as if struck. With `physics`, the scene is simulated a second time without k
(`simulate(..., without=k)`: same set-up, k taken out at frame 0, so every other object starts in
the same state). An object whose pose then departs from the full simulation's by more than
`AFFECTED_METRES` or `AFFECTED_RADIANS` in some frame is *affected*; from its first such frame on it
takes its counterfactual path, before that (and every other object, always) keeps the full path
bit for bit, so a scene in which k touches nothing renders exactly as under `visual`.

The *changed region* of k is where that altered motion shows: the pixels of the affected objects that
moved in `full` or in `minus_k` (from both index passes), grown by the mask dilation, plus each
connected part of k's effect mask (|full - minus_k| above the tolerance: their shadows, reflections)
that touches them. minus_k takes its render there (as inside k's effect mask), and the sample's
trimask marks it uncertain: a removal method is not asked to invent the one right alternative motion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from genbench import contract
from genbench.generators.kubric.plan import Poses, moved
from genbench.records import Instance, SampleSpec, TrimaskSpec
from genbench.trimask import dilate, mark_uncertain, trimask

AFFECTED_METRES = 1e-3  # a pose this far from the full simulation's has moved differently
AFFECTED_RADIANS = 1e-3


@dataclass(frozen=True)
class World:
    """minus_k's world: `poses` of every object but k, `affected` the ids whose motion differs from `full`."""

    removed: int
    poses: Poses
    affected: tuple[int, ...]

    def moved(self, full: Poses, t: int) -> list[int]:
        """The affected objects whose pose at frame t differs from their pose in `full`."""
        at = {j: (p[t], q[t]) for j, (p, q) in full.items()}
        return moved(at, {j: (self.poses[j][0][t], self.poses[j][1][t]) for j in self.affected})


def departs(full: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(T,) bool: frames where `other`'s pose is more than the tolerances away from `full`'s."""
    shift = np.linalg.norm(other[0] - full[0], axis=1)
    chord = np.minimum(np.linalg.norm(other[1] - full[1], axis=1), np.linalg.norm(other[1] + full[1], axis=1))
    turn = 4 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))  # the angle between two rotations from their quaternions
    return (shift > AFFECTED_METRES) | (turn > AFFECTED_RADIANS)


def world_without(k: int, full: Poses, alone: Poses) -> World:
    """minus_k's world from the full poses and those of a simulation without k (`alone`, every id but k)."""
    poses: Poses = {}
    affected = []
    for j in sorted(alone):
        apart = departs(full[j], alone[j])
        if not apart.any():
            poses[j] = full[j]
            continue
        first = int(np.argmax(apart))
        poses[j] = (np.concatenate([full[j][0][:first], alone[j][0][first:]]),
                    np.concatenate([full[j][1][:first], alone[j][1][first:]]))
        affected.append(j)
    return World(k, poses, tuple(affected))


def physics_worlds(spec: dict[str, Any], meshes: dict[int, np.ndarray], full: Poses, *, frames: int, fps: float,
                   decimals: int) -> dict[int, World]:
    """Target id -> its world, simulated without it (poses rounded to `decimals` like the full ones)."""
    from genbench.generators.kubric.simulate import simulate

    out = {}
    for k in spec["targets"]:
        alone = {j: (np.round(tr.positions, decimals), np.round(tr.quaternions, decimals))
                 for j, tr in simulate(spec, meshes, frames=frames, fps=fps, without=k).items()}
        out[k] = world_without(k, full, alone)
    return out


def changed_region(world: World, full: Poses, visible_full: np.ndarray, visible_minus: np.ndarray,
                   effect: np.ndarray, dilation: int) -> np.ndarray:
    """(T, H, W) bool: where the affected objects moved, in full or minus_k, and the effects joined to them.

    visible_full, visible_minus: (T, H, W) uint8 ids of both index passes; effect: k's effect mask.
    """
    import cv2

    here = np.stack([np.isin(visible_full[t], ids) | np.isin(visible_minus[t], ids)
                     for t, ids in enumerate(world.moved(full, t) for t in range(len(visible_full)))])
    grown = dilate(here, dilation)
    out = grown.copy()
    for t in range(len(out)):
        if not grown[t].any():
            continue
        _, labels = cv2.connectedComponents((effect[t] | grown[t]).astype(np.uint8), connectivity=8)
        out[t] |= np.isin(labels, np.unique(labels[grown[t]]))
    return out


def physics_samples(samples: list[SampleSpec], worlds: dict[int, World]) -> list[SampleSpec]:
    """The scene's samples, removing k with affected objects: recorded, and a stored trimask."""
    out = []
    for s in samples:
        world = worlds.get(s.remove[0]) if len(s.remove) == 1 else None
        if world is None or not world.affected:
            out.append(s)
            continue
        out.append(SampleSpec(remove=s.remove, trimask=TrimaskSpec(s.trimask.dilation, s.trimask.band, stored=True),
                              affected=world.affected))
    return out


def physics_paths(instances: list[Instance], worlds: dict[int, World]) -> list[Instance]:
    """The instances, each affected one with its path in every minus_k that renders it elsewhere:
    ``without: {"<k>": {"positions": (T, 3), "quaternions": (T, 4)}}`` beside its full path."""
    out = []
    for inst in instances:
        paths = {str(k): {"positions": w.poses[inst.id][0].tolist(), "quaternions": w.poses[inst.id][1].tolist()}
                 for k, w in sorted(worlds.items()) if inst.id in w.affected}
        out.append(replace(inst, extra={**inst.extra, "without": paths}) if paths else inst)
    return out


def physics_trimasks(scene_id: str, samples: list[SampleSpec], visible: np.ndarray,
                     changed: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """Sample id -> stored trimask: the derived one with the removed object's changed region uncertain."""
    return {contract.sample_id(scene_id, s.remove): mark_uncertain(trimask(visible, s.remove, s.trimask),
                                                                   changed[s.remove[0]])
            for s in samples if s.affected}
