"""The start refiner: an untrained one returns the start, training learns a correction the start lacks, seeds give
the same weights, its folder round-trips, the shipped one belongs to the shipped Casper, the docs quote its record."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from genbench import contract
from genbench.errors import GenbenchError
from genbench.generators.toy import ToySettings, make_toy_scene
from genbench.models.omnimatte import evidence
from genbench.models.omnimatte.config import OmnimatteConfig
from genbench.models.omnimatte.optimise import fit_layers
from genbench.models.omnimatte.refine import (
    SHIPPED,
    StartRefiner,
    load_refiner,
    refine_alpha,
    refine_evidence,
    refiner_inputs,
    save_refiner,
    shipped_refiner,
)
from genbench.models.omnimatte.train_start import LayerExample, TrainSettings, main, mean_iou, train_refiner

DOCS = Path(__file__).resolve().parent.parent / "docs" / "omnimatte.md"


def _toy_examples(weaken: float) -> list[LayerExample]:
    """The toy scenes' layers with exact bg and solos, the start's alpha off each object scaled by `weaken` (a
    removal model that keeps part of every shadow in its clean plate): the truth is the exact layers' alpha."""
    out = []
    for index in range(3):
        scene = make_toy_scene(ToySettings(seed=7, resolution=32, frames=4, max_objects=3), index)
        ids = scene.meta.object_ids
        visible = {k: scene.visible == k for k in ids}
        bg = scene.rgb[contract.BG]
        solos = {k: scene.rgb[contract.solo_video(k)] for k in ids}
        starts = evidence.gather(bg, solos, visible, scene.rgb[contract.FULL], **OmnimatteConfig().evidence_settings())
        for k in ids:
            start = np.where(visible[k], 1.0, starts[k].alpha * weaken).astype(np.float32)
            others = (scene.visible > 0) & ~visible[k]
            features = refiner_inputs(scene.rgb[contract.FULL], bg, solos[k], visible[k], others, start)
            out.append(LayerExample(features, start, scene.layers[k][..., 3].astype(np.float32) / 255.0))
    return out


@pytest.fixture(scope="module")
def weak_starts() -> list[LayerExample]:
    return _toy_examples(0.4)


def test_an_untrained_refiner_returns_the_start(weak_starts) -> None:
    net = StartRefiner(8).eval()
    for example in weak_starts:
        refined = refine_alpha(net, example.features)
        assert np.abs(refined - np.round(example.start * 255) / 255).max() < 1e-6
    assert mean_iou(weak_starts, net) == pytest.approx(mean_iou(weak_starts), abs=1e-12)


@pytest.fixture(scope="module")
def trained(weak_starts) -> tuple[StartRefiner, list[float]]:
    return train_refiner(weak_starts, TrainSettings(steps=120, channels=8, batch=8, crop=32, lr=3e-3))


def test_training_learns_what_the_start_lacks_and_keeps_the_object(weak_starts, trained) -> None:
    net, losses = trained
    before, after = mean_iou(weak_starts), mean_iou(weak_starts, net)
    assert np.mean(losses[-20:]) < np.mean(losses[:20])
    assert after > before + 0.02, (before, after)  # measured: 0.870 -> 0.909; with lr 0 no change
    own = weak_starts[0].features[:, 9] > 0
    assert (refine_alpha(net, weak_starts[0].features)[own] == 1).all()


def test_same_seed_same_weights_and_the_folder_round_trips(weak_starts, tmp_path: Path) -> None:
    settings = TrainSettings(steps=4, channels=4, batch=2, crop=16)
    first, _ = train_refiner(weak_starts, settings)
    second, _ = train_refiner(weak_starts, settings)
    third, _ = train_refiner(weak_starts, replace(settings, seed=1))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values(),
                                                  strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), third.state_dict().values(),
                                                      strict=True))
    save_refiner(first, {"channels": 4, "removal": "median", "removal_fingerprint": None}, tmp_path / "r")
    loaded = load_refiner(tmp_path / "r")
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), loaded.net.state_dict().values(),
                                                  strict=True))
    assert loaded.record["removal"] == "median" and len(loaded.fingerprint()) == 64
    with pytest.raises(GenbenchError, match="not a start refiner"):
        load_refiner(tmp_path)


