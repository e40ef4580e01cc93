"""Method recipes: each converter end to end on its stand-in (tests/standins/), status reporting, `genbench methods`.

A stand-in takes exactly its method's command line and file layout and paints the hole it read magenta,
keeping the input elsewhere. So a prediction that is magenta inside the trimask's remove region and the
input outside it shows that genbench wrote the mask with the method's polarity and thresholds, passed
the frames in order, met its size and frame-count rules and read its output back at the input size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from genbench import contract
from genbench.benchmark import harness
from genbench.commands import BY_NAME
from genbench.commands import eval as eval_cmd
from genbench.commands import methods as methods_cmd
from genbench.errors import GenbenchError
from genbench.frames import read_video
from genbench.methods import METHODS
from genbench.recipes import common
from genbench.recipes.common import Recipe, env_name
from genbench.recipes.diffueraser import processing_size
from genbench.samples import load_removal, removal_samples

STANDINS = Path(__file__).resolve().parent / "standins"
MAGENTA = np.array([255, 0, 255], np.float64)
# recipe -> its stand-in folder (a checkout's layout)
RUNNABLE = {"propainter": "propainter", "diffueraser": "diffueraser", "rose": "rose",
            "gen-omnimatte-wan": "gen-omnimatte", "gen-omnimatte-cogvideox": "gen-omnimatte",
            "omnimattezero": "omnimattezero", "minimax-remover": "minimax-remover", "effecterase": "effecterase"}
LISTED_ONLY = ("svor",)


def install_standin(name: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in checkout with placeholder weights where the recipe looks for them, run by this interpreter."""
    root = tmp / "standins"
    if not root.exists():
        shutil.copytree(STANDINS, root)
    checkout = root / RUNNABLE[name]
    recipe: type[Recipe] = METHODS.get(name)
    for weight in recipe.weights:
        path = recipe.weight_path(weight, checkout)
        if path is None or not path.is_relative_to(checkout):  # absolute or unset: give one through the environment
            path = tmp / "weights" / name / weight.env_suffix
            monkeypatch.setenv(env_name(name, weight.env_suffix), str(path))
        path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv(env_name(name, "PYTHON"), sys.executable)
    return checkout


