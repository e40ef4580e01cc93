"""`genbench eval`: run methods through the registry, cache and validate predictions, score, write reports."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from genbench import contract
from genbench.benchmark import harness
from genbench.benchmark.harness import EvalSettings, alpha_scores, evaluate, mean_alpha_iou
from genbench.benchmark.metrics import FrameScorer
from genbench.benchmark.predictions import PredictionsError
from genbench.benchmark.report import write_report
from genbench.benchmark.results import write_results
from genbench.commands import _eval
from genbench.commands import eval as eval_cmd
from genbench.errors import GenbenchError
from genbench.frames import read_video, write_video
from genbench.methods import LayeringMethod, RemovalMethod
from genbench.pixels import PSNR_CAP, over
from genbench.registry import Registry, UnknownName
from genbench.samples import layering_scenes, removal_samples
from genbench.scene import scene_dir

SPLIT = "train"  # the toy fixture's train split: 12 samples of 4 frames, 32x32


class Identity(RemovalMethod):
    """Output = input: the floor."""

    calls = 0

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        type(self).calls += 1
        return frames


class WrongShape(RemovalMethod):
    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        return frames[:, :-1]


class MaskAlpha(LayeringMethod):
    """Background = input; layer k = the input's pixels where k is visible, opaque."""

    def decompose(self, frames: np.ndarray, masks: dict[int, np.ndarray]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        layers = {}
        for k, m in masks.items():
            layer = np.zeros((*frames.shape[:3], 4), dtype=np.uint8)
            layer[..., :3] = frames
            layer[..., 3] = np.where(m, 255, 0)
            layers[k] = layer
        return frames.copy(), layers


@pytest.fixture(scope="module")
def scorer() -> FrameScorer:
    return FrameScorer("cpu")


@pytest.fixture
def registry() -> Registry:
    reg = Registry("method")
    reg.register("identity", Identity)
    reg.register("wrong-shape", WrongShape)
    reg.register("mask-alpha", MaskAlpha)
    return reg


def _oracle_predictions(data: Path, root: Path, split: str = SPLIT) -> Path:
    """The ground truth written as removal predictions."""
    for s in removal_samples(data, split):
        write_video(root / s.sample_id, read_video(scene_dir(data, s.scene_id) / contract.RGB_DIR / s.target))
    return root


def _numpy_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) / 255 - b.astype(np.float64) / 255) ** 2)
    return min(10 * np.log10(1 / mse), PSNR_CAP) if mse > 0 else PSNR_CAP


def test_identity_runs_and_every_output_appears(toy_dataset: Path, tmp_path: Path, registry: Registry,
                                                 scorer: FrameScorer) -> None:
    out = tmp_path / "out"
    result = evaluate(["identity"], toy_dataset, out, EvalSettings(split=SPLIT), registry=registry, scorer=scorer)
    paths = write_results(out, result)
    report = write_report(out, result, toy_dataset)

    summary = json.loads(paths["json"].read_text())
    ident = summary["methods"]["identity"]
    assert ident["task"] == "removal" and ident["clips"] == 12 and ident["frames"] == 48
    assert set(ident["regions"]) == {"full", "object", "effect", "preserve", "effect:shadow"}  # toy shadows
    assert all(set(v) == {"psnr", "ssim", "lpips"} for v in ident["regions"].values())
    # identity leaves shadows behind: the effect region scores far worse than the preserve region
    assert ident["regions"]["effect"]["psnr"] < ident["regions"]["preserve"]["psnr"] - 20
    assert ident["regions"]["effect"]["lpips"] > ident["regions"]["preserve"]["lpips"]
    assert summary["dataset"]["sha256"] and ident["predictions"]["sha256"] and summary["provenance"]["genbench"]
    assert summary["protocol"]["lpips"]["version"] == "0.1" and "clip-weighted" in summary["protocol"]["weighting"]

    rows = list(csv.DictReader(paths["csv"].open()))
    assert len(rows) == 12 and {r["method"] for r in rows} == {"identity"}
    row = rows[0]  # the per-clip PSNR equals a direct numpy computation (the PSNR of the clip's MSE)
    s = next(s for s in removal_samples(toy_dataset, SPLIT) if s.sample_id == row["item"])
    full = read_video(scene_dir(toy_dataset, s.scene_id) / contract.RGB_DIR / contract.FULL)
    target = read_video(scene_dir(toy_dataset, s.scene_id) / contract.RGB_DIR / s.target)
    assert float(row["full_psnr"]) == pytest.approx(_numpy_psnr(full, target), abs=1e-5)
    assert ident["headline"] == pytest.approx((ident["regions"]["object"]["lpips"]
                                               + ident["regions"]["effect"]["lpips"]) / 2)

    md = paths["markdown"].read_text()
    assert "| identity | 12 |" in md and "effect PSNR" in md and "frame-weighted" in md
    html = report.read_text()
    assert html.count("<svg") >= 4 and "data:image/png;base64," in html and "identity" in html


