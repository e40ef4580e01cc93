"""The README's benchmark tables, checked against the eval runs that made them (docs/results/<split>/).

The run's per-clip rows are averaged again here with pandas (a second, plain computation of the
clip-weighted means and the headline), and the property the protocol promises is checked on every
clip: methods that output the same pixels outside the object region score the same there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from genbench.benchmark.metrics import PROTOCOL_VERSION
from tests.readme_tables import README, readme_rows, row_mismatches

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
CLASSICAL = ("identity", "cv2-inpaint", "median", "flow-propagation")
REGIONS = ("full", "object", "effect", "preserve")
RUNS = ("full-v1", "mini-v1", "mini-v2", "val-v2")  # folder = the split's key
README_TABLES = {"full-v1": "The full split, built here", "mini-v2": "Protocol v2 on the shipped mini split"}


@pytest.fixture(scope="module", params=RUNS)
def run(request: pytest.FixtureRequest) -> tuple[dict, pd.DataFrame, str]:
    folder = RESULTS / request.param
    return json.loads((folder / "results.json").read_text()), pd.read_csv(folder / "per_clip.csv"), request.param


def test_the_run_is_protocol_v2_on_its_split(run: tuple[dict, pd.DataFrame, str]) -> None:
    results, clips, key = run
    assert results["protocol"]["version"] == PROTOCOL_VERSION
    assert results["dataset"]["name"] == f"genbench-benchmark-{key}"
    expected = {*CLASSICAL, "casper"} - ({"identity"} if key == "val-v2" else set())
    assert set(results["methods"]) == expected
    assert clips.groupby("method").size().to_dict() == {m: results["methods"][m]["clips"] for m in results["methods"]}


def test_clip_weighted_means_and_headline_recomputed_from_the_clips(run: tuple[dict, pd.DataFrame, str]) -> None:
    results, clips, _ = run
    for method, rows in clips.groupby("method"):
        summary = results["methods"][method]
        kinds = [r for r in summary["regions"] if r.startswith("effect:")]
        for region in [*REGIONS, *kinds]:
            for metric in ("psnr", "ssim", "lpips"):
                column = rows[f"{region}_{metric}"].dropna()
                assert summary["clips_scored"][region] == len(column)
                assert column.mean() == pytest.approx(summary["regions"][region][metric], abs=2e-6), \
                    (method, region, metric)
        headline = (rows["object_lpips"].dropna().mean() + rows["effect_lpips"].dropna().mean()) / 2
        assert headline == pytest.approx(summary["headline"], abs=2e-6)


def test_outside_the_object_region_equal_pixels_score_equally_on_every_clip(
        run: tuple[dict, pd.DataFrame, str]) -> None:
    """Every classical method copies the input outside the object region: effect (and each kind's) and preserve
    scores agree."""
    _, clips, _ = run
    regions = ["effect", "preserve", *sorted({c.rsplit("_", 1)[0] for c in clips.columns if c.startswith("effect:")})]
    columns = [f"{r}_{m}" for r in regions for m in ("psnr", "ssim", "lpips")]
    by_method = {m: rows.set_index("item")[columns] for m, rows in clips.groupby("method")}
    reference, *others = [m for m in CLASSICAL if m in by_method]
    for method in others:
        pd.testing.assert_frame_equal(by_method[method], by_method[reference], check_exact=True)
    assert not by_method["casper"].equals(by_method[reference])


def test_the_readme_quotes_the_run(run: tuple[dict, pd.DataFrame, str]) -> None:
    results, _, key = run
    if key in README_TABLES:
        tables = [readme_rows(README_TABLES[key])]
        if key == "mini-v2":
            tables.append(readme_rows("By effect kind"))
        for rows in tables:
            assert set(rows) == set(results["methods"])
            for method, row in rows.items():
                assert not row_mismatches(row, results["methods"][method]), (key, method)
    elif key == "val-v2":  # "the shipped Casper scores 0.1414 against `median`'s 0.1597"
        text = " ".join(README.read_text().split())
        quoted = re.search(r"the shipped Casper scores (\d\.\d+) against `median`'s (\d\.\d+)", text)
        assert quoted and [float(g) for g in quoted.groups()] == [
            round(results["methods"][n]["headline"], 4) for n in ("casper", "median")]
    else:  # quoted in a sentence: "... scored identity 0.2509, cv2-inpaint 0.1331, ... and Casper 0.0361"
        text = " ".join(README.read_text().split())
        quoted = re.search(r"the same methods scored identity (\d\.\d+), cv2-inpaint (\d\.\d+), median (\d\.\d+), "
                           r"flow-propagation (\d\.\d+) and Casper (\d\.\d+)", text)
        assert quoted, "the README's v1 mini sentence"
        names = ("identity", "cv2-inpaint", "median", "flow-propagation", "casper")
        assert [float(g) for g in quoted.groups()] == [round(results["methods"][n]["headline"], 4) for n in names]
