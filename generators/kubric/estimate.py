"""`genbench render --scenes N --estimate`: what N scenes will cost, from a few rendered here.

The sample scenes (indices 0..k-1 of the run's seed and settings) are rendered one at a time,
with their previews, into a temporary folder that is deleted afterwards, so `--out` is never
touched. Each one's wall time, CPU time (this process and its children: Blender, pybullet)
and bytes written are measured; the projection for N scenes is their mean times N:

- wall time on this machine, one scene at a time with every core (what `--workers 1` does);
- core-hours (CPU time), which is what a cluster of C cores divides by C;
- output bytes: what the scene folders and previews take on disk, or in an object store.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genbench.scene import Scene, scene_dir, write_scene


@dataclass(frozen=True)
class SampleScene:
    """One sample scene as measured: seconds of wall and CPU time, bytes written (with its preview)."""

    scene_id: str
    wall_s: float
    cpu_s: float
    bytes: int


@dataclass(frozen=True)
class Estimate:
    """The projected cost of `scenes` scenes: the samples' mean per scene, times `scenes`."""

    scenes: int
    samples: tuple[SampleScene, ...]
    cores: int

    @property
    def wall_s_per_scene(self) -> float:
        return sum(s.wall_s for s in self.samples) / len(self.samples)

    @property
    def cpu_s_per_scene(self) -> float:
        return sum(s.cpu_s for s in self.samples) / len(self.samples)

    @property
    def bytes_per_scene(self) -> float:
        return sum(s.bytes for s in self.samples) / len(self.samples)

    @property
    def wall_hours(self) -> float:
        return self.scenes * self.wall_s_per_scene / 3600

    @property
    def core_hours(self) -> float:
        return self.scenes * self.cpu_s_per_scene / 3600

    @property
    def total_bytes(self) -> float:
        return self.scenes * self.bytes_per_scene

    def lines(self) -> list[str]:
        return [
            f"measured: {len(self.samples)} sample scene(s) on this machine ({self.cores} cores): "
            f"{self.wall_s_per_scene:.2f} s wall, {self.cpu_s_per_scene:.2f} CPU s, "
            f"{self.bytes_per_scene:.0f} bytes per scene",
            f"estimate for {self.scenes} scenes: {self.wall_hours:.2f} hours wall on this machine "
            f"({self.wall_hours / 24:.2f} days), {self.core_hours:.2f} core-hours, "
            f"{self.total_bytes / 1e9:.3f} GB of output (on disk or in the object store)",
        ]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_samples(make_scene: Callable[[int], Scene], count: int,
                    write_preview: Callable[[Path, str], object] | None = None) -> tuple[SampleScene, ...]:
    """Render scenes 0..count-1 into a temporary folder (deleted after) and measure each one."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="genbench-estimate-") as tmp:
        root = Path(tmp)
        for index in range(count):
            wall, cpu = time.perf_counter(), cpu_seconds()
            scene = make_scene(index)
            write_scene(root, scene)
            if write_preview is not None:
                write_preview(root, scene.meta.scene_id)
            samples.append(SampleScene(scene.meta.scene_id, time.perf_counter() - wall, cpu_seconds() - cpu,
                                       folder_bytes(scene_dir(root, scene.meta.scene_id))))
    return tuple(samples)


def estimate(make_scene: Callable[[int], Scene], scenes: int, samples: int,
             write_preview: Callable[[Path, str], object] | None = None) -> Estimate:
    return Estimate(scenes, measure_samples(make_scene, samples, write_preview), os.cpu_count() or 1)