def test_oracle_predictions_score_perfectly(toy_dataset: Path, tmp_path: Path, scorer: FrameScorer) -> None:
    pred = _oracle_predictions(toy_dataset, tmp_path / "pred")
    result = evaluate(["oracle"], toy_dataset, tmp_path / "out", EvalSettings(split=SPLIT), predictions=pred,
                      registry=Registry("method"), scorer=scorer)
    run = result.runs[0]
    assert not run.generated and len(run.clips) == 12
    for clip in run.clips:
        for region, values in clip.values.items():
            finite = ~np.isnan(values["psnr"])
            assert np.all(values["psnr"][finite] == PSNR_CAP), region
            assert np.all(values["lpips"][finite] == 0.0), region


def test_predictions_are_cached_and_invalidated(toy_dataset: Path, tmp_path: Path, registry: Registry,
                                                scorer: FrameScorer) -> None:
    settings = EvalSettings(split="val")
    Identity.calls = 0
    evaluate(["identity"], toy_dataset, tmp_path / "out", settings, registry=registry, scorer=scorer)
    assert Identity.calls == 1
    evaluate(["identity"], toy_dataset, tmp_path / "out", settings, registry=registry, scorer=scorer)
    assert Identity.calls == 1  # cached
    evaluate(["identity"], toy_dataset, tmp_path / "out", EvalSettings(split="val", max_frames=2),
             registry=registry, scorer=scorer)
    assert Identity.calls == 2  # another frame cap: predicted again, with 2 frames
    assert len(list((tmp_path / "out" / "predictions" / "identity").glob("*/*.png"))) == 2


def test_a_change_to_genbench_code_clears_the_prediction_cache(toy_dataset: Path, tmp_path: Path,
                                                                registry: Registry, scorer: FrameScorer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """In a checkout being worked on the version number stays; the source digest does not."""
    import genbench.dataset

    settings = EvalSettings(split="val")
    Identity.calls = 0
    evaluate(["identity"], toy_dataset, tmp_path / "out", settings, registry=registry, scorer=scorer)
    monkeypatch.setattr(genbench.dataset, "code_digest", lambda: "another checkout")
    evaluate(["identity"], toy_dataset, tmp_path / "out", settings, registry=registry, scorer=scorer)
    assert Identity.calls == 2


def test_method_errors_are_one_actionable_line(toy_dataset: Path, tmp_path: Path, registry: Registry,
                                               scorer: FrameScorer) -> None:
    kw = {"registry": registry, "scorer": scorer}
    with pytest.raises(GenbenchError, match=r"returned uint8\(4, 31, 32, 3\).*expected uint8\(4, 32, 32, 3\)"):
        evaluate(["wrong-shape"], toy_dataset, tmp_path / "a", EvalSettings(split="val"), **kw)
    with pytest.raises(GenbenchError, match="pass --task layering"):
        evaluate(["mask-alpha"], toy_dataset, tmp_path / "b", EvalSettings(split="val"), **kw)
    assert not (tmp_path / "b").exists()  # asked before any work
    with pytest.raises(UnknownName, match="did you mean 'identity'"):
        evaluate(["identiti"], toy_dataset, tmp_path / "c", EvalSettings(split="val"), **kw)
    with pytest.raises(UnknownName, match=r"^unknown method 'zzz'\. Known: identity, mask-alpha, wrong-shape$"):
        evaluate(["zzz"], toy_dataset, tmp_path / "c", EvalSettings(split="val"), **kw)
    with pytest.raises(GenbenchError, match="exactly one --method"):
        evaluate(["a", "b"], toy_dataset, tmp_path / "d", EvalSettings(split="val"), predictions=tmp_path, **kw)
    with pytest.raises(GenbenchError, match=r"no samples in split 'test'.*train, val"):
        evaluate(["identity"], toy_dataset, tmp_path / "e", EvalSettings(split="test"), **kw)
    with pytest.raises(GenbenchError, match=r"splits train, val and none is 'test'; choose one with --split"):
        evaluate(["identity"], toy_dataset, tmp_path / "e", EvalSettings(), **kw)


def test_no_data_and_no_builtin_split_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "MINI_SPLIT", tmp_path / "absent")
    with pytest.raises(GenbenchError, match="pass --data DIR"):
        harness.default_data()


