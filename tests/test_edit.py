"""`genbench edit` on a toy decomposition (the toy scene's exact GT layers): each edit gives the expected frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genbench import contract
from genbench.cli import build_parser
from genbench.commands.edit import run as edit
from genbench.errors import GenbenchError
from genbench.frames import read_video, write_video
from genbench.generators.toy import ToySettings, make_toy_scene
from genbench.models.omnimatte.compose import compose
from genbench.models.omnimatte.edits import retime_indices, text_layer


@pytest.fixture
def layers(tmp_path: Path):
    """A decomposition folder holding toy scene 0's GT bg and layers (objects 1, 2, 3 back to front)."""
    scene = make_toy_scene(ToySettings(seed=7, resolution=32, frames=6, max_objects=3), 0)
    folder = tmp_path / "layers"
    write_video(folder / contract.BG, scene.rgb[contract.BG])
    for k, layer in scene.layers.items():
        write_video(folder / contract.LAYERS_DIR / str(k), layer)
    (folder / "decompose.json").write_text(json.dumps({"order": [1, 2, 3]}))
    return scene, folder


def _edit(*argv: str) -> int:
    return edit(build_parser().parse_args(["edit", *argv]))


def test_no_edit_recomposes_the_input_and_remove_gives_the_background_there(layers, tmp_path: Path) -> None:
    scene, folder = layers
    assert _edit(str(folder), "--retime", "1:1", "--out", str(tmp_path / "same")) == 0
    assert np.array_equal(read_video(tmp_path / "same" / "frames"), scene.rgb[contract.FULL])
    assert _edit(str(folder), "--remove", "2", "--out", str(tmp_path / "rm")) == 0
    frames = read_video(tmp_path / "rm" / "frames")
    assert np.array_equal(frames, scene.rgb[contract.minus_video(2)])  # object 2 and its shadow are gone
    only_2 = (scene.layers[2][..., 3] > 0) & (scene.layers[1][..., 3] == 0) & (scene.layers[3][..., 3] == 0)
    assert only_2.any() and np.array_equal(frames[only_2], scene.rgb[contract.BG][only_2])
    assert (tmp_path / "rm" / "preview.gif").stat().st_size > 0


def test_retime_plays_one_layer_slower(layers, tmp_path: Path) -> None:
    scene, folder = layers
    assert retime_indices(6, 0.5).tolist() == [0, 0, 1, 1, 2, 2]
    assert retime_indices(4, 2.0).tolist() == [0, 2, 3, 3]
    assert _edit(str(folder), "--retime", "3:0.5", "--out", str(tmp_path / "slow")) == 0
    slow = {**scene.layers, 3: scene.layers[3][[0, 0, 1, 1, 2, 2]]}
    expected = compose(scene.rgb[contract.BG], slow, [1, 2, 3])
    assert np.array_equal(read_video(tmp_path / "slow" / "frames"), expected)
    assert not np.array_equal(expected, scene.rgb[contract.FULL])


def test_insert_behind_goes_between_the_background_and_the_object(layers, tmp_path: Path) -> None:
    scene, folder = layers
    image = np.zeros((16, 16, 3), np.uint8)
    image[..., 2] = 255  # a pure blue square, scaled to fill the 32x32 frame
    Image.fromarray(image).save(tmp_path / "blue.png")
    assert _edit(str(folder), "--insert", str(tmp_path / "blue.png"), "--behind", "1",
                 "--out", str(tmp_path / "ins")) == 0
    frames = read_video(tmp_path / "ins" / "frames")
    blue = np.broadcast_to(np.array([0, 0, 255], np.uint8), frames.shape)
    expected = compose(blue.copy(), scene.layers, [1, 2, 3])  # an opaque insert hides the background only
    assert np.array_equal(frames, expected)
    assert json.loads((tmp_path / "ins" / "edit.json").read_text())["order"] == [0, 1, 2, 3]
    alone = (scene.layers[1][..., 3] == 255) & (scene.visible == 1)
    assert alone.any() and np.array_equal(frames[alone], scene.rgb[contract.FULL][alone])  # object 1 stays in front


def test_text_layer_and_bad_edits(layers, tmp_path: Path) -> None:
    _, folder = layers
    text = text_layer("HI", (32, 32))
    assert text.shape == (32, 32, 4) and 0 < np.count_nonzero(text[..., 3]) < 32 * 32
    assert _edit(str(folder), "--insert", "text:HI", "--behind", "2", "--out", str(tmp_path / "t")) == 0
    for argv, message in [(["--remove", "9"], "no layer 9"), (["--retime", "1"], "K:FACTOR"),
                          (["--retime", "1:0"], "> 0"), (["--insert", "text:x"], "go together"),
                          ([], "no edit given"), (["--insert", str(tmp_path / "nope.png"), "--behind", "1"],
                                                  "no such image")]:
        with pytest.raises(GenbenchError, match=message):
            _edit(str(folder), *argv, "--out", str(tmp_path / "bad"))
    with pytest.raises(GenbenchError, match="not a decomposition"):
        _edit(str(tmp_path), "--remove", "1", "--out", str(tmp_path / "bad"))
    assert not (tmp_path / "bad").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