def test_the_fit_starts_from_the_refined_start(trained) -> None:
    """fit_layers with a refiner fits from its start: an untrained one (the start on uint8 levels) moves no alpha by
    more than a level, a trained one moves it by much more."""
    scene = make_toy_scene(ToySettings(seed=7, resolution=32, frames=4, max_objects=3), 0)
    ids = scene.meta.object_ids
    bg, frames = scene.rgb[contract.BG], scene.rgb[contract.FULL]
    solos = {k: scene.rgb[contract.solo_video(k)] for k in ids}
    visible = {k: scene.visible == k for k in ids}
    config = OmnimatteConfig(steps=4)
    plain = fit_layers(bg, solos, visible, config, frames=frames)
    untrained = fit_layers(bg, solos, visible, config, frames=frames, refiner=StartRefiner(4).eval())
    def moved(fit) -> int:
        return max(int(np.abs(plain.layers[k][..., 3].astype(int) - fit.layers[k][..., 3]).max()) for k in ids)

    assert moved(untrained) <= 1
    assert untrained.stats["start_refined"] and not plain.stats["start_refined"]
    net, _ = trained
    starts = evidence.gather(bg, solos, visible, frames, **config.evidence_settings())
    refined = refine_evidence(starts, frames, bg, solos, visible, net)
    assert all((refined[k].ceiling >= refined[k].alpha).all() for k in ids)
    trained = fit_layers(bg, solos, visible, config, frames=frames, refiner=net)
    assert moved(trained) > 10, moved(trained)


def test_the_shipped_refiner_belongs_to_the_shipped_casper_only() -> None:
    from genbench.methods import build_method, method_fingerprint

    refiner = load_refiner(SHIPPED)
    assert refiner.record["removal"] == "casper"
    assert refiner.removal_fingerprint == method_fingerprint("casper")  # retrain it when Casper's weights change
    assert shipped_refiner("casper") is not None and shipped_refiner("median") is None
    assert shipped_refiner("casper:tiny") is None
    omnimatte = build_method("omnimatte")
    assert omnimatte._refiner is not None and build_method("omnimatte:median")._refiner is None
    assert omnimatte.fingerprint().endswith(refiner.fingerprint())
    assert build_method("omnimatte").describe()["start_refiner"]["sha256"] == refiner.fingerprint()


def test_the_docs_quote_the_shipped_refiners_record() -> None:
    """docs/omnimatte.md's table of the learned start quotes the shipped refiner's record: its training data, steps
    and the soft alpha IoU of the start and the refined start on the layering validation set."""
    from tests.readme_tables import readme_rows

    record = json.loads((SHIPPED / "config.json").read_text())
    validation = record["validation"]
    assert validation["data"] == ["genbench-benchmark-val-v2", "val-layering"] and validation["layers"] == 101
    rows = readme_rows("**The learned start on the layering validation set**", DOCS)
    assert float(rows["the start"]["soft alpha IoU ↑"]) == round(validation["start_iou"], 4)
    assert float(rows["the refined start (shipped)"]["soft alpha IoU ↑"]) == round(validation["refined_iou"], 4)
    assert validation["refined_iou"] > validation["start_iou"]
    assert record["start"] == OmnimatteConfig().evidence_settings()  # trained on the start omnimatte makes
    more = json.loads((DOCS.parent / "results" / "layering-validation-start-80-scenes.json").read_text())
    assert more["validation"] == {**validation, "refined_iou": more["validation"]["refined_iou"]}
    assert more["settings"] == record["settings"] and more["layers"] > record["layers"]
    not_shipped = rows["the refined start trained on 80 scenes (not shipped)"]["soft alpha IoU ↑"]
    assert float(not_shipped) == round(more["validation"]["refined_iou"], 4)
    gain = float(not_shipped) - float(rows["the refined start (shipped)"]["soft alpha IoU ↑"])
    paragraph = " ".join(DOCS.read_text().split())
    assert f"{more['layers']} layers" in paragraph and f"{gain:.4f} above the shipped" in paragraph


def test_bad_training_input_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "no such dataset folder" in capsys.readouterr().err
    (tmp_path / "scenes").mkdir()
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "o"), "--removal", "no-such"]) == 2
    assert "not registered" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
