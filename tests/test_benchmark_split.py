"""The frozen benchmark split: shipped in the package, checked by checksums, rebuilt from its recipe."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from genbench import contract
from genbench.benchmark import harness
from genbench.benchmark import split as sp
from genbench.cli import main
from genbench.dataset import read_info, read_manifest
from genbench.scene import list_scene_ids, read_meta
from genbench.validate import validate_dataset


def test_the_shipped_mini_split_is_the_default_data_valid_and_official(capsys: pytest.CaptureFixture[str]) -> None:
    root = harness.default_data()
    assert root == sp.SHIPPED and read_info(root).name == sp.SPLITS["mini"].dataset_name
    report = validate_dataset(root)
    assert report.ok, report.problems
    generators = {read_meta(root, sid).generator for sid in list_scene_ids(root)}
    assert generators == {"kubric", "paste", "tripod"}
    assert {s.split for s in read_manifest(root)} == {"test"}
    assert main(["benchmark", "verify"]) == 0
    assert "the official genbench-benchmark-mini-v1" in capsys.readouterr().out


def test_a_changed_missing_or_extra_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "mini"
    shutil.copytree(sp.SHIPPED, copy)
    frames = sorted((copy / contract.SCENES_DIR).rglob("*.png"))
    changed, removed = frames[0], frames[1]
    data = bytearray(changed.read_bytes())
    data[-20] ^= 1
    changed.write_bytes(bytes(data))
    removed.unlink()
    (copy / "notes.txt").write_text("mine")
    assert main(["benchmark", "verify", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"changed: {changed.relative_to(copy).as_posix()}" in out
    assert f"missing: {removed.relative_to(copy).as_posix()}" in out
    assert "not in the split: notes.txt" in out
    assert "NOT the official" in out


def test_build_refuses_an_existing_folder_and_unknown_splits(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "there").mkdir()
    assert main(["benchmark", "build", "--out", str(tmp_path / "there")]) == 1
    assert main(["benchmark", "build", "--split", "huge", "--out", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "already exists" in err[0] and "unknown benchmark split 'huge'" in err[1]
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_a_small_recipe_builds_a_test_only_dataset_with_every_part(tmp_path: Path) -> None:
    recipe = replace(sp.SPLITS["mini"], name="micro", kubric_scenes=1, resolution=32, frames=8, samples=8,
                     aux_scenes=4, paste_scenes=1, tripod_plate_frames=3)
    root = sp.build_split(recipe, tmp_path / "micro")
    assert validate_dataset(root).ok
    assert read_info(root).settings["recipe"]["name"] == "micro"
    metas = [read_meta(root, sid) for sid in list_scene_ids(root)]
    assert {m.split for m in metas} == {"test"}
    kinds = sorted(m.generator for m in metas)
    assert kinds.count("kubric") == 1 and kinds.count("paste") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["micro"]  # the work folder is gone
    sums = sp.write_checksums(root, tmp_path / "micro.sha256")
    assert sp.verify_checksums(root, sums).ok
