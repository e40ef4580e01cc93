"""The same per-scene task on a Ray cluster: `genbench render --executor ray [--address ADDR]`.

`genbench.runner.run_generation` with a Ray executor, so the contract is the runner's:
scenes already complete are skipped, a failing scene is retried `retries` times and then
recorded in failures.json, a folder made with other settings is refused, and the manifest
is rebuilt at the end. Each scene is one Ray task that renders and writes straight into
`root`, so on a cluster `root` must be a path every node sees (a shared file system).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from genbench.errors import GenbenchError
from genbench.runner import Executor, RunSummary, make_and_write, run_generation
from genbench.scene import Scene
from genbench.storage import is_remote


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
    root = root if is_remote(root) else Path(root).resolve()  # a bucket URL is what every node writes to
    return run_generation(root, name=name, generator=generator, settings=settings, count=count,
                          make_scene=make_scene, scene_id_of=scene_id_of, retries=retries, where="on ray",
                          executor=ray_executor(ray, address, cpus_per_scene, init_kwargs))


def ray_executor(ray: Any, address: str | None, cpus_per_scene: float, init_kwargs: dict[str, Any] | None) -> Executor:
    """Each scene one Ray task writing straight into `root`; joins (or starts) Ray and leaves it as it found it."""

    def execute(make_scene: Callable[[int], Scene], root: Path, indices: list[int],
                retries: int) -> Iterator[tuple[int, str]]:
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
            futures = {task.remote(maker_ref, str(root), i, retries): i for i in indices}
            while futures:
                done, _ = ray.wait(list(futures), num_returns=1)
                for ref in done:
                    index = futures.pop(ref)
                    try:
                        status = ray.get(ref)
                    except Exception as exc:  # the worker itself died (out of memory, node lost)
                        status = f"{exc.__class__.__name__}: {exc}"
                    yield index, status
        finally:
            if started_here:
                ray.shutdown()

    return execute