def test_layering_scores_background_layers_and_alpha(toy_dataset: Path, tmp_path: Path, registry: Registry,
                                                     scorer: FrameScorer) -> None:
    settings = EvalSettings(task="layering", split=SPLIT)
    metas = layering_scenes(toy_dataset, SPLIT)
    # the oracle: GT background and GT layers, as predictions
    pred = tmp_path / "gt"
    for m in metas:
        folder = scene_dir(toy_dataset, m.scene_id)
        write_video(pred / m.scene_id / "bg", read_video(folder / contract.RGB_DIR / contract.BG))
        for k in m.object_ids:
            write_video(pred / m.scene_id / "layers" / str(k), read_video(folder / contract.LAYERS_DIR / str(k)))
    oracle = evaluate(["gt"], toy_dataset, tmp_path / "o", settings, predictions=pred, registry=registry,
                      scorer=scorer).runs[0]
    layers = [c for c in oracle.clips if c.kind == "layer"]
    assert len([c for c in oracle.clips if c.kind == "bg"]) == len(metas)
    assert len(layers) == sum(len(m.object_ids) for m in metas)
    for clip in oracle.clips:
        assert np.nanmin(clip.values["full"]["psnr"]) == PSNR_CAP and np.all(clip.values["full"]["lpips"] == 0)
    assert all(np.all(c.alpha["iou"] == 1.0) and np.all(c.alpha["l1"] == 0.0) for c in layers)

    out = tmp_path / "m"
    result = evaluate(["mask-alpha"], toy_dataset, out, settings, registry=registry, scorer=scorer)
    write_results(out, result)
    html = write_report(out, result, toy_dataset).read_text()
    summary = json.loads((out / "results.json").read_text())["methods"]["mask-alpha"]
    assert summary["task"] == "layering" and summary["clips"] == len(metas)
    assert summary["layers"]["clips"] == len(layers)
    assert 0 < summary["alpha"]["iou"] < 1 and summary["alpha"]["l1"] > 0  # the shadows are missing
    assert summary["regions"]["effect"]["psnr"] < summary["regions"]["preserve"]["psnr"]
    assert "alpha IoU" in (out / "results.md").read_text() and "layer 1" in html


def test_alpha_scores_and_compositing() -> None:
    a = np.array([[[0, 255], [128, 0]]], dtype=np.uint8)
    b = np.array([[[0, 255], [255, 0]]], dtype=np.uint8)
    scores = alpha_scores(a, b)
    assert scores["iou"][0] == pytest.approx((255 + 128) / (255 + 255))
    assert scores["l1"][0] == pytest.approx(127 / 255 / 4)
    assert np.isnan(alpha_scores(np.zeros((1, 2, 2), np.uint8), np.zeros((1, 2, 2), np.uint8))["iou"][0])
    # a layer's IoU: frames without alpha in either matte are left out, and a float matte scores as its uint8 form
    two_pred, two_truth = np.concatenate([a, np.zeros_like(a)]), np.concatenate([b, np.zeros_like(b)])
    assert mean_alpha_iou(two_pred, two_truth) == pytest.approx((255 + 128) / (255 + 255))
    assert mean_alpha_iou(two_pred / 255.0, two_truth) == mean_alpha_iou(two_pred, two_truth)
    layer = np.zeros((1, 1, 1, 4), np.uint8)
    layer[..., :3], layer[..., 3] = 200, 255
    assert over(layer, np.full((1, 1, 1, 3), 10, np.uint8))[0, 0, 0, 0] == 200


# -- bad predictions are rejected with a message naming the file -----------------------------------------

def _first(pred: Path) -> Path:
    return sorted(p for p in pred.iterdir() if p.is_dir())[0]


def _break_missing_sample(pred: Path) -> Path:
    folder = _first(pred)
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    return folder


def _break_missing_frame(pred: Path) -> Path:
    path = _first(pred) / "00002.png"
    path.unlink()
    return path


def _break_extra_frame(pred: Path) -> Path:
    path = _first(pred) / "00004.png"
    path.write_bytes((_first(pred) / "00000.png").read_bytes())
    return path


