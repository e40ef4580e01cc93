"""Scenes round-trip byte-exactly and are written atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from genbench import contract, frames
from genbench.errors import DatasetError
from genbench.generators.toy import make_toy_scene
from genbench.scene import list_scene_ids, read_scene, scene_complete, write_scene

from .conftest import TOY


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_round_trip_is_exact(tmp_path: Path) -> None:
    scene = make_toy_scene(TOY, 1)
    folder = write_scene(tmp_path / "a", scene)
    back = read_scene(tmp_path / "a", scene.meta.scene_id)
    assert back.meta == scene.meta
    assert back.rgb.keys() == scene.rgb.keys()
    for name in scene.rgb:
        np.testing.assert_array_equal(back.rgb[name], scene.rgb[name])
    for k in scene.layers:
        np.testing.assert_array_equal(back.layers[k], scene.layers[k])
        np.testing.assert_array_equal(back.amodal[k], scene.amodal[k])
    np.testing.assert_array_equal(back.visible, scene.visible)
    # writing what was read gives the same bytes, file for file
    again = write_scene(tmp_path / "b", back)
    assert tree_digest(folder) == tree_digest(again)


def test_stored_trimask_round_trips(tmp_path: Path) -> None:
    scene = make_toy_scene(TOY, 0)
    sid = contract.sample_id(scene.meta.scene_id, (1,))
    tri = np.full(scene.visible.shape, 128, np.uint8)
    tri[scene.visible == 1] = 0
    scene.trimasks[sid] = tri
    write_scene(tmp_path, scene)
    np.testing.assert_array_equal(read_scene(tmp_path, scene.meta.scene_id).trimasks[sid], tri)


def test_crash_mid_write_leaves_no_scene_and_rerun_completes(tmp_path: Path, monkeypatch) -> None:
    scene = make_toy_scene(TOY, 2)
    calls = {"n": 0}
    real = frames.write_image

    def failing(path, frame):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full (simulated)")
        real(path, frame)

    monkeypatch.setattr(frames, "write_image", failing)
    with pytest.raises(OSError, match="simulated"):
        write_scene(tmp_path, scene)
    assert not scene_complete(tmp_path, scene.meta.scene_id)
    assert list_scene_ids(tmp_path) == []
    assert list((tmp_path / contract.SCENES_DIR).iterdir()) == []  # the partial folder is cleaned up

    monkeypatch.setattr(frames, "write_image", real)
    write_scene(tmp_path, scene)
    assert list_scene_ids(tmp_path) == [scene.meta.scene_id]
    np.testing.assert_array_equal(read_scene(tmp_path, scene.meta.scene_id).rgb["full"], scene.rgb["full"])


def test_partial_folder_from_a_killed_writer_is_invisible_and_replaced(tmp_path: Path) -> None:
    scene = make_toy_scene(TOY, 3)
    leftover = tmp_path / contract.SCENES_DIR / f"{contract.PARTIAL_PREFIX}{scene.meta.scene_id}-dead"
    (leftover / "rgb" / "full").mkdir(parents=True)
    (leftover / "rgb" / "full" / "00000.png").write_bytes(b"half")
    assert list_scene_ids(tmp_path) == []
    write_scene(tmp_path, scene)
    assert not leftover.exists()
    assert list_scene_ids(tmp_path) == [scene.meta.scene_id]


def test_existing_scene_is_not_overwritten_by_accident(tmp_path: Path) -> None:
    scene = make_toy_scene(TOY, 0)
    write_scene(tmp_path, scene)
    with pytest.raises(DatasetError, match="scene exists"):
        write_scene(tmp_path, scene)
    write_scene(tmp_path, scene, overwrite=True)
    assert list_scene_ids(tmp_path) == [scene.meta.scene_id]


def test_inconsistent_scene_is_rejected_before_writing(tmp_path: Path) -> None:
    scene = make_toy_scene(TOY, 0)
    scene.rgb["full"] = scene.rgb["full"][:, :-1]
    with pytest.raises(DatasetError, match="rgb/full"):
        write_scene(tmp_path, scene)
    assert not (tmp_path / contract.SCENES_DIR).exists() or list_scene_ids(tmp_path) == []


def test_frames_are_deterministic_png(tmp_path: Path) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (8, 8, 3)).astype(np.uint8)
    frames.write_image(tmp_path / "a.png", frame)
    frames.write_image(tmp_path / "b.png", frame)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    with pytest.raises(ValueError, match="uint8"):
        frames.write_image(tmp_path / "c.png", frame.astype(np.float32))
