"""Protocol v2 on the shipped mini split: region scores measure only their region, checked by a second computation.

The second computation is deliberately plain: the composite built in numpy, the official `lpips` package's
spatial map and scikit-image's SSIM map averaged over the region's pixels pooled over the clip, the PSNR of
the clip's pooled MSE, then the mean over clips. It shares no code with `genbench.benchmark.metrics`.
"""

from __future__ import annotations

import json
from pathlib import Path

import lpips
import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from genbench.benchmark.harness import EvalSettings, evaluate
from genbench.benchmark.metrics import FrameScorer
from genbench.benchmark.results import method_summary
from genbench.benchmark.split import SHIPPED
from genbench.frames import read_frames
from genbench.samples import load_removal, removal_samples
from tests.readme_tables import readme_rows, row_mismatches

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


@pytest.fixture(scope="module")
def mini_scores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("mini-eval")
    result = evaluate(["identity", "cv2-inpaint", "median", "casper"], SHIPPED, out, EvalSettings(workers=2),
                      scorer=FrameScorer("cpu"))  # two processes: the same bytes as one (test_eval_workers), sooner
    return {run.method: (method_summary(run), out / "predictions" / run.method) for run in result.runs}


def test_identical_effect_pixels_score_identically_and_an_untouched_preserve_region_is_perfect(
        mini_scores: dict) -> None:
    """identity and cv2-inpaint output the same pixels outside the remove region (cv2 only fills it)."""
    ident, cv2 = mini_scores["identity"][0], mini_scores["cv2-inpaint"][0]
    for metric in ("psnr", "ssim", "lpips"):
        assert ident["regions"]["effect"][metric] == pytest.approx(cv2["regions"]["effect"][metric], abs=1e-6)
        assert ident["regions"]["preserve"][metric] == pytest.approx(cv2["regions"]["preserve"][metric], abs=1e-6)
    assert ident["regions"]["preserve"]["lpips"] < 0.001
    assert cv2["regions"]["object"]["lpips"] < ident["regions"]["object"]["lpips"]  # cv2 does fill the object
    assert cv2["headline"] < ident["headline"]


def _plain_region_scores(net: lpips.LPIPS, pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict:
    """One clip's pooled score in a region, computed the plain way."""
    sq, lp, ss, n, n_inner = 0.0, 0.0, 0.0, 0, 0
    for t in range(len(pred)):
        m = mask[t]
        if not m.any():
            continue
        comp = np.where(m[..., None], pred[t], truth[t])
        diff = pred[t].astype(np.float64) / 255 - truth[t].astype(np.float64) / 255
        sq += float((diff[m] ** 2).sum())
        n += int(m.sum())
        with torch.no_grad():
            lp_map = net(lpips.im2tensor(comp), lpips.im2tensor(truth[t]))[0, 0].numpy()
        lp += float(lp_map[m].sum())
        _, s_map = structural_similarity(comp / 255.0, truth[t] / 255.0, channel_axis=-1, data_range=1.0, full=True)
        inner = np.zeros_like(m)
        inner[3:-3, 3:-3] = m[3:-3, 3:-3]
        ss += float(s_map.mean(-1)[inner].sum())
        n_inner += int(inner.sum())
    if n == 0:
        return {}
    mse = sq / (3 * n)
    return {"psnr": min(100.0, 10 * np.log10(1 / mse)) if mse > 0 else 100.0, "lpips": lp / n,
            "ssim": ss / n_inner if n_inner else float("nan")}


def _plain_method_scores(pred_root: Path, net: lpips.LPIPS, only: tuple[str, ...] = ("object", "effect", "preserve")
                         ) -> dict[str, dict[str, float]]:
    """The regions' clip-weighted means over the mini split, recomputed from the predictions on disk."""
    per_region: dict[str, list[dict[str, float]]] = {}
    for sample in removal_samples(SHIPPED, "test"):
        item = load_removal(SHIPPED, sample, None)
        pred = read_frames(pred_root / sample.sample_id, len(item.frames))
        differs = np.abs(item.frames.astype(int) - item.target.astype(int)).max(-1) > item.tolerance
        obj = item.trimask == 0
        regions = {"object": obj, "effect": differs & ~obj, "preserve": ~differs & ~obj}
        for name in only:
            if name.startswith("effect:"):  # the effect pixels the removed objects' masks of that kind cover
                kind = np.zeros_like(obj)
                for k in sample.remove:
                    folder = SHIPPED / "scenes" / sample.scene_id / "masks" / "effects" / str(k) / name[7:]
                    for t, path in enumerate(sorted(folder.glob("*.png"))):
                        kind[t] |= np.asarray(Image.open(path)) > 0
                regions[name] = regions["effect"] & kind
            scores = _plain_region_scores(net, pred, item.target, regions[name])
            if scores:
                per_region.setdefault(name, []).append(scores)
    return {r: {m: float(np.nanmean([c[m] for c in clips])) for m in ("psnr", "ssim", "lpips")}
            for r, clips in per_region.items()}


def test_region_scores_equal_a_plain_recomputation(mini_scores: dict) -> None:
    net = FrameScorer("cpu").lpips  # the official lpips.LPIPS module with the offline backbone
    net.spatial = True
    # identity equals cv2-inpaint outside the object region (the first test), so its object region is what is left
    kinds = ("effect:shadow", "effect:reflection")
    for method, regions in (("cv2-inpaint", ("object", "effect", "preserve", *kinds)), ("identity", ("object",))):
        summary, pred_root = mini_scores[method]
        plain = _plain_method_scores(pred_root, net, regions)
        for region, scores in plain.items():
            for metric, value in scores.items():
                assert summary["regions"][region][metric] == pytest.approx(value, abs=2e-5), (method, region, metric)


def test_the_readme_mini_table_is_what_eval_computes(mini_scores: dict) -> None:
    """The README's protocol v2 table for the mini split: identity and cv2-inpaint rows equal a fresh eval."""
    for title in ("Protocol v2 on the shipped mini split", "By effect kind"):
        rows = readme_rows(title)
        assert {"identity", "cv2-inpaint"} <= set(rows)
        for method in ("identity", "cv2-inpaint"):
            summary = mini_scores[method][0]
            assert not row_mismatches(rows[method], summary), (title, method)


@pytest.mark.parametrize("method", ["median", "casper"])
def test_the_published_mini_run_is_what_the_shipped_methods_compute(mini_scores: dict, method: str) -> None:
    """The committed mini-v2 run (which the README's table quotes) is what `median` and the shipped Casper
    weights score now: a model swapped in without re-scoring every published figure fails here. The tolerance
    allows a CPU's last-bit differences in torch's convolutions, not another model."""
    published = json.loads((RESULTS / "mini-v2" / "results.json").read_text())["methods"][method]
    fresh = mini_scores[method][0]
    assert fresh["clips"] == published["clips"]
    assert fresh["headline"] == pytest.approx(published["headline"], abs=1e-4)
    for region in ("full", "object", "effect", "preserve"):
        assert fresh["regions"][region]["psnr"] == pytest.approx(published["regions"][region]["psnr"], abs=0.01)
        assert fresh["regions"][region]["lpips"] == pytest.approx(published["regions"][region]["lpips"], abs=1e-4)
