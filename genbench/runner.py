"""Run a scene generator over many indices: resumable, parallel, with a progress bar.

Every generator (`render`, `paste`, `tripod`, the toy demo) supplies a picklable
``make_scene(index) -> Scene`` and a ``scene_id_of(index) -> str``; this module does the
rest the same way for all of them:

- scenes that already exist are skipped, so a killed run continues where it stopped;
- a scene that raises is retried ``retries`` times, then written to ``failures.json``
  with its error, and the run goes on;
- a folder made with other settings is refused before anything is written;
- the manifest and dataset.json are rebuilt from the scenes at the end (`finalize`);
- `root` is a folder or any URL fsspec reaches (s3://, gs://): `genbench.storage` commits each
  scene the same all-or-nothing way there.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from rich.progress import Progress

from genbench import contract
from genbench.errors import DatasetError
from genbench.progress import get_logger, make_progress
from genbench.records import DatasetInfo
from genbench.scene import Scene
from genbench.storage import Root, open_output

FAILURES_FILE = contract.FAILURES_FILE
log = get_logger("runner")

# How scenes get made: (make_scene, root, indices, retries) -> (index, "ok" | error) in completion order.
Executor = Callable[[Callable[[int], Scene], Root, list[int], int], Iterator[tuple[int, str]]]


@dataclass
class RunSummary:
    root: Root
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # scene id -> error
    seconds: float = 0.0
    info: DatasetInfo | None = None


def check_compatible(root: Root, generator: str, settings: dict[str, Any]) -> None:
    """Refuse to add scenes to a folder (or bucket prefix) that holds a dataset made another way."""
    out = open_output(root)
    theirs = out.existing()
    if theirs is None or theirs == (generator, settings):
        return
    if theirs[0] != generator:
        raise DatasetError(f"{out.root} holds a dataset made by {theirs[0]!r}, not by {generator!r}; choose another "
                           "--out")
    raise DatasetError(f"{out.root} holds a dataset made by {theirs[0]!r} with other settings "
                       f"({settings_difference(theirs[1], settings)}); rerun with the same settings to resume, or "
                       "choose another --out")


def settings_difference(stored: dict[str, Any], asked: dict[str, Any], most: int = 3) -> str:
    """The settings that differ, as "name: stored there, asked here" (the first `most`, then how many more)."""
    names = sorted(k for k in stored.keys() | asked.keys() if stored.get(k) != asked.get(k))
    shown = [f"{k}: {stored.get(k)!r} there, {asked.get(k)!r} asked" for k in names[:most]]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return "; ".join(shown) + more


def make_and_write(make_scene: Callable[[int], Scene], root: Root, index: int, retries: int) -> str:
    """One task: make scene `index` and write it under `root` (a folder or a URL). Returns "ok" or the last
    error."""
    error = ""
    out = open_output(root)
    for _attempt in range(retries + 1):
        try:
            out.write_scene(make_scene(index))
            return "ok"
        except Exception as exc:  # a failing scene must not stop the run
            error = f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return error


def inherit_environment(environment: dict[str, str]) -> None:
    """Pool initializer: the worker sees the environment its parent had when the pool started."""
    os.environ.update(environment)


def local_executor(workers: int = 1) -> Executor:
    """Scenes in this process (workers <= 1) or in a pool of `workers` processes."""

    def execute(make_scene: Callable[[int], Scene], root: Root, indices: list[int],
                retries: int) -> Iterator[tuple[int, str]]:
        if workers <= 1:
            for i in indices:
                yield i, make_and_write(make_scene, root, i, retries)
            return
        # forkserver, not fork: a fork of a process whose Blender/torch threads hold locks can deadlock. Workers
        # forked by a fork server started earlier in this process have the environment of back then: they get
        # today's (object-store credentials and endpoints set since, e.g. in a notebook).
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                 initializer=inherit_environment, initargs=(dict(os.environ),)) as pool:
            futures = {pool.submit(make_and_write, make_scene, root, i, retries): i for i in indices}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()

    return execute


def run_generation(
    root: Root,
    *,
    name: str,
    generator: str,
    settings: dict[str, Any],
    count: int,
    make_scene: Callable[[int], Scene],
    scene_id_of: Callable[[int], str],
    workers: int = 1,
    retries: int = 2,
    executor: Executor | None = None,
    where: str = "",
    progress: Progress | None = None,
) -> RunSummary:
    """Make scenes 0..count-1 under `root` (skipping complete ones), then finalize the dataset.

    `executor` runs the scenes (default: `local_executor(workers)`; Ray: see
    `genbench.generators.kubric.distributed`); `where` labels the progress bar (e.g. "on ray");
    `progress` replaces the plain scene bar (e.g. one that also shows a cluster's nodes).

    `settings` must be JSON-serialisable and identify the run (everything except the
    count and parallelism): it is stored in dataset.json and compared on resume.
    """
    out = open_output(root)
    root = out.root
    if count < 0:
        raise DatasetError(f"the number of scenes must be >= 0, got {count}")
    check_compatible(root, generator, settings)
    out.prepare()
    summary = RunSummary(root)
    start = time.perf_counter()
    complete = out.complete([scene_id_of(i) for i in range(count)])
    pending = []
    for i in range(count):
        (summary.skipped if scene_id_of(i) in complete else pending).append(i)
    if summary.skipped:
        log.info("%d of %d scenes already complete in %s; making the other %d",
                 len(summary.skipped), count, root, len(pending))
        summary.skipped = [scene_id_of(i) for i in summary.skipped]

    def record(index: int, status: str) -> None:
        sid = scene_id_of(index)
        if status == "ok":
            summary.written.append(sid)
        else:
            summary.failed[sid] = status
            log.warning("scene %s failed after %d attempts: %s", sid, retries + 1, status.splitlines()[0])

    execute = executor or local_executor(workers)
    with progress or make_progress("scenes") as progress:
        task = progress.add_task(f"{generator}{' ' + where if where else ''} -> {root}", total=count,
                                 completed=count - len(pending))
        for index, status in execute(make_scene, root, pending, retries):
            record(index, status)
            progress.advance(task)

    if summary.failed:
        out.write_json(FAILURES_FILE, {"failed": summary.failed})
    else:
        out.remove(FAILURES_FILE)
    summary.written.sort()
    summary.info = out.finalize(name=name, generator=generator, settings=settings)
    summary.seconds = time.perf_counter() - start
    return summary
