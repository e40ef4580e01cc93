"""Running a method over a dataset's items: in this process, or in a pool of worker processes.

Each item is read, given to the method, checked and written (`predictions.write_item`, atomic) by
`predict_item`, wherever it runs. With ``workers > 1`` every worker process builds its own method
from the spec once and takes items as they come; an item's prediction depends only on the item
(a method is a function of its inputs: Casper seeds each clip the same way), so the predictions
are the same bytes with any number of workers, only sooner.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genbench import contract
from genbench.benchmark.predictions import write_item
from genbench.errors import GenbenchError
from genbench.registry import Registry
from genbench.samples import load_layering, load_removal

# Imported once by the fork server, so each worker starts with them loaded instead of importing them itself.
WORKER_PRELOAD = ["numpy", "torch", "cv2", "genbench.benchmark.predicting"]


@dataclass(frozen=True)
class Job:
    """What every item of one method's run shares."""

    spec: str  # NAME[:ARGUMENT]
    name: str  # the label results use
    task: str  # removal | layering
    data: Path  # the dataset
    root: Path  # the predictions folder
    max_frames: int | None


def instantiate(spec: str, task: str, registry: Registry) -> Any:
    """The method of `spec`, checked to implement `task`'s interface."""
    from genbench.methods import LayeringMethod, RemovalMethod, build_method

    name = spec.partition(":")[0].strip()
    try:
        method = build_method(spec, registry)
    except TypeError as exc:
        raise GenbenchError(f"method {name!r} cannot be built from {spec!r} ({exc})") from None
    interface = RemovalMethod if task == "removal" else LayeringMethod
    if not isinstance(method, interface):
        raise wrong_task(name, getattr(method, "task", "unknown"), task)
    return method


def wrong_task(name: str, its_task: str, task: str) -> GenbenchError:
    return GenbenchError(f"method {name!r} is a {its_task} method, not a {task} method; pass --task {its_task}")


def checked_output(name: str, item_id: str, what: str, array: Any, shape: tuple[int, ...]) -> np.ndarray:
    """`array` if it is uint8 of `shape`, else a GenbenchError naming the method, the item and what it returned."""
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.shape != shape:
        got = f"{array.dtype}{array.shape}" if isinstance(array, np.ndarray) else type(array).__name__
        raise GenbenchError(f"method {name!r} returned {got} as {what} for {item_id}; expected uint8{shape}")
    return array


def predict_item(method: Any, job: Job, entry: Any) -> tuple[float, int]:
    """Run `method` on one item (a removal `Sample` or a layering `SceneMeta`) and write its prediction.

    Returns (seconds spent inside the method, frames it produced)."""
    name = job.name
    if job.task == "removal":
        sid = entry.sample_id
        item = load_removal(job.data, entry, job.max_frames, target=False)
        t0 = time.perf_counter()
        out = method.remove(item.frames.copy(), item.trimask.copy())
        spent = time.perf_counter() - t0
        write_item(job.root, sid, {"": checked_output(name, sid, "frames", out, item.frames.shape)})
        return spent, len(item.frames)
    sid = entry.scene_id
    item = load_layering(job.data, entry, job.max_frames, truth=False)
    t0 = time.perf_counter()
    result = method.decompose(item.frames.copy(), item.visible_masks())
    spent = time.perf_counter() - t0
    if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[1], dict):
        raise GenbenchError(f"method {name!r} must return (bg, {{object id: layer}}) for {sid}")
    bg, layers = result
    videos = {contract.BG: checked_output(name, sid, "bg", bg, item.frames.shape)}
    if sorted(layers) != sorted(item.meta.object_ids):
        raise GenbenchError(f"method {name!r} returned layers for objects {sorted(layers)} of {sid}; "
                            f"expected {sorted(item.meta.object_ids)}")
    for k, layer in layers.items():
        videos[f"{contract.LAYERS_DIR}/{k}"] = checked_output(name, sid, f"layer {k}", layer,
                                                               (*item.frames.shape[:3], 4))
    write_item(job.root, sid, videos)
    return spent, len(item.frames)


_worker: tuple[Any, Job] | GenbenchError | None = None  # this worker process's method and job, or why it has none


def _start_worker(job: Job, registry: Registry, environment: dict[str, str]) -> None:
    global _worker
    os.environ.update(environment)  # the fork server may predate the caller's environment
    try:
        _worker = (instantiate(job.spec, job.task, registry), job)
    except GenbenchError as exc:  # raised by each task instead: an initializer's error breaks the pool with a traceback
        _worker = exc


def _predict_in_worker(entry: Any) -> tuple[float, int]:
    assert _worker is not None, "worker not started"
    if isinstance(_worker, GenbenchError):
        raise _worker
    method, job = _worker
    return predict_item(method, job, entry)


def predict_items(job: Job, entries: list[Any], registry: Registry, workers: int = 1
                  ) -> Iterator[tuple[float, int]]:
    """Predict every entry; yields (seconds inside the method, frames) as each is written.

    workers <= 1: in this process, in order; else in a pool of `workers` processes (fork server, not fork:
    a fork of a process whose torch threads hold locks can deadlock), each with its own method."""
    if not entries:
        return
    if workers <= 1 or len(entries) == 1:
        method = instantiate(job.spec, job.task, registry)
        for entry in entries:
            yield predict_item(method, job, entry)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    with ProcessPoolExecutor(min(workers, len(entries)), mp_context=context, initializer=_start_worker,
                             initargs=(job, registry, dict(os.environ))) as pool:
        futures = [pool.submit(_predict_in_worker, entry) for entry in entries]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
