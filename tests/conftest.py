"""Shared fixtures: small toy datasets made in milliseconds (no Blender)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
from genbench.runner import run_generation

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOY = ToySettings(seed=7, resolution=32, frames=4, max_objects=3)


def make_toy_dataset(root: Path, count: int = 4, settings: ToySettings = TOY) -> Path:
    run_generation(root, name="toy-test", generator=GENERATOR, settings=asdict(settings), count=count,
                   make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i))
    return root


@pytest.fixture(scope="session")
def toy_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "data")


@pytest.fixture
def toy_dataset(toy_master: Path, tmp_path: Path) -> Path:
    """A fresh copy of a valid 4-scene toy dataset that a test may corrupt."""
    return Path(shutil.copytree(toy_master, tmp_path / "data"))


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process with pytest's exit status once everything is reported, skipping the interpreter's
    teardown: Blender's module (bpy) can crash at interpreter exit (segfault) after every test passed, when
    other libraries' threads (the S3 test server, fsspec's event loop, Ray) are still shutting down."""
    if _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
