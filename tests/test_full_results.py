"""The README's full-split table, checked against the eval run that made it (docs/results/full-v1/).

The run's per-clip rows are averaged again here with pandas (a second, plain computation of the
clip-weighted means and the headline), and the property the protocol promises is checked on every
clip: methods that output the same pixels outside the object region score the same there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from genbench.benchmark.metrics import PROTOCOL_VERSION
from tests.readme_tables import readme_rows, row_mismatches

RUN = Path(__file__).resolve().parents[1] / "docs" / "results" / "full-v1"
CLASSICAL = ("identity", "cv2-inpaint", "median", "flow-propagation")
REGIONS = ("full", "object", "effect", "preserve")


@pytest.fixture(scope="module")
def run() -> tuple[dict, pd.DataFrame]:
    return json.loads((RUN / "results.json").read_text()), pd.read_csv(RUN / "per_clip.csv")


def test_the_run_is_protocol_v2_on_the_full_split(run: tuple[dict, pd.DataFrame]) -> None:
    results, clips = run
    assert results["protocol"]["version"] == PROTOCOL_VERSION
    assert results["dataset"]["name"] == "genbench-benchmark-full-v1"
    assert set(results["methods"]) == {*CLASSICAL, "casper"}
    assert clips.groupby("method").size().to_dict() == {m: results["methods"][m]["clips"] for m in results["methods"]}


def test_clip_weighted_means_and_headline_recomputed_from_the_clips(run: tuple[dict, pd.DataFrame]) -> None:
    results, clips = run
    for method, rows in clips.groupby("method"):
        summary = results["methods"][method]
        for region in REGIONS:
            for metric in ("psnr", "ssim", "lpips"):
                column = rows[f"{region}_{metric}"].dropna()
                assert summary["clips_scored"][region] == len(column)
                assert column.mean() == pytest.approx(summary["regions"][region][metric], abs=2e-6), \
                    (method, region, metric)
        headline = (rows["object_lpips"].dropna().mean() + rows["effect_lpips"].dropna().mean()) / 2
        assert headline == pytest.approx(summary["headline"], abs=2e-6)


def test_outside_the_object_region_equal_pixels_score_equally_on_every_clip(run: tuple[dict, pd.DataFrame]) -> None:
    """Every classical method copies the input outside the object region: effect and preserve scores agree."""
    _, clips = run
    columns = [f"{r}_{m}" for r in ("effect", "preserve") for m in ("psnr", "ssim", "lpips")]
    by_method = {m: rows.set_index("item")[columns] for m, rows in clips.groupby("method")}
    for method in CLASSICAL[1:]:
        pd.testing.assert_frame_equal(by_method[method], by_method["identity"], check_exact=True)
    assert not by_method["casper"].equals(by_method["identity"])


def test_the_readme_full_table_is_the_run(run: tuple[dict, pd.DataFrame]) -> None:
    results, _ = run
    rows = readme_rows("The full split, built here")
    assert set(rows) == set(results["methods"])
    for method, row in rows.items():
        assert not row_mismatches(row, results["methods"][method]), method
