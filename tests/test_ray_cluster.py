"""`genbench render --executor ray --address`: a three-node Ray cluster on this machine that loses a node.

A head (no CPUs) and two one-CPU worker nodes, every node and driver on 127.0.0.1. A CLI
driver is killed after its first scene, a rerun resumes, the worker node that renders the
rerun's first scene is killed mid-scene, and the run still completes: every scene exactly once, none recorded as
failed, each byte-identical to a single-machine render of the same seeds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from genbench import contract
from genbench.generators.kubric.make import GENERATOR, RenderOptions, SceneMaker
from genbench.generators.kubric.settings import resolve_settings
from genbench.progress import SceneTally
from genbench.runner import FAILURES_FILE, run_generation
from genbench.scene import list_scene_ids, scene_dir

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

LOOPBACK = "127.0.0.1"
SCENES = 3
SETTINGS = resolve_settings("tiny", seed=3, frames=2)


class Marked(SceneMaker):
    """The run's scenes, each leaving `<marks>/<index>-<node id>` when it starts, so a test can see where it runs."""

    def __init__(self, marks: Path) -> None:
        super().__init__(SETTINGS, RenderOptions(threads=1))
        self.marks = str(marks)

    def __call__(self, index: int):
        node = ray.get_runtime_context().get_node_id()
        (Path(self.marks) / f"{index}-{node}").touch()
        return super().__call__(index)


ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers cannot import a test module


def loopback_env() -> dict[str, str]:
    """Ray binds to the machine's network interface unless told it is not a multi-machine cluster."""
    return {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch):
    from ray._private import ray_constants

    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)  # read at import; the nodes read the env
    try:
        cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "node_ip_address": LOOPBACK, "include_dashboard": False})
        workers = [cluster.add_node(num_cpus=1, node_ip_address=LOOPBACK) for _ in range(2)]
        cluster.wait_for_nodes()
    except Exception as exc:  # no Ray here (sandbox without shared memory, ports ...)
        pytest.skip(f"cannot start a Ray cluster on this machine: {exc}")
    nodes = [cluster.head_node, *workers]
    try:
        yield cluster, workers
    finally:
        ray.shutdown()
        cluster.shutdown()
        assert not any(node.any_processes_alive() for node in nodes), "Ray processes left behind"


def listening_addresses(nodes) -> set[str]:
    """The IPs that the nodes' processes (and their workers) listen on."""
    import psutil

    procs = [psutil.Process(info.process.pid) for node in nodes for infos in node.all_processes.values()
             for info in infos if info.process.poll() is None]
    procs += [child for proc in procs for child in proc.children(recursive=True)]
    addresses = set()
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            addresses |= {c.laddr.ip for c in proc.net_connections("inet") if c.status == psutil.CONN_LISTEN}
    return addresses


def scene_files(root: Path, scene_id: str) -> dict[str, bytes]:
    """Every file of a scene but run.json (timings, hosts) and the preview, by relative path."""
    folder = scene_dir(root, scene_id)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in (contract.RUN_FILE, "preview.gif")}


def test_cluster_render_survives_a_killed_driver_and_a_lost_node(cluster, tmp_path: Path) -> None:
    from genbench.generators.kubric.distributed import run_generation_ray

    ray_cluster, workers = cluster
    out, marks = tmp_path / "cluster", tmp_path / "marks"
    marks.mkdir()
    maker = Marked(marks)
    log = tmp_path / "driver.log"

    # 1. A CLI driver on the cluster, killed once its first scene is written.
    driver = subprocess.Popen(
        [sys.executable, "-m", "genbench.cli", "render", "--scenes", str(SCENES), "--out", str(out), "--preset", "tiny",
         "--seed", "3", "--frames", "2", "--executor", "ray", "--address", ray_cluster.address],
        env=loopback_env(), stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + 120
    while not list_scene_ids(out) and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert driver.poll() is None, f"the driver ended before it was killed: {log.read_text()[-2000:]}"
    driver.send_signal(signal.SIGKILL)
    driver.wait(30)
    first = list_scene_ids(out)
    assert 1 <= len(first) < SCENES

    # 2. The rerun resumes; one worker node is killed while it renders a scene.
    ray.init(address=ray_cluster.address, _node_ip_address=LOOPBACK, logging_level="WARNING")
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {LOOPBACK}
    listening = listening_addresses([ray_cluster.head_node, *workers])
    assert listening and listening <= {LOOPBACK, f"::ffff:{LOOPBACK}"}, listening
    tally = SceneTally()
    result: dict = {}

    def rerun() -> None:
        try:
            result["summary"] = run_generation_ray(out, name="c", generator=GENERATOR, settings=SETTINGS.to_dict(),
                                                   count=SCENES, make_scene=maker, scene_id_of=maker.scene_id,
                                                   tally=tally)
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=rerun)
    thread.start()
    deadline = time.monotonic() + 120
    while not list(marks.iterdir()) and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = list(marks.iterdir())
    assert started, f"no scene started in the rerun: {result}"
    victim = next(w for w in workers if started[0].name.endswith(w.node_id))  # the node rendering it now
    ray_cluster.remove_node(victim, allow_graceful=False)
    thread.join(180)
    assert not thread.is_alive() and "error" not in result, result.get("error")
    summary = result["summary"]

    ids = [maker.scene_id(i) for i in range(SCENES)]
    assert sorted(summary.skipped) == first and sorted(summary.written + summary.skipped) == ids
    assert not summary.failed and not (out / FAILURES_FILE).exists()
    assert list_scene_ids(out) == ids  # every scene exactly once, no partial folders left
    assert not [p for p in (out / contract.SCENES_DIR).iterdir() if p.name.startswith(contract.PARTIAL_PREFIX)]
    assert tally.resubmitted >= 1 and tally.done == len(summary.written)
    survivor_id = next(w for w in workers if w is not victim).node_id
    survivor = next(node for node in tally.nodes if survivor_id.startswith(node.split()[1]))
    assert tally.nodes[survivor].retried >= 1  # the lost scene was rendered again on the surviving node

    # 3. Byte-identical to the same seeds rendered on this machine without Ray.
    local = tmp_path / "local"
    local_maker = SceneMaker(SETTINGS, RenderOptions(threads=2))
    run_generation(local, name="c", generator=GENERATOR, settings=SETTINGS.to_dict(), count=SCENES,
                   make_scene=local_maker, scene_id_of=local_maker.scene_id)
    for sid in ids:
        assert scene_files(out, sid) == scene_files(local, sid), sid
