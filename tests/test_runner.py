"""Generation runs are resumable, refuse to mix settings, and record failing scenes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from genbench import contract
from genbench.errors import DatasetError
from genbench.generators.toy import make_toy_scene, scene_id
from genbench.runner import FAILURES_FILE, check_compatible, run_generation, settings_difference
from genbench.scene import list_scene_ids
from genbench.validate import validate_dataset

from .conftest import TOY, make_toy_dataset
from .test_scene_io import tree_digest


def test_rerun_skips_complete_scenes(tmp_path: Path) -> None:
    make_toy_dataset(tmp_path / "d", count=2)
    before = tree_digest(tmp_path / "d" / contract.SCENES_DIR)
    summary = run_generation(tmp_path / "d", name="toy-test", generator="toy", settings=asdict(TOY), count=3,
                             make_scene=lambda i: make_toy_scene(TOY, i), scene_id_of=lambda i: scene_id(TOY, i))
    assert summary.skipped == [scene_id(TOY, 0), scene_id(TOY, 1)]
    assert summary.written == [scene_id(TOY, 2)]
    after = tree_digest(tmp_path / "d" / contract.SCENES_DIR)
    assert {k: v for k, v in after.items() if k in before} == before
    assert validate_dataset(tmp_path / "d").ok


def test_same_seed_same_bytes_and_parallel_equals_serial(tmp_path: Path) -> None:
    make_toy_dataset(tmp_path / "a", count=3)
    run_generation(tmp_path / "b", name="toy-test", generator="toy", settings=asdict(TOY), count=3, workers=2,
                   make_scene=_toy_scene, scene_id_of=_toy_id)
    assert tree_digest(tmp_path / "a" / contract.SCENES_DIR) == tree_digest(tmp_path / "b" / contract.SCENES_DIR)
    manifests = [(tmp_path / d / contract.MANIFEST_FILE).read_bytes() for d in ("a", "b")]
    assert manifests[0] == manifests[1]


def _toy_scene(i: int):  # module level: picklable for the process pool
    return make_toy_scene(TOY, i)


def _toy_id(i: int) -> str:
    return scene_id(TOY, i)


def test_other_settings_are_refused(tmp_path: Path) -> None:
    make_toy_dataset(tmp_path / "d", count=1)
    other = replace(TOY, frames=5)
    with pytest.raises(DatasetError, match=rf"other settings \(frames: {TOY.frames} there, 5 asked\); rerun"):
        make_toy_dataset(tmp_path / "d", count=2, settings=other)
    assert list_scene_ids(tmp_path / "d") == [scene_id(TOY, 0)]


def test_the_settings_difference_names_what_differs() -> None:
    stored = {"frames": 8, "seed": 0, "a": 1, "b": 2, "c": 3}
    assert settings_difference(stored, {**stored, "seed": 4}) == "seed: 0 there, 4 asked"
    assert settings_difference(stored, {"frames": 8, "new": "x"}, most=2) == \
        "a: 1 there, None asked; b: 2 there, None asked and 3 more"


def test_another_generators_dataset_is_refused(tmp_path: Path) -> None:
    make_toy_dataset(tmp_path / "d", count=1)
    with pytest.raises(DatasetError, match="made by 'toy', not by 'other'; choose another --out"):
        check_compatible(tmp_path / "d", "other", {})


def test_non_dataset_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        make_toy_dataset(tmp_path / "d", count=1)
    assert (tmp_path / "d" / "notes.txt").read_text() == "mine"


def _flaky(i: int):
    if i == 1:
        raise RuntimeError("object fell through the floor")
    return make_toy_scene(TOY, i)


def test_failing_scene_is_retried_recorded_and_run_continues(tmp_path: Path) -> None:
    summary = run_generation(tmp_path, name="t", generator="toy", settings=asdict(TOY), count=3,
                             make_scene=_flaky, scene_id_of=_toy_id, retries=1)
    assert summary.written == [_toy_id(0), _toy_id(2)]
    assert list(summary.failed) == [_toy_id(1)]
    failures = json.loads((tmp_path / FAILURES_FILE).read_text())["failed"]
    assert "object fell through the floor" in failures[_toy_id(1)]
    assert validate_dataset(tmp_path).ok
    # a rerun that succeeds clears the record
    run_generation(tmp_path, name="t", generator="toy", settings=asdict(TOY), count=3,
                   make_scene=_toy_scene, scene_id_of=_toy_id)
    assert not (tmp_path / FAILURES_FILE).exists()
    assert list_scene_ids(tmp_path) == [_toy_id(i) for i in range(3)]


KILLABLE = """
import sys, time
from dataclasses import asdict
from genbench import frames
from genbench.generators.toy import ToySettings, make_toy_scene, scene_id
from genbench.runner import run_generation
settings = ToySettings(seed=7, resolution=32, frames=4, max_objects=3)
real = frames.write_image
def slow(path, frame):
    time.sleep(0.01)
    real(path, frame)
frames.write_image = slow
run_generation(sys.argv[1], name="toy-test", generator="toy", settings=asdict(settings), count=6,
               make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i))
"""


def test_kill_9_mid_run_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(killed)])
    deadline = time.monotonic() + 60
    while len(list_scene_ids(killed)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = list_scene_ids(killed)
    assert 2 <= len(done) < 6, "the run must be killed mid-way"
    for sid in done:  # whatever is visible is complete
        assert (killed / contract.SCENES_DIR / sid / contract.META_FILE).is_file()
    make_toy_dataset(killed, count=6)
    make_toy_dataset(tmp_path / "clean", count=6)
    assert tree_digest(killed / contract.SCENES_DIR) == tree_digest(tmp_path / "clean" / contract.SCENES_DIR)
    assert validate_dataset(killed).ok
