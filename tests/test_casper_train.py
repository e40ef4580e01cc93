"""`genbench train casper`: a short run end to end, and its error paths (one line, exit 1, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from genbench.cli import main
from genbench.models.casper.config import CasperConfig
from genbench.models.threads import torch_threads

GENBENCH = str(Path(sys.executable).with_name("genbench"))


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One CPU thread (fast on a shared machine), restored after each test."""
    with torch_threads(1):
        yield


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], message: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genbench train: error:") and message in err[0], err


def test_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(["train", "casper", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "ck")], capsys,
           "no such folder")
    assert not (tmp_path / "ck").exists()


def test_not_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(["train", "casper", "--data", str(tmp_path), "--out", str(tmp_path / "ck")], capsys,
           "not a genbench dataset")
    assert not (tmp_path / "ck").exists()


def test_unknown_config(toy_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(["train", "casper", "--data", str(toy_dataset), "--config", "huge", "--out", str(tmp_path / "ck")],
           capsys, "unknown Casper config 'huge'; use one of tiny, small, base")
    assert not (tmp_path / "ck").exists()


def test_bad_weights_and_split(toy_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["train", "casper", "--data", str(toy_dataset), "--out", str(tmp_path / "ck"), "--val-data", "none"]
    _fails([*base, "--weights", "1,2"], capsys, "--weights needs 1 non-negative numbers")
    _fails([*base, "--weights", "x"], capsys, "--weights 'x': give 1 numbers")
    _fails([*base, "--split", "test"], capsys, "no samples in split 'test'")
    _fails([*base, "--val-data", str(toy_dataset), "--val-split", "nope"], capsys, "no samples in split 'nope'")
    _fails([*base, "--resume"], capsys, "no training state to resume")
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--steps", "0", "--steps must be >= 1, got 0"),
    ("--batch-size", "0", "--batch-size must be >= 1, got 0"),
    ("--lr", "-0.001", "--lr must be >= 0, got -0.001"),
    ("--val-every", "-1", "--val-every must be >= 0 (0: validate only at the end), got -1"),
    ("--checkpoint-every", "-5", "--checkpoint-every must be >= 0 (0: by time and at the end only), got -5"),
])
def test_out_of_range_numbers_are_refused_not_replaced(toy_dataset: Path, tmp_path: Path, option: str, value: str,
                                                       message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A number no run can use is refused before anything runs, not replaced by the default (--lr 0 is honoured:
    the weights stay where they start)."""
    _fails(["train", "casper", "--data", str(toy_dataset), "--out", str(tmp_path / "ck"), "--val-data", "none",
            option, value], capsys, message)
    assert not (tmp_path / "ck").exists()


def test_train_from_the_command_line(toy_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    argv = ["train", "casper", "--data", str(toy_dataset), "--out", str(ck), "--steps", "2", "--batch-size", "1",
            "--val-data", str(toy_dataset), "--val-split", "val"]
    assert main(argv) == 0
    assert f"use it with `genbench eval --method casper:{ck}`" in capsys.readouterr().out
    config = json.loads((ck / "config.json").read_text())
    assert config["config"]["name"] == "tiny" and config["training"]["step"] == 2
    assert set(config["training"]["validation"]["regions"]) == {"full", "object", "effect", "preserve",
                                                                "effect:shadow"}
    assert len((ck / "validation.jsonl").read_text().splitlines()) == 1
    before = (ck / "model.safetensors").read_bytes()
    # a second run into the same folder without --resume is refused and changes nothing
    _fails(argv, capsys, "pass --resume")
    assert (ck / "model.safetensors").read_bytes() == before
    # resuming with another config is refused; to the step it already reached trains nothing
    _fails([*argv, "--resume", "--config", "small"], capsys, "pass --config tiny")
    assert main([*argv, "--resume", "--val-data", "none"]) == 0
    assert (ck / "model.safetensors").read_bytes() == before


def test_fine_tuning_starts_from_a_trained_checkpoint(toy_dataset: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """--init tiny: a shipped model's config and weights are the start; at learning rate 0 they are the end
    too, bit for bit (so nothing else, e.g. a fresh random init, got in); steps at the config's rate move them
    (the first step of the warm-up has rate 0, hence two)."""
    from safetensors.torch import load_file

    from genbench.models.casper.method import SHIPPED

    base = ["train", "casper", "--data", str(toy_dataset), "--init", "tiny", "--steps", "1", "--batch-size", "1",
            "--val-data", "none"]
    assert main([*base, "--out", str(tmp_path / "still"), "--lr", "0"]) == 0
    assert main([*base, "--out", str(tmp_path / "moved"), "--steps", "2"]) == 0
    tiny = SHIPPED["tiny"]
    shipped = load_file(str(tiny / "model.safetensors"))
    still, moved = (load_file(str(tmp_path / name / "model.safetensors")) for name in ("still", "moved"))
    assert still.keys() == shipped.keys() and all(torch.equal(still[k], shipped[k]) for k in shipped)
    assert any(not torch.equal(moved[k], shipped[k]) for k in shipped)
    config = json.loads((tmp_path / "moved" / "config.json").read_text())
    # the shipped config.json, with the fields added since it was written at their defaults
    shipped_config = CasperConfig.from_dict(json.loads((tiny / "config.json").read_text())["config"]).to_dict()
    assert config["config"] == shipped_config
    assert config["training"]["settings"]["init"] == str(tiny)
    # --prefill changes only what the network refines: same start, the config says so
    assert main([*base, "--out", str(tmp_path / "median"), "--lr", "0", "--prefill", "median"]) == 0
    median = load_file(str(tmp_path / "median" / "model.safetensors"))
    assert all(torch.equal(median[k], shipped[k]) for k in shipped)
    median_config = json.loads((tmp_path / "median" / "config.json").read_text())["config"]
    assert median_config == {**shipped_config, "prefill": "median"} and shipped_config["prefill"] == "cv2"
    capsys.readouterr()
    _fails(["train", "casper", "--data", str(toy_dataset), "--out", str(tmp_path / "x"), "--backbone",
            "wan2.1-fun-inp", "--prefill", "median"], capsys, "--prefill: only for --backbone pixel")
    _fails([*base, "--out", str(tmp_path / "x"), "--config", "small"], capsys, "holds a 'tiny' model, not 'small'")
    _fails([*base, "--out", str(tmp_path / "x"), "--backbone", "wan2.1-fun-inp"], capsys, "--init: only for")


def test_crop_sets_the_training_window(toy_dataset: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """--crop replaces the config's window side (what `make_batch` cuts) and is checked against the stride."""
    base = ["train", "casper", "--data", str(toy_dataset), "--steps", "1", "--batch-size", "1", "--val-data", "none"]
    assert main([*base, "--out", str(tmp_path / "c16"), "--crop", "16"]) == 0
    config = json.loads((tmp_path / "c16" / "config.json").read_text())["config"]
    assert config["crop"] == 16 and config["name"] == "tiny"
    capsys.readouterr()
    _fails([*base, "--out", str(tmp_path / "x"), "--crop", "20"], capsys, "crop 20 is not a multiple of the stride 8")
    _fails([*base, "--out", str(tmp_path / "x"), "--backbone", "wan2.1-fun-inp", "--crop", "32"], capsys,
           "--crop: only for --backbone pixel")
    assert not (tmp_path / "x").exists()


def test_the_step_profile_names_where_the_time_goes(toy_dataset: Path, tmp_path: Path) -> None:
    """`perf/casper.py --profile` (what the next GPU run is to answer): the step's shape as asked, the batch
    building's share of a step, and operator tables whose shares are of one total (they sum to at most 1)."""
    import importlib.util
    import re

    spec = importlib.util.spec_from_file_location("perf_casper", Path(__file__).parents[1] / "perf" / "casper.py")
    perf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(perf)
    text = perf.profile_step("tiny", toy_dataset, tmp_path, steps=1, device="cpu", batch_size=2, crop=16, top=5)
    assert "batch 2 of 8x16x16" in text
    share = re.search(r"batch building alone: ([\d.]+) ms = ([\d.]+) of a step", text)  # 0.00 on a busy machine
    assert share and float(share.group(1)) > 0 and 0 <= float(share.group(2)) < 1
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 5 and any("convolution" in r[0] for r in rows)
    assert 0 < sum(float(r[3]) for r in rows) <= 1.0001


def test_train_help_runs_as_a_program() -> None:
    result = subprocess.run([GENBENCH, "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--resume" in result.stdout and "--weights" in result.stdout


def _renamed_copy(src: Path, dest: Path) -> Path:
    """A copy of a dataset with every scene folder renamed: only its content can give it away."""
    import shutil

    shutil.copytree(src, dest)
    for folder in sorted((dest / "scenes").iterdir()):
        folder.rename(folder.with_name(f"mine-{folder.name}"))
    return dest


def test_training_and_validation_refuse_benchmark_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from genbench.benchmark.split import SHIPPED

    copy = Path(shutil.copytree(SHIPPED, tmp_path / "copy"))
    out = str(tmp_path / "ck")
    _fails(["train", "casper", "--data", str(copy), "--out", out, "--split", "test", "--val-data", "none"], capsys,
           "shares content with a benchmark split (scene kubric-s4048-000000 is a scene of genbench-benchmark-mini-v2")
    renamed = _renamed_copy(SHIPPED, tmp_path / "renamed")
    _fails(["train", "casper", "--data", str(renamed), "--out", out, "--split", "test", "--val-data", "none"], capsys,
           "rgb/full/00000.png is scenes/kubric-s4048-000000/rgb/full/00000.png of genbench-benchmark-mini-v2")
    assert not (tmp_path / "ck").exists()


def test_validation_data_is_never_a_benchmark_split(toy_dataset: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from genbench.benchmark import split as sp

    seeds = {seed for spec in sp.SPLITS.values() for seed in (spec.kubric_seed, spec.aux_seed)}
    for val in sp.VALIDATIONS.values():
        assert not seeds & {val.kubric_seed, val.aux_seed} and val.label == "val"
    renamed = _renamed_copy(sp.SHIPPED, tmp_path / "renamed")
    base = ["train", "casper", "--data", str(toy_dataset), "--out", str(tmp_path / "ck"), "--steps", "1"]
    _fails([*base, "--val-data", str(renamed)], capsys, "never serve for validation (model selection)")
    # no --val-data: genbench's validation split, resolved after the training data checks
    asked = []

    def validation_split() -> Path:
        asked.append(True)
        return toy_dataset  # a stand-in for the cached build of sp.VALIDATION, which takes minutes

    monkeypatch.setattr(sp, "validation_split", validation_split)
    assert main([*base, "--val-split", "val"]) == 0 and asked == [True]
    config = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert config["training"]["settings"]["val_data"] == str(toy_dataset)