def eroded(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return np.stack([cv2.erode(m.astype(np.uint8), kernel) > 0 for m in mask])


def test_every_recipe_runs_its_standin_through_genbench_eval(toy_dataset: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """One `genbench eval` over all eight: the last by ``NAME:CHECKOUT``, the others by GENBENCH_<NAME>_CHECKOUT."""
    names = sorted(RUNNABLE)
    checkouts = {name: install_standin(name, tmp_path, monkeypatch) for name in names}
    for name in names[:-1]:
        monkeypatch.setenv(env_name(name, "CHECKOUT"), str(checkouts[name]))
    spec = ",".join(names) + f":{checkouts[names[-1]]}"
    parser = argparse.ArgumentParser()
    BY_NAME["eval"].add_arguments(parser)
    out = tmp_path / "eval"
    args = parser.parse_args(["--method", spec, "--data", str(toy_dataset), "--split", "val", "--out", str(out)])
    assert eval_cmd.run(args) == 0
    summaries = json.loads((out / "results.json").read_text())["methods"]
    labels = [*names[:-1], harness.method_label(f"{names[-1]}:{checkouts[names[-1]]}")]
    assert sorted(summaries) == sorted(labels)

    sample = removal_samples(toy_dataset, "val")[0]
    item = load_removal(toy_dataset, sample, None)
    hole = eroded(item.trimask == contract.TRIMASK_REMOVE, 1)
    keep = eroded(item.trimask != contract.TRIMASK_REMOVE, 3)
    assert hole.any() and keep.any()
    for name, label in zip(names, labels, strict=True):
        summary, recipe = summaries[label], METHODS.get(name)
        about = summary["method"]
        assert about["recipe"] == name and about["commit_read"] == recipe.source.commit
        assert about["settings"] == json.loads(json.dumps(recipe.settings)) and about["paste_back"] is False
        assert about["checkout"] == str(checkouts[name].resolve())
        assert about["checkout_commit"] is None  # a copied folder, not a git work tree
        pred = read_video(Path(summary["predictions"]["path"]) / sample.sample_id).astype(np.float64)
        assert pred.shape == item.frames.shape
        # inside the remove region: what the stand-in painted (the mask reached it with the method's polarity)
        inside = np.abs(pred[hole] - MAGENTA).mean()
        assert inside < 12, (name, inside)
        # well outside it: the input (mp4 and resizing cost a few levels)
        outside = np.abs(pred - item.frames)[keep].mean()
        assert outside < 6, (name, outside)


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_each_recipe_keeps_frame_order_through_padding_and_resizing(name: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame a different flat colour, an odd length (padded by every frame-count rule): frame t comes back as
    t. The trimask's uncertain band reaches no method as hole (Casper's trimask keeps it as neutral)."""
    checkout = install_standin(name, tmp_path, monkeypatch)
    colours = np.random.default_rng(3).integers(20, 230, (7, 3)).astype(np.uint8)
    frames = np.broadcast_to(colours[:, None, None, :], (7, 24, 40, 3)).copy()
    trimask = np.full((7, 24, 40), 255, np.uint8)
    trimask[:, 4:20, 8:32] = 128
    trimask[:, 8:16, 12:24] = 0
    out = METHODS.get(name)(str(checkout)).remove(frames, trimask).astype(np.float64)
    assert out.shape == frames.shape
    assert np.abs(out[:, 10:14, 15:21] - MAGENTA).mean() < 12
    flat = colours[:, None, None, :]
    assert np.abs(out[:, :3, :] - flat).max() < 8  # preserve
    assert np.abs(out[:, 4:6, 26:31] - flat).max() < 8  # uncertain


def test_effecterase_gets_its_object_in_the_first_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its script crops the object from the first frame it reads: a clip whose object only enters later is given
    backwards and its output turned round (frame t still comes back as t); one with neither end is refused."""
    checkout = install_standin("effecterase", tmp_path, monkeypatch)
    colours = np.random.default_rng(4).integers(20, 230, (6, 3)).astype(np.uint8)
    frames = np.broadcast_to(colours[:, None, None, :], (6, 24, 40, 3)).copy()
    trimask = np.full((6, 24, 40), 255, np.uint8)
    trimask[3:, 8:16, 12:24] = 0  # enters at frame 3
    method = METHODS.get("effecterase")(str(checkout))
    out = method.remove(frames, trimask).astype(np.float64)
    flat = colours[:, None, None, :]
    assert np.abs(out[3:, 10:14, 15:21] - MAGENTA).mean() < 12
    assert np.abs(out[:3, 10:14, 15:21] - flat[:3]).max() < 8  # no hole before it enters
    assert np.abs(out[:, :3, :] - flat).max() < 8
    trimask[-1] = 255  # now in neither the first nor the last frame
    with pytest.raises(GenbenchError, match="first or the last frame"):
        method.remove(frames, trimask)
    long = np.zeros((82, 8, 8, 3), np.uint8), np.zeros((82, 8, 8), np.uint8)
    with pytest.raises(GenbenchError, match="takes at most 81 frames; the clip has 82 \\(pass --max-frames 81\\)"):
        method.remove(*long)


def test_paste_back_copies_the_preserve_region_and_is_recorded(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = install_standin("diffueraser", tmp_path, monkeypatch)
    frames = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
    trimask = np.full((3, 32, 32), 255, np.uint8)
    trimask[:, 10:20, 10:20] = 0
    plain = METHODS.get("diffueraser")(str(checkout)).remove(frames, trimask)
    assert not np.array_equal(plain[trimask == 255], frames[trimask == 255])  # enlarged to 256 px, lossy mp4, and back
    fingerprint = METHODS.get("diffueraser").fingerprint(str(checkout))
    monkeypatch.setenv("GENBENCH_DIFFUERASER_PASTE_BACK", "1")
    pasted = METHODS.get("diffueraser")(str(checkout)).remove(frames, trimask)
    assert np.array_equal(pasted[trimask == 255], frames[trimask == 255])
    assert np.array_equal(pasted[trimask == 0], plain[trimask == 0])
    assert METHODS.get("diffueraser").describe(str(checkout))["paste_back"] is True
    assert METHODS.get("diffueraser").fingerprint(str(checkout)) != fingerprint  # a new setting: new predictions


def test_status_names_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENBENCH_PROPAINTER_CHECKOUT", raising=False)
    status = METHODS.get("propainter").status(None)
    assert status.status == common.STATUS_MISSING and "GENBENCH_PROPAINTER_CHECKOUT" in status.line
    empty = tmp_path / "empty"
    empty.mkdir()
    line = METHODS.get("propainter").status(str(empty)).line
    assert "inference_propainter.py missing" in line and "weights/ProPainter.pth" in line
    with pytest.raises(GenbenchError, match=r"not installed: .*inference_propainter\.py"):
        METHODS.get("propainter")(str(empty))
    checkout = install_standin("propainter", tmp_path, monkeypatch)
    assert METHODS.get("propainter").status(str(checkout)).status == common.STATUS_READY
    (checkout / "weights" / "raft-things.pth").rmdir()
    assert METHODS.get("propainter").status(str(checkout)).missing == [
        f"weights/raft-things.pth not at {checkout / 'weights/raft-things.pth'} (a path fixed in the method's code)"]


def test_a_failing_method_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = install_standin("diffueraser", tmp_path, monkeypatch)
    vae = tmp_path / "vae"
    vae.mkdir()
    monkeypatch.setenv("GENBENCH_DIFFUERASER_VAE", str(vae))
    method = METHODS.get("diffueraser")(str(checkout))
    vae.rmdir()  # gone after the status check: the program itself fails
    with pytest.raises(GenbenchError, match=f"exited with 2: --vae_path {vae} not found"):
        method.remove(np.zeros((2, 16, 16, 3), np.uint8), np.full((2, 16, 16), 255, np.uint8))


def test_listed_methods_without_runnable_code_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    for name in LISTED_ONLY:
        status = METHODS.get(name).status()
        assert status.status != common.STATUS_READY and status.missing
        with pytest.raises(GenbenchError, match=name):
            METHODS.get(name)()


def test_eval_refuses_a_method_that_cannot_run_before_writing_anything(toy_dataset: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENBENCH_ROSE_CHECKOUT", raising=False)
    cases = ((["identity", "rose"], "method 'rose': not installed: no checkout"),
             ([f"rose:{tmp_path / 'nowhere'}"], "is not a folder"), (["svor"], "method 'svor': no public code"))
    for specs, message in cases:
        with pytest.raises(GenbenchError, match=message):
            harness.evaluate(specs, toy_dataset, tmp_path / "out", harness.EvalSettings(split="val"))
        assert not (tmp_path / "out").exists()


def test_genbench_methods_lists_every_method_with_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    checkout = install_standin("propainter", tmp_path, monkeypatch)
    monkeypatch.delenv("GENBENCH_ROSE_CHECKOUT", raising=False)
    monkeypatch.setenv("GENBENCH_DIFFUERASER_CHECKOUT", str(tmp_path / "nowhere"))
    parser = argparse.ArgumentParser()
    BY_NAME["methods"].add_arguments(parser)
    assert methods_cmd.run(parser.parse_args(["--method", f"propainter:{checkout}", "--json"])) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(METHODS.names())
    assert rows["propainter"]["status"] == "ready" and rows["propainter"]["source"].endswith("sczhou/ProPainter")
    assert rows["rose"]["status"].startswith("not installed: no checkout")
    assert rows["diffueraser"]["status"] == f"not installed: checkout {tmp_path / 'nowhere'} is not a folder"
    assert rows["svor"]["status"].startswith("no public code")
    assert rows["identity"] == {"name": "identity", "task": "removal", "status": "ready", "source": "genbench"}
    assert rows["mask-alpha"]["task"] == "layering"
    assert methods_cmd.run(parser.parse_args([])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("propainter") and "not installed" in line for line in lines)
    for bad in ("propainter", "identity:/opt", "nosuch:/opt"):
        with pytest.raises(GenbenchError):
            methods_cmd.run(parser.parse_args(["--method", bad]))


def test_frame_count_and_size_rules() -> None:
    assert [common.next_length(n, 16) for n in (1, 17, 18, 24)] == [1, 17, 33, 33]
    assert common.next_length(5, 8, minimum=22) == 25
    clip = np.arange(3)[:, None]
    assert common.mirror_pad(clip, 8)[:, 0].tolist() == [0, 1, 2, 2, 1, 0, 0, 1]
    assert processing_size(64, 96) == (168, 256) and processing_size(300, 500) == (296, 496)


def test_the_readme_method_table_matches_the_registry() -> None:
    from tests.readme_tables import readme_rows

    rows = {r["name"].strip("`"): r for r in readme_rows("Published methods (status without a checkout").values()}
    recipes = {n for n in METHODS.names() if getattr(METHODS.get(n), "needs_checkout", False)}
    assert set(rows) == recipes == set(RUNNABLE) | set(LISTED_ONLY)
    for name, row in rows.items():
        cls = METHODS.get(name)
        runnable = issubclass(cls, Recipe)
        assert row["genbench status"] == ("runnable" if runnable else cls.status_kind)
        if cls.source.commit:
            assert cls.source.commit[:7] in row["code read at"]
        if runnable:
            assert cls.status(None).status == common.STATUS_MISSING


def test_mp4_inputs_reach_opencv_as_written(tmp_path: Path) -> None:
    """The methods read mp4 with OpenCV (DiffuEraser's and ROSE's masks) or ffmpeg: masks and trimasks arrive exact,
    frames within RGB-YUV rounding."""
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (5, 32, 48, 3), dtype=np.uint8)
    trimask = np.full((5, 32, 48), 255, np.uint8)
    trimask[:, 8:20, 10:30], trimask[:, 2:6, 2:6] = 0, 128
    written = {"frames": frames, "hole": common.hole_mask(trimask), "trimask": trimask}
    read = {}
    for name, video in written.items():
        common.write_mp4(tmp_path / f"{name}.mp4", video)
        capture = cv2.VideoCapture(str(tmp_path / f"{name}.mp4"))
        got = []
        while (frame := capture.read())[0]:
            got.append(cv2.cvtColor(frame[1], cv2.COLOR_BGR2RGB))
        assert capture.get(cv2.CAP_PROP_FPS) == common.PLAYBACK_FPS
        read[name] = np.stack(got)
    assert np.abs(read["frames"].astype(int) - frames).max() <= 2
    assert np.array_equal(read["hole"][..., 0] > 0, trimask == 0)  # DiffuEraser's threshold
    assert np.array_equal(read["hole"][..., 0] >= 240, trimask == 0)  # ROSE's
    tri = read["trimask"][..., 0]
    assert np.array_equal(np.where(tri > 192, 255, np.where(tri >= 64, 128, 0)), trimask)  # Casper's
    assert np.array_equal(common.read_mp4(tmp_path / "trimask.mp4", 3), read["trimask"][:3])
    with pytest.raises(GenbenchError, match="even frame size"):
        common.write_mp4(tmp_path / "odd.mp4", frames[:, :31])
