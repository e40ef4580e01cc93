"""The same per-scene task on a Ray cluster: `genbench render --executor ray [--address ADDR]`.

`genbench.runner.run_generation` with a Ray executor, so the contract is the runner's:
scenes already complete are skipped, a failing scene is retried `retries` times and then
recorded in failures.json, a folder made with other settings is refused, and the manifest
is rebuilt at the end. Each scene is one Ray task that renders and writes straight into
`root`, so on a cluster `root` is an object-store URL (s3://, gs://: each scene committed by its marker
object, `genbench.storage`) or a path every node sees (a shared file system).

A scene whose worker or node is lost (node removed, worker killed, out of memory) is not a
failure of the scene: the driver submits it again, up to `lost_retries` times, and Ray
places it on a node that is still alive. Writes are atomic, so a task lost mid-write leaves
only a partial folder that the next writer of that scene removes; a task that finished its
write but lost its reply finds the scene complete and reports it done.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genbench.errors import GenbenchError
from genbench.progress import ClusterProgress, SceneTally, get_logger
from genbench.runner import Executor, RunSummary, make_and_write, run_generation
from genbench.scene import Scene
from genbench.storage import is_remote, open_output

LOST_RETRIES = 3  # resubmissions of one scene whose worker or node was lost
REACH_TIMEOUT_S = 5.0  # how long a cluster address may take to answer before the run gives up
log = get_logger("ray")


def check_reachable(address: str | None, timeout: float = REACH_TIMEOUT_S) -> None:
    """Fail in seconds, in one line and before the output is touched, when nothing answers at a cluster's
    HOST:PORT (`ray.init` would retry for minutes). "auto", None and addresses of other forms are left to Ray."""
    if address is None:
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise GenbenchError(f"cannot reach the Ray cluster at {address!r} ({exc.__class__.__name__}: {exc}); start "
                            "it (`ray start --head`) or fix --address") from None


def run_generation_ray(
    root: Path | str,
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
    lost_retries: int = LOST_RETRIES,
    init_kwargs: dict[str, Any] | None = None,
    tally: SceneTally | None = None,
) -> RunSummary:
    """Make scenes 0..count-1 under `root` as Ray tasks, then finalize the dataset.

    address: a running cluster ("auto", "ray://host:10001", "host:6379"); None starts a local Ray.
    init_kwargs: extra `ray.init` arguments (e.g. num_cpus for a local Ray, _node_ip_address).
    tally: filled with scenes done / failed / retried per node (a fresh one when None); the
    progress display shows it live, and it is logged when the run ends.
    """
    try:
        import ray
    except ImportError:
        raise GenbenchError("--executor ray needs Ray: pip install 'ray[default]'") from None
    check_reachable(address)
    root = root if is_remote(root) else Path(root).resolve()  # a bucket URL is what every node writes to
    tally = tally if tally is not None else SceneTally()
    executor = ray_executor(ray, cpus_per_scene, scene_id_of=scene_id_of, lost_retries=lost_retries, tally=tally)
    with joined(ray, address, init_kwargs):  # before the output is touched: a cluster that is not there writes nothing
        summary = run_generation(root, name=name, generator=generator, settings=settings, count=count,
                                 make_scene=make_scene, scene_id_of=scene_id_of, retries=retries, where="on ray",
                                 executor=executor, progress=ClusterProgress(tally))
    for line in tally.lines():
        log.info("%s", line)
    return summary


def scene_task(make_scene: Callable[[int], Scene], root: str, scene_id: str, index: int,
               retries: int) -> tuple[str, str]:
    """One Ray task: make and write scene `index`. Returns ("ok" | the last error, the node that ran it)."""
    import ray

    context = ray.get_runtime_context()
    node = f"{ray.util.get_node_ip_address()} {context.get_node_id()[:8]}"
    if open_output(root).complete([scene_id]):  # written by an attempt whose reply was lost with its node
        return "ok", node
    return make_and_write(make_scene, root, index, retries), node


@contextmanager
def joined(ray: Any, address: str | None, init_kwargs: dict[str, Any] | None) -> Iterator[None]:
    """Join (or start) Ray for the run and leave it as it was found."""
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "include_dashboard": False}
        kwargs.update(init_kwargs or {})
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise GenbenchError(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


def ray_executor(ray: Any, cpus_per_scene: float, *, scene_id_of: Callable[[int], str],
                 lost_retries: int = LOST_RETRIES, tally: SceneTally | None = None) -> Executor:
    """Each scene one Ray task writing straight into `root`, on the Ray that `joined` holds."""
    tally = tally if tally is not None else SceneTally()

    def execute(make_scene: Callable[[int], Scene], root: Path, indices: list[int],
                retries: int) -> Iterator[tuple[int, str]]:
        task = ray.remote(num_cpus=cpus_per_scene, max_retries=0)(scene_task)
        maker_ref = ray.put(make_scene)

        def submit(index: int) -> Any:
            return task.remote(maker_ref, str(root), scene_id_of(index), index, retries)

        tally.begin(len(indices))
        futures = {submit(i): i for i in indices}
        lost = dict.fromkeys(indices, 0)
        while futures:
            done, _ = ray.wait(list(futures), num_returns=1)
            for ref in done:
                index = futures.pop(ref)
                try:
                    status, node = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the task's own code raised outside the scene
                    status, node = f"{exc.__class__.__name__}: {exc}", "?"
                except ray.exceptions.RayError as exc:  # its worker or node was lost: run it again elsewhere
                    if lost[index] < lost_retries:
                        lost[index] += 1
                        tally.lost()
                        log.info("scene %s lost with its worker (%s); submitting it again",
                                 scene_id_of(index), exc.__class__.__name__)
                        futures[submit(index)] = index
                        continue
                    status, node = f"{exc.__class__.__name__}: {exc}", "?"
                tally.finished(node, ok=status == "ok", retried=lost[index] > 0)
                yield index, status

    return execute