def _break_size(pred: Path) -> Path:
    path = _first(pred) / "00001.png"
    Image.fromarray(np.zeros((32, 31, 3), np.uint8)).save(path)
    return path


def _break_jpeg_named_png(pred: Path) -> Path:
    path = _first(pred) / "00000.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path, format="JPEG")
    return path


def _break_jpg_file(pred: Path) -> Path:
    path = _first(pred) / "00003.png"
    Image.open(path).convert("RGB").save(path.with_suffix(".jpg"), format="JPEG")
    path.unlink()
    return path.with_suffix(".jpg")


def _break_16_bit(pred: Path) -> Path:
    path = _first(pred) / "00001.png"
    assert cv2.imwrite(str(path), np.zeros((32, 32, 3), np.uint16))
    return path


def _break_rgba(pred: Path) -> Path:
    path = _first(pred) / "00002.png"
    Image.fromarray(np.zeros((32, 32, 4), np.uint8)).save(path)
    return path


def _break_grey(pred: Path) -> Path:
    path = _first(pred) / "00002.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(path)
    return path


@pytest.mark.parametrize(("breaker", "message"), [
    (_break_missing_sample, "missing"),
    (_break_missing_frame, "missing frame"),
    (_break_extra_frame, "wrong frame count"),
    (_break_size, "size 31x32, expected 32x32"),
    (_break_jpeg_named_png, r"not a PNG file \(JPEG\)"),
    (_break_jpg_file, "not a PNG frame"),
    (_break_16_bit, "16-bit PNG"),
    (_break_rgba, r"RGBA PNG with 4 channel\(s\); expected RGB"),
    (_break_grey, r"greyscale PNG with 1 channel\(s\)"),
])
def test_bad_predictions_are_rejected_naming_the_file(toy_dataset: Path, tmp_path: Path, scorer: FrameScorer,
                                                      breaker: object, message: str) -> None:
    pred = _oracle_predictions(toy_dataset, tmp_path / "pred")
    bad = breaker(pred)  # type: ignore[operator]
    with pytest.raises(PredictionsError, match=message) as err:
        evaluate(["sub"], toy_dataset, tmp_path / "out", EvalSettings(split=SPLIT), predictions=pred,
                 registry=Registry("method"), scorer=scorer)
    assert str(err.value).startswith(str(bad))


def test_layering_layers_must_be_rgba(toy_dataset: Path, tmp_path: Path, registry: Registry,
                                      scorer: FrameScorer) -> None:
    settings = EvalSettings(task="layering", split="val")
    evaluate(["mask-alpha"], toy_dataset, tmp_path / "out", settings, registry=registry, scorer=scorer)
    pred = tmp_path / "out" / "predictions" / "mask-alpha"
    layer = sorted(pred.glob("*/layers/1/00000.png"))[0]
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(layer)
    with pytest.raises(PredictionsError, match=r"RGB PNG with 3 channel\(s\); expected RGBA") as err:
        evaluate(["sub"], toy_dataset, tmp_path / "o2", settings, predictions=pred, registry=registry,
                 scorer=scorer)
    assert str(err.value).startswith(str(layer))


# -- genbench eval (the command) -------------------------------------------------------------------------

