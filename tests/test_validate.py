"""The validator passes a good dataset and names the path and problem of each corruption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from genbench import contract
from genbench.cli import main
from genbench.dataset import read_manifest
from genbench.scene import list_scene_ids
from genbench.validate import validate_dataset


def first_scene(root: Path) -> Path:
    return root / contract.SCENES_DIR / list_scene_ids(root)[0]


def frame(root: Path, video: str, index: int = 0) -> Path:
    return first_scene(root) / video / contract.frame_name(index)


def errors(root: Path) -> list[str]:
    report = validate_dataset(root)
    assert not report.ok, "corruption not detected"
    return [str(p) for p in report.errors]


def one_error(root: Path, path_part: str, message_part: str) -> None:
    found = errors(root)
    assert any(path_part in e and message_part in e for e in found), found


def test_valid_dataset_passes(toy_dataset: Path) -> None:
    report = validate_dataset(toy_dataset)
    assert report.ok, [str(p) for p in report.problems]
    assert report.scenes == 4 and report.samples == len(read_manifest(toy_dataset)) > 4
    assert report.frames > 0


def test_validate_with_workers(toy_dataset: Path) -> None:
    frame(toy_dataset, "rgb/full", 1).unlink()
    report = validate_dataset(toy_dataset, workers=2)
    assert any("frames missing" in str(p) for p in report.errors)


def test_missing_frame(toy_dataset: Path) -> None:
    frame(toy_dataset, "rgb/bg", 2).unlink()
    one_error(toy_dataset, "rgb/bg", "1 of 4 frames missing: 00002.png")


def test_wrong_size(toy_dataset: Path) -> None:
    Image.new("RGB", (31, 32)).save(frame(toy_dataset, "rgb/full", 0))
    one_error(toy_dataset, "rgb/full/00000.png", "size 31x32, expected 32x32")


def test_wrong_mode(toy_dataset: Path) -> None:
    Image.new("RGBA", (32, 32)).save(frame(toy_dataset, "rgb/full", 1))
    Image.new("RGB", (32, 32)).save(frame(toy_dataset, "layers/1", 0))
    one_error(toy_dataset, "rgb/full/00001.png", "PNG mode RGBA, expected RGB")
    one_error(toy_dataset, "layers/1/00000.png", "PNG mode RGB, expected RGBA")


def test_visible_mask_with_unknown_id(toy_dataset: Path) -> None:
    path = frame(toy_dataset, "masks/visible", 0)
    mask = np.asarray(Image.open(path)).copy()
    mask[0, 0] = 9
    Image.fromarray(mask).save(path)
    one_error(toy_dataset, "masks/visible/00000.png", "values [9] not allowed")


def test_amodal_mask_not_binary(toy_dataset: Path) -> None:
    path = frame(toy_dataset, "masks/amodal/1", 3)
    mask = np.asarray(Image.open(path)).copy()
    mask[5, 5] = 7
    Image.fromarray(mask).save(path)
    one_error(toy_dataset, "masks/amodal/1/00003.png", "values [7] not allowed (allowed: [0, 255])")


def test_stored_trimask_with_a_fourth_value(toy_dataset: Path) -> None:
    scene = first_scene(toy_dataset)
    meta = json.loads((scene / contract.META_FILE).read_text())
    sid = contract.sample_id(meta["scene_id"], [1])
    folder = scene / contract.TRIMASK_DIR / sid
    folder.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.full((32, 32), 128 if i else 64, np.uint8)).save(folder / contract.frame_name(i))
    one_error(toy_dataset, f"trimask/{sid}/00000.png", "values [64] not allowed (allowed: [0, 128, 255])")


def test_not_a_png(toy_dataset: Path) -> None:
    Image.new("RGB", (32, 32)).save(frame(toy_dataset, "rgb/full", 0), format="JPEG")
    frame(toy_dataset, "rgb/bg", 0).write_bytes(b"not an image")
    one_error(toy_dataset, "rgb/full/00000.png", "is JPEG, frames must be PNG")
    one_error(toy_dataset, "rgb/bg/00000.png", "unreadable image")


def test_extra_frame_and_unlisted_video(toy_dataset: Path) -> None:
    Image.new("RGB", (32, 32)).save(frame(toy_dataset, "rgb/full", 4))
    (first_scene(toy_dataset) / "rgb" / "minus_9").mkdir()
    one_error(toy_dataset, "rgb/full", "unexpected file(s) 00004.png")
    one_error(toy_dataset, "rgb/minus_9", "folder not listed in meta.json")


def test_missing_video_folder(toy_dataset: Path) -> None:
    import shutil

    shutil.rmtree(first_scene(toy_dataset) / "rgb" / "minus_1")
    one_error(toy_dataset, "rgb/minus_1", "video folder missing")


def test_dangling_manifest_row(toy_dataset: Path) -> None:
    path = toy_dataset / contract.MANIFEST_FILE
    frame_ = pd.read_parquet(path)
    row = frame_.iloc[[0]].copy()
    row["sample_id"] = "ghost__rm1"
    row["scene_id"] = "ghost"
    pd.concat([frame_, row]).to_parquet(path, index=False)
    one_error(toy_dataset, "manifest.parquet[ghost__rm1]", "points at scene 'ghost', which does not exist")


def test_manifest_row_disagreeing_with_scene(toy_dataset: Path) -> None:
    path = toy_dataset / contract.MANIFEST_FILE
    frame_ = pd.read_parquet(path)
    frame_.loc[0, "num_frames"] = 99
    frame_.to_parquet(path, index=False)
    one_error(toy_dataset, f"manifest.parquet[{frame_.loc[0, 'sample_id']}]", "disagrees with meta.json on num_frames")


def test_stale_manifest_missing_rows(toy_dataset: Path) -> None:
    path = toy_dataset / contract.MANIFEST_FILE
    frame_ = pd.read_parquet(path)
    frame_.iloc[1:].to_parquet(path, index=False)
    one_error(toy_dataset, "manifest.parquet", "is missing: the manifest is stale")


def test_missing_or_corrupt_manifest(toy_dataset: Path) -> None:
    path = toy_dataset / contract.MANIFEST_FILE
    path.write_bytes(b"PAR1 garbage")
    one_error(toy_dataset, "manifest.parquet", "unreadable parquet")
    path.unlink()
    one_error(toy_dataset, "manifest.parquet", "manifest not found")


def test_corrupt_meta_json(toy_dataset: Path) -> None:
    (first_scene(toy_dataset) / contract.META_FILE).write_text("{ not json")
    one_error(toy_dataset, "meta.json", "invalid JSON")


def test_meta_missing_field(toy_dataset: Path) -> None:
    path = first_scene(toy_dataset) / contract.META_FILE
    meta = json.loads(path.read_text())
    del meta["metadata"]["num_frames"]
    path.write_text(json.dumps(meta))
    one_error(toy_dataset, "meta.json", "missing field 'num_frames'")


def test_dataset_json_counts_checked(toy_dataset: Path) -> None:
    path = toy_dataset / contract.DATASET_FILE
    info = json.loads(path.read_text())
    info["counts"]["train"] = {"scenes": 100, "samples": 1}
    path.write_text(json.dumps(info))
    one_error(toy_dataset, "dataset.json", "disagree with the scenes on disk")
    path.unlink()
    one_error(toy_dataset, "dataset.json", "file not found")


def test_partial_scene_is_a_warning_not_an_error(toy_dataset: Path) -> None:
    (toy_dataset / contract.SCENES_DIR / f"{contract.PARTIAL_PREFIX}x-123").mkdir()
    report = validate_dataset(toy_dataset)
    assert report.ok
    assert [p.severity for p in report.problems] == ["warning"]


def test_cli_exit_codes_and_messages(toy_dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(toy_dataset)]) == 0
    assert "valid; 4 scenes" in capsys.readouterr().out
    frame(toy_dataset, "rgb/full", 0).unlink()
    assert main(["validate", str(toy_dataset)]) == 1
    out = capsys.readouterr().out
    assert "error: scenes/" in out and "rgb/full: 1 of 4 frames missing: 00000.png" in out
    assert "INVALID: 1 error(s)" in out
    assert main(["validate", "--json", str(toy_dataset)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and len(report["problems"]) == 1


def test_not_a_dataset(tmp_path: Path) -> None:
    report = validate_dataset(tmp_path / "nope")
    assert [str(p) for p in report.errors] == [f"error: {tmp_path / 'nope'}: not a folder"]
