"""A Kubric-style dataset made end to end: the library call behind `genbench render` and the benchmark's builds.

`render_dataset(out, settings, count, RenderRun(...))` renders scenes 0..count-1 of `settings` into `out`
(a folder, or a URL fsspec reaches) through the runner (resumable, retries, failures.json, the manifest at the
end), locally or on Ray, then adds the per-scene previews and the dataset's contact sheet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from genbench.errors import GenbenchError, require_at_least
from genbench.generators.kubric.settings import RenderSettings
from genbench.runner import RunSummary
from genbench.storage import Root, output_root

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class RenderRun:
    """How a render runs, never what it renders (no pixel depends on these but `device`: CPU vs GPU bytes).

    workers: local worker processes; device: Cycles device (auto, cpu, gpu); executor: local pool or Ray;
    address: a running Ray cluster (None starts a local Ray); cpus_per_scene: with Ray, the CPUs each scene's
    task reserves and the Cycles threads it renders with.
    """

    workers: int = 1
    device: str = "auto"
    executor: str = "local"
    address: str | None = None
    cpus_per_scene: int = 1

    def check(self) -> None:
        require_at_least("--workers", self.workers)
        if self.executor not in EXECUTORS:
            raise GenbenchError(f"unknown executor {self.executor!r}; choose one of {', '.join(EXECUTORS)}")
        if self.address and self.executor != "ray":
            raise GenbenchError("--address needs --executor ray")
        require_at_least("--cpus-per-scene", self.cpus_per_scene)
        if self.cpus_per_scene != 1 and self.executor != "ray":
            raise GenbenchError("--cpus-per-scene needs --executor ray (a local run gives each of its --workers an "
                                "equal share of the cores)")


@dataclass(frozen=True)
class RenderResult:
    """What `render_dataset` did: the runner's summary and the contact sheet it wrote (None when nothing to show)."""

    summary: RunSummary
    contact_sheet: Root | None


def render_dataset(out: Root, settings: RenderSettings, count: int, run: RenderRun = RenderRun()) -> RenderResult:
    """Render scenes 0..count-1 of `settings` into `out`, then write the previews and the contact sheet."""
    from genbench.contact_sheet import write_contact_sheet
    from genbench.generators.kubric.make import GENERATOR, RenderOptions, SceneMaker
    from genbench.generators.kubric.preview import write_missing_previews

    run.check()
    out = output_root(out)
    name = f"{GENERATOR}-{settings.preset}-s{settings.seed}"
    if run.executor == "ray":
        from genbench.generators.kubric.distributed import run_generation_ray

        maker = SceneMaker(settings, RenderOptions(device=run.device, threads=run.cpus_per_scene))
        summary = run_generation_ray(out, name=name, generator=GENERATOR, settings=settings.to_dict(), count=count,
                                     make_scene=maker, scene_id_of=maker.scene_id, address=run.address,
                                     cpus_per_scene=run.cpus_per_scene)
    else:
        from genbench.runner import run_generation

        if run.device == "gpu":  # no GPU here: one line before anything is written, not a failure per scene
            from genbench.generators.kubric.blender import select_device

            select_device(run.device)
        threads = 0 if run.workers == 1 else max(1, (os.cpu_count() or 1) // run.workers)
        maker = SceneMaker(settings, RenderOptions(device=run.device, threads=threads))
        summary = run_generation(out, name=name, generator=GENERATOR, settings=settings.to_dict(), count=count,
                                 make_scene=maker, scene_id_of=maker.scene_id, workers=run.workers)
    write_missing_previews(out)
    return RenderResult(summary, write_contact_sheet(out))
