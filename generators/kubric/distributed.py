"""The same per-scene task on a Ray cluster: `genbench render --executor ray [--address ADDR]`.

A sibling of `genbench.runner.run_generation` with the same contract: scenes already
complete are skipped, a failing scene is retried `retries` times and then recorded in
failures.json, a folder made with other settings is refused, and the manifest is rebuilt at
the end. Each scene is one Ray task that renders and writes straight into `root`, so on a
cluster `root` must be a path every node sees (a shared file system).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genbench.dataset import finalize
from genbench.errors import DatasetError, GenbenchError
from genbench.progress import get_logger, make_progress
from genbench.runner import FAILURES_FILE, RunSummary, check_compatible
from genbench.scene import Scene, scene_complete, write_json, write_scene

log = get_logger("render.ray")


def make_and_write(make_scene: Callable[[int], Scene], root: str, index: int, retries: int) -> str:
    """Ray task body: make scene `index` and write it under `root`. Returns "ok" or the last error."""
    error = ""
    for _attempt in range(retries + 1):
        try:
            write_scene(Path(root), make_scene(index))
            return "ok"
        except Exception as exc:  # a failing scene must not stop the run
            error = f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return error


def run_generation_ray(
    root: Path,
    *,
    name: str,
    generator: str,
    settings: dict[str, Any],
    count: int,
    make_scene: Callable[[int], Scene],
    scene_id_of: Callable[[int], str],
    address: str | None = None,
    cpus_per_scene: float = 1.0,
    retries: int = 2,
    init_kwargs: dict[str, Any] | None = None,
) -> RunSummary:
    """Make scenes 0..count-1 under `root` as Ray tasks, then finalize the dataset.

    address: a running cluster ("auto", "ray://host:10001", "host:6379"); None starts a local Ray.
    init_kwargs: extra `ray.init` arguments for a local Ray (e.g. num_cpus in tests).
    """
    try:
        import ray
    except ImportError:
        raise GenbenchError("--executor ray needs Ray: pip install 'ray[default]'") from None
    root = Path(root).resolve()
    if count < 0:
        raise DatasetError(f"--scenes must be >= 0, got {count}")
    check_compatible(root, generator, settings)
    root.mkdir(parents=True, exist_ok=True)
    summary = RunSummary(root)
    start = time.perf_counter()
    pending = []
    for i in range(count):
        (summary.skipped if scene_complete(root, scene_id_of(i)) else pending).append(i)
    summary.skipped = [scene_id_of(i) for i in summary.skipped]

    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "include_dashboard": False}
        kwargs.update(init_kwargs or {})
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise GenbenchError(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    try:
        task = ray.remote(num_cpus=cpus_per_scene, max_retries=0)(make_and_write)
        maker_ref = ray.put(make_scene)
        futures = {task.remote(maker_ref, str(root), i, retries): i for i in pending}
        with make_progress("scenes") as progress:
            bar = progress.add_task(f"{generator} on ray -> {root}", total=count, completed=count - len(pending))
            while futures:
                done, _ = ray.wait(list(futures), num_returns=1)
                for ref in done:
                    index = futures.pop(ref)
                    try:
                        status = ray.get(ref)
                    except Exception as exc:  # the worker itself died (out of memory, node lost)
                        status = f"{exc.__class__.__name__}: {exc}"
                    sid = scene_id_of(index)
                    if status == "ok":
                        summary.written.append(sid)
                    else:
                        summary.failed[sid] = status
                        log.warning("scene %s failed after %d attempts: %s", sid, retries + 1, status.splitlines()[0])
                    progress.advance(bar)
    finally:
        if started_here:
            ray.shutdown()

    failures = root / FAILURES_FILE
    if summary.failed:
        write_json(failures, {"failed": summary.failed})
    elif failures.exists():
        failures.unlink()
    summary.written.sort()
    summary.info = finalize(root, name=name, generator=generator, settings=settings)
    summary.seconds = time.perf_counter() - start
    return summary
