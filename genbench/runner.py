"""Run a scene generator over many indices: resumable, parallel, with a progress bar.

Every generator (`render`, `paste`, `tripod`, the toy demo) supplies a picklable
``make_scene(index) -> Scene`` and a ``scene_id_of(index) -> str``; this module does the
rest the same way for all of them:

- scenes that already exist are skipped, so a killed run continues where it stopped;
- a scene that raises is retried ``retries`` times, then written to ``failures.json``
  with its error, and the run goes on;
- a folder made with other settings is refused before anything is written;
- the manifest and dataset.json are rebuilt from the scenes at the end (`finalize`).
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from genbench import contract
from genbench.dataset import finalize
from genbench.errors import DatasetError
from genbench.progress import get_logger, make_progress
from genbench.records import DatasetInfo
from genbench.scene import (
    Scene,
    list_scene_ids,
    read_json,
    read_meta,
    scene_complete,
    write_json,
    write_scene,
)

FAILURES_FILE = "failures.json"
log = get_logger("runner")

# How scenes get made: (make_scene, root, indices, retries) -> (index, "ok" | error) in completion order.
Executor = Callable[[Callable[[int], Scene], Path, list[int], int], Iterator[tuple[int, str]]]


@dataclass
class RunSummary:
    root: Path
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # scene id -> error
    seconds: float = 0.0
    info: DatasetInfo | None = None


def check_compatible(root: Path, generator: str, settings: dict[str, Any]) -> None:
    """Refuse to add scenes to a folder that holds a dataset made another way."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file; --out must be a folder")
    dataset_file = root / contract.DATASET_FILE
    if dataset_file.is_file():
        existing = read_json(dataset_file)
        theirs = (existing.get("generator"), existing.get("settings"))
    else:
        ids = list_scene_ids(root)
        if not ids:
            if root.is_dir() and any(p.name not in (contract.SCENES_DIR, FAILURES_FILE) for p in root.iterdir()):
                raise DatasetError(f"{root} is not empty and holds no genbench dataset; choose an empty --out")
            return
        meta = read_meta(root, ids[0])
        theirs = (meta.generator, meta.settings)
    if theirs != (generator, settings):
        raise DatasetError(
            f"{root} holds a dataset made by {theirs[0]!r} with other settings; rerun with the same "
            "settings to resume, or choose another --out"
        )


def make_and_write(make_scene: Callable[[int], Scene], root: Path | str, index: int, retries: int) -> str:
    """One task: make scene `index` and write it under `root`. Returns "ok" or the last error."""
    error = ""
    for _attempt in range(retries + 1):
        try:
            write_scene(Path(root), make_scene(index))
            return "ok"
        except Exception as exc:  # a failing scene must not stop the run
            error = f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return error


def local_executor(workers: int = 1) -> Executor:
    """Scenes in this process (workers <= 1) or in a pool of `workers` processes."""

    def execute(make_scene: Callable[[int], Scene], root: Path, indices: list[int],
                retries: int) -> Iterator[tuple[int, str]]:
        if workers <= 1:
            for i in indices:
                yield i, make_and_write(make_scene, root, i, retries)
            return
        # forkserver, not fork: a fork of a process whose Blender/torch threads hold locks can deadlock.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = {pool.submit(make_and_write, make_scene, root, i, retries): i for i in indices}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()

    return execute


def run_generation(
    root: Path,
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
    root = Path(root)
    if count < 0:
        raise DatasetError(f"the number of scenes must be >= 0, got {count}")
    check_compatible(root, generator, settings)
    try:
        (root / contract.SCENES_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the output folder {root}: {exc.strerror}") from None
    summary = RunSummary(root)
    start = time.perf_counter()
    pending = []
    for i in range(count):
        (summary.skipped if scene_complete(root, scene_id_of(i)) else pending).append(i)
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

    failures_path = root / FAILURES_FILE
    if summary.failed:
        write_json(failures_path, {"failed": summary.failed})
    elif failures_path.exists():
        failures_path.unlink()
    summary.written.sort()
    summary.info = finalize(root, name=name, generator=generator, settings=settings)
    summary.seconds = time.perf_counter() - start
    return summary
