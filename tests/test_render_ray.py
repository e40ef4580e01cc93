"""`--executor ray`: the same per-scene task on a (local) Ray cluster gives the same scenes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from genbench import contract
from genbench.generators.kubric.make import GENERATOR, RenderOptions, SceneMaker, make_scene
from genbench.generators.kubric.settings import resolve_settings
from genbench.runner import FAILURES_FILE
from genbench.scene import list_scene_ids, read_scene
from genbench.validate import validate_dataset

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")


class Flaky(SceneMaker):
    """Scene 1 always fails: it must be retried, recorded and must not stop the run."""

    def __call__(self, index: int):
        if index == 1:
            raise RuntimeError("object fell through the floor")
        return super().__call__(index)


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray on 127.0.0.1 only: by default it binds to the machine's network interface."""
    from ray._private import ray_constants

    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)  # read when ray was imported


def test_ray_executor_renders_the_same_scenes_and_records_failures(tmp_path: Path, loopback) -> None:
    from genbench.generators.kubric.distributed import run_generation_ray

    settings = resolve_settings("tiny", seed=5, frames=2)
    maker = Flaky(settings, RenderOptions(threads=2))  # what --cpus-per-scene 2 makes
    summary = run_generation_ray(tmp_path / "d", name="t", generator=GENERATOR, settings=settings.to_dict(), count=3,
                                 make_scene=maker, scene_id_of=maker.scene_id, retries=1, cpus_per_scene=2,
                                 init_kwargs={"num_cpus": 2, "_node_ip_address": "127.0.0.1"})
    assert not ray.is_initialized()  # the Ray it started is shut down
    assert summary.written == [maker.scene_id(0), maker.scene_id(2)]
    failures = json.loads((tmp_path / "d" / FAILURES_FILE).read_text())["failed"]
    assert "object fell through the floor" in failures[maker.scene_id(1)]
    assert validate_dataset(tmp_path / "d").ok
    assert list_scene_ids(tmp_path / "d") == summary.written
    run = json.loads((tmp_path / "d" / contract.SCENES_DIR / maker.scene_id(2) / contract.RUN_FILE).read_text())
    assert run["threads"] == 2
    local = make_scene(settings, 2, RenderOptions(threads=1))  # threads change no pixel
    remote = read_scene(tmp_path / "d", maker.scene_id(2))
    for name in local.rgb:
        np.testing.assert_array_equal(remote.rgb[name], local.rgb[name])
    np.testing.assert_array_equal(remote.visible, local.visible)
    assert remote.meta.spec == local.meta.spec and contract.BG in remote.meta.videos


def test_cpus_per_scene_is_for_ray_only() -> None:
    from genbench.errors import GenbenchError
    from genbench.generators.kubric.dataset import RenderRun

    RenderRun(executor="ray", cpus_per_scene=4).check()
    for bad, message in ((RenderRun(cpus_per_scene=2), "needs --executor ray"),
                         (RenderRun(executor="ray", cpus_per_scene=0), "must be >= 1")):
        with pytest.raises(GenbenchError, match=message):
            bad.check()


@pytest.mark.parametrize(("address", "message"), [
    ("127.0.0.1:9", "cannot reach the Ray cluster at '127.0.0.1:9' (ConnectionRefusedError"),
    ("ray://127.0.0.1:9", "cannot reach the Ray cluster at 'ray://127.0.0.1:9' (ConnectionRefusedError"),
    ("auto", "cannot join the Ray cluster at 'auto': Could not find any running Ray instance"),
])
def test_a_cluster_that_is_not_there_fails_at_once_and_writes_nothing(address: str, message: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listens on the discard port; `ray.init` alone would retry such an address for minutes."""
    from ray._private import services

    from genbench.cli import main

    if address == "auto" and services.find_gcs_addresses():
        pytest.skip("a Ray instance runs on this machine: 'auto' would join it")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    out = tmp_path / "d"
    argv = ["render", "--scenes", "1", "--out", str(out), "--preset", "tiny", "--executor", "ray", "--address", address]
    assert main(argv) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"genbench render: error: {message}")
    assert not out.exists()