def test_eval_command_scores_a_predictions_folder(toy_dataset: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pred = _oracle_predictions(toy_dataset, tmp_path / "pred", split="val")
    parser = argparse.ArgumentParser()
    _eval(parser)
    out = tmp_path / "out"
    args = parser.parse_args(["--method", "oracle", "--data", str(toy_dataset), "--split", "val", "--out", str(out),
                              "--predictions", str(pred)])
    assert eval_cmd.run(args) == 0
    printed = capsys.readouterr().out
    assert "| oracle | 1 | 0.0000 | 100.00 |" in printed and "report.html" in printed  # score, full PSNR
    for name in ("results.json", "per_clip.csv", "results.md", "report.html"):
        assert (out / name).is_file()


def test_corrupt_png_is_named(toy_dataset: Path, tmp_path: Path, scorer: FrameScorer) -> None:
    pred = _oracle_predictions(toy_dataset, tmp_path / "pred", split="val")
    path = _first(pred) / "00001.png"
    path.write_bytes(path.read_bytes()[:60])  # a valid header, then nothing
    with pytest.raises(GenbenchError, match="unreadable image") as err:
        evaluate(["sub"], toy_dataset, tmp_path / "out", EvalSettings(split="val"), predictions=pred,
                 registry=Registry("method"), scorer=scorer)
    assert str(err.value).startswith(str(path))


def test_method_labels() -> None:
    assert harness.method_label("identity") == "identity"
    assert harness.method_label("cv2-inpaint:telea") == "cv2-inpaint:telea"
    label = harness.method_label("external:python my.py {input} {output}")
    assert label.startswith("external:") and len(label) == len("external:") + 8


def test_every_builtin_baseline_runs_through_genbench_eval(toy_dataset: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The built-in registry (genbench.methods.METHODS), through the `genbench eval` command."""
    from genbench.methods import METHODS, LayeringMethod

    parser = argparse.ArgumentParser()
    _eval(parser)
    copy = "external:sh -c 'cp {input}/frames/*.png {output}/'"
    runnable = [n for n in METHODS.names()  # recipes of published methods need their checkout: tests/test_recipes.py
                if n != "external" and not getattr(METHODS.get(n), "needs_checkout", False)]
    layering = [n for n in runnable if issubclass(METHODS.get(n), LayeringMethod)]
    removal = [n for n in runnable if n not in layering]
    assert {"identity", "cv2-inpaint", "median", "flow-propagation"} <= set(removal) and "mask-alpha" in layering
    for task, names in (("removal", [*removal, copy]), ("layering", layering)):
        out = tmp_path / task
        args = parser.parse_args(["--method", ",".join(names), "--task", task, "--data", str(toy_dataset),
                                  "--split", "val", "--out", str(out)])
        assert eval_cmd.run(args) == 0
        summary = json.loads((out / "results.json").read_text())["methods"]
        labels = [harness.method_label(n) for n in names]
        assert sorted(summary) == sorted(labels)
        table = (out / "results.md").read_text()
        html = (out / "report.html").read_text()
        for label in labels:
            assert summary[label]["task"] == task and summary[label]["clips"] == 1
            assert f"| {label} | 1 |" in table and label in html
    # identity and the copying external program give the same predictions, so the same scores
    removal_summary = json.loads((tmp_path / "removal" / "results.json").read_text())["methods"]
    ext = removal_summary[harness.method_label(copy)]
    assert ext["predictions"]["sha256"] == removal_summary["identity"]["predictions"]["sha256"]
    assert ext["regions"] == removal_summary["identity"]["regions"]
    capsys.readouterr()


def test_new_weights_under_the_same_spec_clear_the_prediction_cache(toy_dataset: Path, tmp_path: Path,
                                                                     scorer: FrameScorer) -> None:
    """The cache key holds the method's fingerprint (Casper: sha256 of its weights), not only its spec."""
    from genbench.methods import RemovalMethod

    class Versioned(RemovalMethod):
        version = "a"
        calls = 0

        @classmethod
        def fingerprint(cls, argument: str | None) -> str:
            return cls.version

        def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
            type(self).calls += 1
            return frames

    registry = Registry("method")
    registry.register("versioned", Versioned)
    out = tmp_path / "eval"
    evaluate(["versioned"], toy_dataset, out, EvalSettings(split=SPLIT), registry=registry, scorer=scorer)
    first = Versioned.calls
    assert first > 0
    evaluate(["versioned"], toy_dataset, out, EvalSettings(split=SPLIT), registry=registry, scorer=scorer)
    assert Versioned.calls == first  # same fingerprint: every prediction cached
    Versioned.version = "b"  # e.g. a retrained checkpoint in the same folder
    evaluate(["versioned"], toy_dataset, out, EvalSettings(split=SPLIT), registry=registry, scorer=scorer)
    assert Versioned.calls == 2 * first


def test_a_dataset_with_one_split_needs_no_split_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A fresh render writes only `train`: `genbench eval --data DIR` scores it and says which split it used."""
    from dataclasses import replace

    from tests.conftest import TOY, make_toy_dataset

    data = make_toy_dataset(tmp_path / "fresh", count=2, settings=replace(TOY, val_fraction=0.0))
    parser = argparse.ArgumentParser()
    _eval(parser)
    out = tmp_path / "out"
    with caplog.at_level("INFO"):
        assert eval_cmd.run(parser.parse_args(["--method", "identity", "--data", str(data), "--out", str(out)])) == 0
    assert "using split 'train', the only one with samples" in caplog.text
    summary = json.loads((out / "results.json").read_text())
    assert summary["dataset"]["split"] == "train" and summary["protocol"]["version"] == 2
    assert summary["methods"]["identity"]["clips"] == len(removal_samples(data, "train"))
