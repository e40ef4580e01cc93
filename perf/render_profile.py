"""`perf/render.py --profile`: scenes per hour per core with 1 and 2 worker processes, and where a scene's time goes.

Each worker count runs `genbench render` as a user would (a fresh process, `--workers W`, into a temporary
folder), timed from outside by wall time (the pool's workers are children of a fork server, so their CPU time
does not reach this process's accounting; run it on an otherwise idle machine). The per-scene
overhead is broken out from what the scenes record in run.json (`timings`: sample, build the Blender scene,
simulate, render, exact ground truth, effect kinds), plus two costs run.json cannot see:

- Blender start-up: `import bpy` in a fresh process (paid once per worker process: the local pool keeps its
  processes, and with them Blender, alive across scenes; a Ray worker likewise);
- writing the scene: `write_scene` of one finished scene again, timed here.

"other" is what remains of a scene's share of worker time (process start, pickling, the manifest, previews,
the contact sheet). Figures are per scene, in seconds of one worker's wall time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from genbench.generators.kubric.settings import RenderSettings
from genbench.scene import list_scene_ids, read_json, read_scene, scene_dir, write_scene

STAGES = ("sample", "build", "simulate", "render", "exact", "kinds")


def _genbench() -> str:
    found = shutil.which("genbench") or str(Path(sys.executable).with_name("genbench"))
    if not Path(found).exists():
        raise SystemExit("genbench is not installed beside this Python: run make install")
    return found


def blender_startup_seconds(repeats: int = 2) -> float:
    """The fastest of `repeats` fresh processes timing `import bpy` (the first may pay for a cold disk cache)."""
    code = "import time; t = time.perf_counter(); import bpy; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
                   .stdout.split()[-1]) for _ in range(repeats)]
    return min(times)


def write_seconds(root: Path) -> float:
    """Seconds to write the first scene of `root` again (PNG encoding and files), into a temporary folder."""
    scene = read_scene(root, list_scene_ids(root)[0])
    with tempfile.TemporaryDirectory(prefix="genbench-write-") as tmp:
        start = time.perf_counter()
        write_scene(Path(tmp), scene)
        return time.perf_counter() - start


def render_run(settings: RenderSettings, scenes: int, workers: int, out: Path) -> dict[str, Any]:
    """`genbench render` of `scenes` scenes with `workers` processes into `out`: wall and stage seconds."""
    argv = [_genbench(), "render", "--scenes", str(scenes), "--out", str(out), "--seed", str(settings.seed),
            "--preset", settings.preset, "--resolution", str(settings.resolution), "--frames", str(settings.frames),
            "--samples", str(settings.samples), "--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    stages = dict.fromkeys(STAGES, 0.0)
    ids = list_scene_ids(out)
    for sid in ids:
        timings = read_json(scene_dir(out, sid) / "run.json").get("timings", {})
        for stage in STAGES:
            stages[stage] += float(timings.get(stage, 0.0))
    return {"workers": workers, "scenes": len(ids), "wall_s": wall,
            "stages_s": {k: v / len(ids) for k, v in stages.items()}}


def profile(settings: RenderSettings, scenes: int, worker_counts: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Scenes per hour per core at each worker count, and the per-scene breakdown of the first run."""
    cores = os.cpu_count() or 1
    startup = blender_startup_seconds()
    runs = []
    write_s = 0.0
    for workers in worker_counts:
        with tempfile.TemporaryDirectory(prefix="genbench-profile-") as tmp:
            run = render_run(settings, scenes, workers, Path(tmp) / "data")
            if not runs:
                write_s = write_seconds(Path(tmp) / "data")
        run["scenes_per_hour"] = run["scenes"] / run["wall_s"] * 3600
        run["scenes_per_hour_per_core"] = run["scenes_per_hour"] / cores
        worker_s = run["wall_s"] * workers / run["scenes"]  # one scene's share of the workers' wall time
        known = sum(run["stages_s"].values()) + write_s + startup * workers / run["scenes"]
        run["breakdown_s"] = {"blender start-up (per worker, amortised)": startup * workers / run["scenes"],
                              **run["stages_s"], "write": write_s, "other": max(0.0, worker_s - known)}
        run["worker_s_per_scene"] = worker_s
        runs.append(run)
    return {"cores": cores, "blender_startup_s": startup, "write_s": write_s, "runs": runs,
            "scaling": runs[-1]["scenes_per_hour"] / runs[0]["scenes_per_hour"]}


def print_profile(result: dict[str, Any]) -> None:
    print(f"Blender start-up (import bpy, fresh process): {result['blender_startup_s']:.2f} s; "
          f"cores: {result['cores']}")
    for run in result["runs"]:
        print(f"workers {run['workers']}: {run['scenes']} scenes in {run['wall_s']:.1f} s wall, "
              f"{run['scenes_per_hour']:.1f} scenes/hour, {run['scenes_per_hour_per_core']:.1f} scenes/hour/core")
        total = run["worker_s_per_scene"]
        for name, seconds in run["breakdown_s"].items():
            print(f"    {name:42s} {seconds:8.2f} s/scene {100 * seconds / total:5.1f}%")
    first, last = result["runs"][0], result["runs"][-1]
    print(f"{last['workers']} workers / {first['workers']}: {result['scaling']:.2f}x scenes per hour")
