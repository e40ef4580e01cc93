"""`genbench eval --workers N`: methods run in N processes, and the predictions and scores are those of one."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from genbench.benchmark.harness import EvalSettings, evaluate
from genbench.benchmark.metrics import FrameScorer
from genbench.benchmark.results import method_summary
from genbench.commands import _eval
from genbench.errors import GenbenchError
from genbench.methods import RemovalMethod
from genbench.registry import Registry

SPLIT = "train"  # the toy fixture's train split: 12 samples of 4 frames, 32x32


class CropsAColumn(RemovalMethod):
    """Returns frames one column too narrow, but only for clips whose trimask sums to an odd number: some items pass."""

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        return frames[:, :, :-1] if int(trimask.sum()) % 2 else frames


class NeedsWeights(RemovalMethod):
    """Fails as it is built, as a method does whose checkpoint is not there."""

    def __init__(self, argument: str | None = None) -> None:
        raise GenbenchError(f"checkpoint {argument} does not exist")

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        return frames


@pytest.fixture(scope="module")
def scorer() -> FrameScorer:
    return FrameScorer("cpu")


def _runs(toy_dataset: Path, out: Path, methods: list[str], task: str, workers: int,
          scorer: FrameScorer) -> dict:
    result = evaluate(methods, toy_dataset, out, EvalSettings(task=task, split=SPLIT, workers=workers),
                      scorer=scorer)
    return {run.method: run for run in result.runs}


@pytest.mark.slow
def test_two_workers_write_the_bytes_one_process_writes(toy_dataset: Path, tmp_path: Path,
                                                       scorer: FrameScorer) -> None:
    """Casper (seeded per clip, two views) and a layering method give the same predictions and scores in a pool."""
    for task, methods in (("removal", ["casper", "cv2-inpaint"]), ("layering", ["mask-alpha"])):
        one = _runs(toy_dataset, tmp_path / f"{task}-1", methods, task, 1, scorer)
        two = _runs(toy_dataset, tmp_path / f"{task}-2", methods, task, 2, scorer)
        for name in methods:
            assert one[name].predictions_sha256 == two[name].predictions_sha256, (task, name)
            assert method_summary(one[name])["headline"] == method_summary(two[name])["headline"], (task, name)
            assert two[name].timing["predict_frames"] == one[name].timing["predict_frames"] > 0
        assert len({run.predictions_sha256 for run in one.values()}) == len(methods)  # the methods differ


def test_a_method_failing_in_a_worker_stops_the_run_with_its_error(toy_dataset: Path, tmp_path: Path,
                                                                   scorer: FrameScorer) -> None:
    registry = Registry("method")
    registry.register("crops", CropsAColumn)
    out = tmp_path / "out"
    with pytest.raises(GenbenchError, match=r"method 'crops' returned uint8\(4, 32, 31, 3\) as frames for "):
        evaluate(["crops"], toy_dataset, out, EvalSettings(split=SPLIT, workers=2), registry=registry,
                 scorer=scorer)
    root = out / "predictions" / "crops"
    assert not [p for p in root.iterdir() if p.name.startswith(".partial")]  # nothing half-written
    for item in (p for p in root.iterdir() if p.is_dir()):  # what was written is whole: 4 frames of 32x32
        assert len(list(item.glob("*.png"))) == 4


def test_workers_below_one_are_refused(toy_dataset: Path) -> None:
    with pytest.raises(GenbenchError, match="--workers must be >= 1, got 0"):
        EvalSettings(workers=0)
    parser = argparse.ArgumentParser()
    _eval(parser)
    assert parser.parse_args(["--method", "casper", "--workers", "3"]).workers == 3
    assert parser.parse_args(["--method", "casper"]).workers == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_method_that_cannot_start_is_its_one_line_and_leaves_nothing(toy_dataset: Path, tmp_path: Path,
                                                                     scorer: FrameScorer, workers: int) -> None:
    """In a pool too: a worker's failing start used to break the pool with tracebacks; the run's folders go again,
    an existing --out keeps what it held."""
    registry = Registry("method")
    registry.register("needs-weights", NeedsWeights)
    settings = EvalSettings(split=SPLIT, workers=workers)
    with pytest.raises(GenbenchError, match=r"^checkpoint /absent does not exist$"):
        evaluate(["needs-weights:/absent"], toy_dataset, tmp_path / "new", settings, registry=registry, scorer=scorer)
    assert not (tmp_path / "new").exists()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "notes.txt").write_text("mine")
    with pytest.raises(GenbenchError, match="does not exist"):
        evaluate(["needs-weights:/absent"], toy_dataset, tmp_path / "old", settings, registry=registry, scorer=scorer)
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["notes.txt"]
