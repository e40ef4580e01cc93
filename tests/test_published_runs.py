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
CASPER_DOC = RESULTS.parent / "casper.md"
CLASSICAL = ("identity", "cv2-inpaint", "median", "flow-propagation")
REGIONS = ("full", "object", "effect", "preserve")
RUNS = {  # published runs of every removal baseline and `casper`: folder -> the split's key
    "full-v3": "full-v3", "full-v2": "full-v2", "full-v1": "full-v1", "mini-v1": "mini-v1", "mini-v2": "mini-v2",
    "val-v2": "val-v2",
}
REBUILD = RESULTS / "full-v2-rebuild"
README_TABLES = {  # the README's tables: split -> the lines they follow, the runs of their rows (folder, methods)
    "mini-v2": (("Protocol v2 on the shipped mini split", "By effect kind (the effect region"),
                (("mini-v2", None),)),
    "full-v3": (("The full split,", "By effect kind on the full split"), (("full-v3", None),)),
}
# full-v2 rebuilt here: the baselines' run (`tiny` was its `casper`) and the shipped Casper's on the same copy
FULL_V2_REBUILD = (("full-v2-rebuild/all-methods", CLASSICAL), ("full-v2-rebuild/shipped", ("casper",)))
BEFORE = {  # runs of the CPU-trained `tiny` (shipped before `small`; `casper:tiny`): split -> (folder, method)
    "full-v2": ("full-v2", "casper"), "full-v1": ("full-v1", "casper"),  # the official copies, scored then
    "mini-v2": ("mini-v2/tiny", "casper:tiny"), "mini-v1": ("mini-v1/tiny", "casper:tiny"),
    "val-v2": ("val-v2/tiny", "casper:tiny"),
}


def headline(clips: pd.DataFrame) -> float:
    """The removal score, recomputed: the mean of the clips' object-region and effect-region LPIPS."""
    return (clips["object_lpips"].dropna().mean() + clips["effect_lpips"].dropna().mean()) / 2


def readme_prose() -> str:
    """The README with its line breaks and runs of spaces as single spaces, for finding quoted sentences."""
    return " ".join(README.read_text().split())


@pytest.fixture(scope="module", params=RUNS)
def run(request: pytest.FixtureRequest) -> tuple[dict, pd.DataFrame, str]:
    folder = RESULTS / request.param
    return json.loads((folder / "results.json").read_text()), pd.read_csv(folder / "per_clip.csv"), request.param


def test_the_run_is_protocol_v2_on_its_split(run: tuple[dict, pd.DataFrame, str]) -> None:
    results, clips, folder = run
    key = RUNS[folder]
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
                # SSIM sees only pixels 3 or more from the border: a region inside that band has PSNR and LPIPS only
                assert (summary["clips_scored"][region] >= len(column) if metric == "ssim"
                        else summary["clips_scored"][region] == len(column)), (method, region, metric)
                assert column.mean() == pytest.approx(summary["regions"][region][metric], abs=2e-6), \
                    (method, region, metric)
        assert headline(rows) == pytest.approx(summary["headline"], abs=2e-6)


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
    results, _, folder = run
    key = RUNS[folder]
    text = readme_prose()
    if folder in README_TABLES:  # its tables: test_the_readme_tables_are_the_runs
        return
    if key == "val-v2":  # "the shipped Casper scores 0.1414 against `median`'s 0.1597"
        quoted = re.search(r"the shipped Casper scores (\d\.\d+) against `median`'s (\d\.\d+)", text)
        assert quoted and [float(g) for g in quoted.groups()] == [
            round(results["methods"][n]["headline"], 4) for n in ("casper", "median")]
    else:  # "On the v1 mini split ... the same methods scored identity 0.2509, ..., and Casper 0.0361"
        # (runs scored when `tiny` shipped: "and Casper (`tiny`, ...) 0.2013")
        opening = {"mini-v1": "On the v1 mini split", "full-v1": "On the v1 full split",
                   "full-v2": "On the official copy of the v2 full split"}[key]
        tiny = r" \(`tiny`[^)]*\)" if BEFORE[key][0] == folder else ""
        quoted = re.search(rf"{opening} [^|]*?the same methods scored identity (\d\.\d+), cv2-inpaint (\d\.\d+), "
                           rf"median (\d\.\d+), flow-propagation (\d\.\d+) and Casper{tiny} (\d\.\d+)", text)
        assert quoted, f"the README's {key} sentence"
        names = ("identity", "cv2-inpaint", "median", "flow-propagation", "casper")
        assert [float(g) for g in quoted.groups()] == [round(results["methods"][n]["headline"], 4) for n in names]


def table_methods_of(runs: tuple[tuple[str, tuple[str, ...] | None], ...]) -> dict[str, dict]:
    """The results.json method entries of runs (folder, methods or None for all of them)."""
    methods = {}
    for folder, names in runs:
        results = json.loads((RESULTS / folder / "results.json").read_text())
        methods.update({n: s for n, s in results["methods"].items() if names is None or n in names})
    return methods


def table_methods(key: str) -> dict[str, dict]:
    """The results.json method entries that a README table of split `key` prints, from the runs that made them."""
    return table_methods_of(README_TABLES[key][1])


def runs_clips(runs: tuple[tuple[str, tuple[str, ...] | None], ...]) -> pd.DataFrame:
    """The per-clip rows of the named methods of runs (folder, methods or None for all of them)."""
    rows = [pd.read_csv(RESULTS / folder / "per_clip.csv") for folder, _ in runs]
    return pd.concat([clips if names is None else clips[clips["method"].isin(names)]
                      for clips, (_, names) in zip(rows, runs, strict=True)])


def table_clips(key: str) -> pd.DataFrame:
    """The per-clip rows of the methods that a README table of split `key` prints, from the runs that made them."""
    return runs_clips(README_TABLES[key][1])


@pytest.mark.parametrize("key", README_TABLES)
def test_the_readme_tables_are_the_runs(key: str) -> None:
    """Each README results table prints, row by row, the runs it names (one dataset version per table)."""
    runs = [json.loads((RESULTS / folder / "results.json").read_text()) for folder, _ in README_TABLES[key][1]]
    assert len({r["dataset"]["sha256"] for r in runs}) == 1 and runs[0]["dataset"]["name"].endswith(key)
    methods = table_methods(key)
    assert set(methods) == {*CLASSICAL, "casper"}
    for title in README_TABLES[key][0]:
        rows = readme_rows(title)
        assert set(rows) == set(methods), (key, title)
        for method, row in rows.items():
            assert not row_mismatches(row, methods[method]), (key, title, method)


@pytest.mark.parametrize("key", README_TABLES)
def test_the_readme_counts_each_tables_clips_by_kind(key: str) -> None:
    """A by-kind table's heading says how many clips each kind's column averages ("light 11 clips, reflection 24,
    ..."): one per clip whose kind mask has pixels in the effect region, counted here from the per-clip rows."""
    clips = table_clips(key)
    title = next(t for t in README_TABLES[key][0] if t.startswith("By effect kind"))
    heading = " ".join(next(b for b in README.read_text().split("\n\n") if b.startswith(title)).split())
    one_method = clips[clips["method"] == "identity"]
    counts = {c.split("_")[0].removeprefix("effect:"): int(one_method[c].notna().sum())
              for c in clips.columns if c.startswith("effect:") and c.endswith("_lpips")}
    quoted = dict((kind, int(n)) for kind, n in re.findall(r"(light|reflection|refraction|shadow) (\d+)", heading))
    assert quoted == counts, heading


def test_the_readme_counts_the_full_splits_clips_by_source() -> None:
    clips = pd.read_csv(RESULTS / "full-v3" / "per_clip.csv")
    one_method = clips[clips["method"] == "identity"]
    source = one_method["scene_id"].str.split("-").str[0].value_counts().to_dict()
    text = readme_prose()
    assert f"{len(one_method)} removal samples" in text
    assert (f"{len(one_method)} clips ({source['kubric']} Kubric, {source['paste']} object-paste, "
            f"{source['tripod']} tripod)") in text


def test_the_median_prefill_run_recomputed_and_quoted() -> None:
    """docs/casper.md's figure for the `tiny` weights with a temporal-median pre-fill: the same clips as the
    official copy's run, its means recomputed from its clips, quoted as printed."""
    folder = RESULTS / "full-v2" / "casper-median-prefill"
    results = json.loads((folder / "results.json").read_text())
    clips = pd.read_csv(folder / "per_clip.csv")
    published = pd.read_csv(RESULTS / "full-v2" / "per_clip.csv")
    (method, summary), = results["methods"].items()
    assert method.startswith("casper:") and results["dataset"]["name"] == "genbench-benchmark-full-v2"
    assert sorted(clips["item"]) == sorted(published.loc[published["method"] == "casper", "item"])
    object_lpips = clips["object_lpips"].mean()
    assert headline(clips) == pytest.approx(summary["headline"], abs=2e-6)
    assert clips["object_psnr"].mean() == pytest.approx(summary["regions"]["object"]["psnr"], abs=2e-6)
    text = " ".join(CASPER_DOC.read_text().split())
    assert (f"the same weights score {summary['headline']:.4f}, object LPIPS {object_lpips:.4f} (below `median`'s) "
            f"at {summary['regions']['object']['psnr']:.2f} dB") in text
    median = json.loads((RESULTS / "full-v2" / "results.json").read_text())["methods"]["median"]
    assert object_lpips < median["regions"]["object"]["lpips"]


SOURCES = {"all": "", "Kubric": "kubric", "object-paste": "paste", "tripod": "tripod"}  # row label -> scene-id prefix


def source_table_rows(header: str, clips: dict[str, pd.DataFrame], columns: tuple[str, ...]) -> int:
    """Check a docs/casper.md table by source, the one whose header starts with `header` (cells: source (clips),
    model, score, then `columns`): each row is its model's clips of that source, their headline and column
    means as printed, and a source's first row counts its clips. Returns the number of rows."""
    text = CASPER_DOC.read_text()
    table = text[text.index(header):].split("\n\n")[0].splitlines()[2:]
    for line in table:
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        model = clips[cells[1]]
        rows = model[model["scene_id"].str.startswith(SOURCES[cells[0].split(" (")[0]])]
        if "(" in cells[0]:
            assert cells[0].endswith(f"({len(rows)})")
        means = [f"{rows[c].mean():.2f}" if c.endswith("psnr") else f"{rows[c].mean():.4f}" for c in columns]
        assert cells[2:] == [f"{headline(rows):.4f}", *means], line
    return len(table)


def test_docs_casper_by_source_table_recomputed() -> None:
    """docs/casper.md's full-v2 table by source: each row the mean of the per-clip rows of that source."""
    shipped = pd.read_csv(RESULTS / "full-v2" / "per_clip.csv")
    clips = {"Casper `tiny`": shipped[shipped["method"] == "casper"],
             "Casper, median pre-fill, no plate": pd.read_csv(RESULTS / "full-v2" / "casper-median-prefill" /
                                                              "per_clip.csv"),
             **{f"`{m}`": shipped[shipped["method"] == m] for m in ("median", "flow-propagation")}}
    columns = ("object_psnr", "object_lpips", "effect_psnr", "effect_lpips")
    assert source_table_rows("| source (clips) | method |", clips, columns) == 12


def kubric_part(key: str) -> dict[str, dict]:
    """Each method of a published run over its Kubric clips only, as results.json would summarise them."""
    clips = pd.read_csv(RESULTS / key / "per_clip.csv")
    clips = clips[clips["scene_id"].str.startswith("kubric")]
    return {method: {"clips": len(rows), "headline": headline(rows),
                     "regions": {r: {m: rows[f"{r}_{m}"].dropna().mean() for m in ("psnr", "ssim", "lpips")}
                                 for r in REGIONS}}
            for method, rows in clips.groupby("method")}


@pytest.mark.parametrize(("document", "title", "key"), [
    (README, "On the Kubric part of the mini split", "mini-v2"),
    (CASPER_DOC, "### On the v2 mini split", "mini-v2"),
    (CASPER_DOC, "### On the v1 mini split", "mini-v1"),
    (CASPER_DOC, "### At 256 px", "render-256"),  # a render: every clip is a Kubric clip
])
def test_kubric_part_tables_recomputed(document: Path, title: str, key: str) -> None:
    expected = kubric_part(key)
    rows = readme_rows(title, document)
    assert set(rows) == set(expected), title
    for method, row in rows.items():
        assert not row_mismatches(row, expected[method]), (title, method, row_mismatches(row, expected[method]))
        assert int(row.get("clips", expected[method]["clips"])) == expected[method]["clips"]


def casper_run(key: str, variant: str | None) -> dict:
    """The Casper summary of a published run (variant None: the shipped `small`; "tiny": `tiny`'s run, `BEFORE`) or
    of a variant run beside it (docs/results/KEY/VARIANT, one `casper:DIR` method), checked to cover the published
    run's clips, with its headline and full-frame and object PSNR recomputed from its clips."""
    if variant is None:
        return json.loads((RESULTS / key / "results.json").read_text())["methods"]["casper"]
    if variant == "tiny" and BEFORE[key][1] == "casper":  # the published run of the official copy, scored then
        return json.loads((RESULTS / BEFORE[key][0] / "results.json").read_text())["methods"]["casper"]
    published_clips = pd.read_csv(RESULTS / key / "per_clip.csv")
    folder = RESULTS / key / variant
    results = json.loads((folder / "results.json").read_text())
    clips = pd.read_csv(folder / "per_clip.csv")
    (method, summary), = results["methods"].items()
    assert method.startswith("casper:") and results["dataset"]["name"] == f"genbench-benchmark-{key}"
    assert sorted(clips["item"]) == sorted(published_clips.loc[published_clips["method"] == "casper", "item"])
    assert headline(clips) == pytest.approx(summary["headline"], abs=2e-6)
    for region in ("full", "object"):
        assert clips[f"{region}_psnr"].mean() == pytest.approx(summary["regions"][region]["psnr"], abs=2e-6)
    return summary


def casper_paragraph(opening: str) -> str:
    text = CASPER_DOC.read_text()
    return " ".join(text[text.index(opening):].split("\n\n")[0].split())


@pytest.mark.parametrize("key", ["val-v2", "full-v2", "mini-v2", "mini-v1"])
def test_the_one_and_two_step_runs_recomputed_and_quoted(key: str) -> None:
    """docs/casper.md's "One sampling step": the shipped weights at one and at two DDIM steps, both sampled at
    the frame's own size (`casper-one-step`, `casper-two-steps`); one step has the lower headline and the page
    quotes both runs' headline and full-frame PSNR."""
    one, two = casper_run(key, "casper-one-step"), casper_run(key, "casper-two-steps")
    assert one["headline"] < two["headline"]
    paragraph = casper_paragraph("**One sampling step, with the plate.**")
    for metric in (lambda s: f"{s['headline']:.4f}", lambda s: f"{s['regions']['full']['psnr']:.2f}"):
        assert f"{metric(one)} vs {metric(two)}" in paragraph, (key, metric(one))


@pytest.mark.parametrize("key", ["val-v2", "full-v2", "mini-v2", "mini-v1"])
def test_the_fill_at_the_training_scale_recomputed_and_quoted(key: str) -> None:
    """docs/casper.md's "The fill at the training scale": `tiny` with its shipped settings against the same
    model sampled only at the frame's own size (`casper-one-step`): different only inside the remove region,
    not at all on the 64 px mini-v1, better by the headline where the frames are larger; quoted."""
    tiny, native = casper_run(key, "tiny"), casper_run(key, "casper-one-step")
    for region in ("effect", "preserve"):  # runs made months apart differ in the last bits of a few pixels
        for metric, tolerance in (("psnr", 1e-3), ("lpips", 1e-5)):
            assert tiny["regions"][region][metric] == pytest.approx(native["regions"][region][metric], abs=tolerance)
    if key == "mini-v1":  # 64x64 frames: nothing to shrink
        assert tiny["headline"] == pytest.approx(native["headline"], abs=1e-9)
        return
    assert tiny["headline"] < native["headline"]
    paragraph = casper_paragraph("**The fill at the training scale (`tiny`).**")
    for metric in (lambda s: f"{s['headline']:.4f}", lambda s: f"{s['regions']['object']['psnr']:.2f}"):
        assert f"{metric(tiny)} vs {metric(native)}" in paragraph, (key, metric(tiny))


def test_tinys_inference_settings_are_the_ones_val_v2_chose() -> None:
    """`tiny`'s checkpoint, the `tiny` preset and the selection records in its config.json agree, and the records
    quote the val-v2 headlines of its runs with and without each choice."""
    from genbench.models.casper.config import CONFIGS
    from genbench.models.casper.method import SHIPPED

    checkpoint = json.loads((SHIPPED["tiny"] / "config.json").read_text())
    for setting in ("sample_steps", "fill_size"):
        selection = checkpoint["training"][{"sample_steps": "steps_selection", "fill_size": "fill_selection"}[setting]]
        value = checkpoint["config"][setting]
        assert value == selection["chosen"][setting] == getattr(CONFIGS["tiny"], setting)
        assert "val-v2" in selection["split"]
        if setting == "sample_steps":  # the one-step run at native size against two steps
            one, two = casper_run("val-v2", "casper-one-step"), casper_run("val-v2", "casper-two-steps")
            assert f"headline {one['headline']:.4f} with {value} step vs {two['headline']:.4f} with 2" in \
                selection["criterion"]
        else:
            native = casper_run("val-v2", "casper-one-step")["headline"]
            assert f"null (the frame's own size, 96 px) {native:.4f}" in selection["criterion"]
            assert f"{value} {casper_run('val-v2', 'tiny')['headline']:.4f}" in selection["criterion"]


SELECTION_RUNS = {  # docs/casper.md's choice of the shipped checkpoint on val-v2: run -> (pre-fill, steps, plate, fill)
    "small-one-view": ("cv2", 1, 8, None),  # the shipped Casper's settings at one view (then views were chosen)
    "small-two-steps": ("cv2", 2, 8, None), "small-no-plate": ("cv2", 1, None, None),
    "small-fill64": ("cv2", 1, 8, 64), "gpu-small-median-plate": ("median", 1, 8, None),
    "small-median-no-plate": ("median", 1, None, None), "small-median-two-steps": ("median", 2, 8, None),
    "small-median-fill64": ("median", 1, 8, 64), "small-median-no-plate-two-steps": ("median", 2, None, None),
}


def test_the_shipped_checkpoint_and_settings_are_the_ones_val_v2_chose() -> None:
    """The rule (within 0.002 of the lowest val-v2 headline, the highest object PSNR), applied to the candidate
    runs, picks the shipped checkpoint's settings; the `small` preset and the selection records in its config.json
    say the same and quote the headlines; docs/casper.md's table prints every candidate run."""
    from genbench.models.casper.config import CONFIGS
    from genbench.models.casper.method import WEIGHTS

    runs = {name: casper_run("val-v2", name) for name in SELECTION_RUNS}
    best = min(run["headline"] for run in runs.values())
    level = [name for name, run in runs.items() if run["headline"] <= best + 0.002]
    chosen = max(level, key=lambda name: runs[name]["regions"]["object"]["psnr"])
    assert chosen == "small-one-view" and len(level) > 1
    checkpoint = json.loads((WEIGHTS / "config.json").read_text())
    config = checkpoint["config"]
    prefill, steps, plate, fill = SELECTION_RUNS[chosen]
    assert (config["prefill"], config["sample_steps"], config["plate"], config["fill_size"]) == \
        (prefill, steps, plate, fill)
    preset = CONFIGS["small"]
    assert (preset.prefill, preset.sample_steps, preset.plate, preset.fill_size) == (prefill, steps, plate, fill)
    records = {"checkpoint_selection": "prefill", "steps_selection": "sample_steps", "plate_selection": "plate",
               "fill_selection": "fill_size"}
    for record, setting in records.items():
        selection = checkpoint["training"][record]
        assert selection["chosen"] == {setting: config[setting]} and "val-v2" in selection["split"]
        assert f"{runs[chosen]['headline']:.4f}" in selection["criterion"], record
    quoted = " ".join(checkpoint["training"][r]["criterion"] for r in records)
    assert all(f"{run['headline']:.4f}" in quoted for run in runs.values())
    rows = CASPER_DOC.read_text().split("| pre-fill | DDIM steps | plate | fill size |")[1].split("\n\n")[0]
    for name, (prefill, steps, plate, fill) in SELECTION_RUNS.items():
        run = runs[name]
        cells = (f"| {prefill} | {steps} | {plate or 'off'} | {fill or 'frame'} | {run['headline']:.4f} | "
                 f"{run['regions']['object']['psnr']:.2f} | {run['regions']['object']['lpips']:.4f} |")
        assert cells in rows.replace("**", ""), cells


VIEWS_RUNS = {"small-one-view": 1, None: 2, "small-views4": 4}  # val-v2 runs of the shipped settings -> views


def test_the_shipped_views_are_the_ones_val_v2_chose() -> None:
    """The rule for views (within 0.002 of the lowest val-v2 headline, the fewest views: each is one more run of
    the model), applied to the runs of the shipped settings at 1, 2 and 4 views, picks the shipped checkpoint's
    `views`, which the published val-v2 run used; the `small` preset and config.json's record say the same and
    quote every headline; docs/casper.md's table prints every run."""
    from genbench.models.casper.config import CONFIGS
    from genbench.models.casper.method import WEIGHTS

    runs = {name: casper_run("val-v2", name) for name in VIEWS_RUNS}
    best = min(run["headline"] for run in runs.values())
    chosen = min((name for name, run in runs.items() if run["headline"] <= best + 0.002), key=VIEWS_RUNS.get)
    checkpoint = json.loads((WEIGHTS / "config.json").read_text())
    assert chosen is None and checkpoint["config"]["views"] == CONFIGS["small"].views == VIEWS_RUNS[chosen] == 2
    assert runs["small-one-view"]["headline"] > best + 0.002  # one view is not level with the others
    selection = checkpoint["training"]["views_selection"]
    assert selection["chosen"] == {"views": 2} and "val-v2" in selection["split"]
    assert all(f"{run['headline']:.4f}" in selection["criterion"] for run in runs.values())
    rows = CASPER_DOC.read_text().split("| views | headline ↓ |")[1].split("\n\n")[0].replace("**", "")
    for name, views in VIEWS_RUNS.items():
        run = runs[name]
        cells = (f"| {views} | {run['headline']:.4f} | {run['regions']['object']['psnr']:.2f} | "
                 f"{run['regions']['object']['lpips']:.4f} | {run['regions']['effect']['psnr']:.2f} | "
                 f"{run['regions']['effect']['lpips']:.4f} | {run['regions']['full']['psnr']:.2f} |")
        assert cells in rows, cells


GPU_RUNS = {  # docs/casper.md's GPU tables: row -> (split, variant run beside the published one, or a method of it)
    "`median` baseline": ("val-v2", "median"),
    "`tiny` (CPU, 8000 steps)": ("val-v2", "tiny"),
    "`tiny`": ("mini-v2", "tiny"),
    "`small`, cv2 pre-fill, 4 steps": ("val-v2", "gpu-small-cv2"),
    "`small`, cv2 pre-fill, 1 step + plate": ("*", "gpu-small-cv2-plate"),
    "`small`, median pre-fill, 4 steps": ("val-v2", "gpu-small-median"),
    "`small`, median pre-fill, 1 step + plate": ("*", "gpu-small-median-plate"),
    "`base`, median pre-fill, 4 steps": ("val-v2", "gpu-base-median"),
    "`base`, median pre-fill, 1 step + plate": ("*", "gpu-base-median-plate"),
}


@pytest.mark.parametrize("key", ["val-v2", "mini-v2"])
def test_the_gpu_trained_runs_recomputed_and_quoted(key: str) -> None:
    """docs/casper.md's "Trained on a GPU" tables: every row is its run's summary (variant runs' headline and
    PSNRs recomputed from their clips by `casper_run`), the trained `small` beats `tiny` there, and the README
    quotes those headlines."""
    title = {"val-v2": "On val-v2 (35 clips; `tiny`", "mini-v2": "And on the shipped mini-v2 split"}[key]
    rows = readme_rows(title, CASPER_DOC)
    assert len(rows) == (8 if key == "val-v2" else 4)
    published = json.loads((RESULTS / key / "results.json").read_text())["methods"]
    summaries = {}
    for name, row in rows.items():
        split, run = GPU_RUNS[name]
        assert split in (key, "*"), name
        summary = published[run] if run in published else casper_run(key, run)
        assert not row_mismatches(row, summary), (key, name, row_mismatches(row, summary))
        summaries[name] = summary
    shipped = summaries["`tiny` (CPU, 8000 steps)" if key == "val-v2" else "`tiny`"]["headline"]
    cv2, median = (summaries[f"`small`, {p} pre-fill, 1 step + plate"]["headline"] for p in ("cv2", "median"))
    assert cv2 < shipped and median < shipped
    prose = readme_prose()
    if key == "val-v2":
        assert f"val-v2 {cv2:.4f} vs {shipped:.4f} (cv2 pre-fill; {median:.4f} with the median pre-fill)" in prose
        assert f"val-v2 {summaries['`base`, median pre-fill, 1 step + plate']['headline']:.4f}" in prose
    else:
        assert f"mini-v2 {cv2:.4f} / {median:.4f} vs {shipped:.4f}" in prose


REBUILD_RUNS = {  # docs/casper.md's rebuild table: model -> (run folder, method in it; None: its one casper:DIR)
    "`median`": ("all-methods", "median"),
    "`tiny`": ("all-methods", "casper"),
    "`tiny` fine-tuned on v2 (CPU)": ("tiny-v2-finetune", None),
    "`small`, cv2 pre-fill": ("gpu-small-cv2-plate", None),  # one view: the checkpoint before it shipped
    "`small`, median pre-fill": ("gpu-small-median-plate", None),
    "`small`, cv2 pre-fill, two views (shipped)": ("shipped", "casper"),
}


def rebuild_run(folder: str, method: str | None) -> tuple[dict, dict, pd.DataFrame]:
    """One method of a run on the rebuilt full split: the run's dataset record, its summary (headline and
    object and effect means recomputed from its clips) and its clips."""
    results = json.loads((REBUILD / folder / "results.json").read_text())
    if method is None:
        (method, _), = results["methods"].items()
        assert method.startswith("casper:")
    summary = results["methods"][method]
    clips = pd.read_csv(REBUILD / folder / "per_clip.csv")
    clips = clips[clips["method"] == method]
    assert len(clips) == summary["clips"] == 183
    assert headline(clips) == pytest.approx(summary["headline"], abs=2e-6)
    for region in ("object", "effect"):
        assert clips[f"{region}_lpips"].dropna().mean() == pytest.approx(summary["regions"][region]["lpips"], abs=2e-6)
    return results["dataset"], summary, clips


def as_printed(summary: dict) -> dict[str, str]:
    """A results.json method entry as a README results row prints it (for `row_mismatches`)."""
    row = {"score ↓": f"{summary['headline']:.4f}"}
    for region in REGIONS:
        for metric, digits in (("psnr", 2), ("ssim", 4), ("lpips", 4)):
            row[f"{region} {metric.upper()}"] = f"{summary['regions'][region][metric]:.{digits}f}"
    return row


def test_the_full_split_rebuild_reproduces_the_table_and_scores_the_gpu_trained_small() -> None:
    """docs/casper.md's "The GPU-trained `small` on the full split (a rebuild)": the runs share one dataset version
    that is not the official copy; on it every method of the official copy's run (`tiny` then) scores what that
    run printed, and the shipped `small`'s run (the README's full table) is on it too; the table by source is the
    mean of each source's clip rows; the README and the page quote the headlines."""
    official = json.loads((RESULTS / "full-v2" / "results.json").read_text())
    runs = {name: rebuild_run(*where) for name, where in REBUILD_RUNS.items()}
    versions = {dataset["sha256"] for dataset, _, _ in runs.values()}
    assert len(versions) == 1 and official["dataset"]["sha256"] not in versions
    assert {dataset["name"] for dataset, _, _ in runs.values()} == {"genbench-benchmark-full-v2"}
    everything = json.loads((REBUILD / "all-methods" / "results.json").read_text())
    assert everything["dataset"]["sha256"] in versions and set(everything["methods"]) == set(official["methods"])
    for method, summary in everything["methods"].items():
        wrong = row_mismatches(as_printed(official["methods"][method]), summary)
        assert not wrong, (method, wrong)
    columns = ("full_psnr", "object_psnr", "object_lpips", "effect_psnr", "effect_lpips")
    assert source_table_rows("| source (clips) | model |", {name: run[2] for name, run in runs.items()},
                             columns) == len(SOURCES) * len(runs)
    cv2, median, shipped = (runs[n][1]["headline"] for n in ("`small`, cv2 pre-fill", "`small`, median pre-fill",
                                                             "`tiny`"))
    assert f"full-v2 {cv2:.4f} / {median:.4f} vs {shipped:.4f}" in readme_prose()
    two_views = runs["`small`, cv2 pre-fill, two views (shipped)"][1]["headline"]
    assert f"with two views (shipped) {two_views:.4f}" in " ".join(CASPER_DOC.read_text().split())
    # the fine-tune: better than `tiny` on val-v2, worse on mini-v2 and on the full split, as quoted
    fine_tuned = runs["`tiny` fine-tuned on v2 (CPU)"][1]["headline"]
    val, mini = (casper_run(key, "tiny-v2-finetune")["headline"] for key in ("val-v2", "mini-v2"))
    shipped_val, shipped_mini = (casper_run(key, "tiny")["headline"] for key in ("val-v2", "mini-v2"))
    assert val < shipped_val and mini > shipped_mini and fine_tuned > shipped
    prose = " ".join(CASPER_DOC.read_text().split())
    assert f"it scored {val:.4f} on val-v2 (better than `tiny`'s {shipped_val:.4f})" in prose
    assert f"but {mini:.4f} on mini-v2 (worse than {shipped_mini:.4f})" in prose
    assert f"on the full split it is worse ({fine_tuned:.4f} vs {shipped:.4f}" in prose


def test_full_v3_scores_full_v2s_clips_exactly_and_its_tripod_clips_are_quoted() -> None:
    """full-v3 is full-v2 with new tripod clips: on every other clip each method of the README's full table scores
    exactly what it scored on the full-v2 rebuild; the README's headlines over those 175 clips (full-v2 without its
    inverted tripod clips) and its sentences on the tripod clips are the per-clip rows' means."""
    v3, v2 = table_clips("full-v3"), runs_clips(FULL_V2_REBUILD)
    columns = [c for c in v3.columns if c.endswith(("_psnr", "_ssim", "_lpips"))]

    def shared(clips: pd.DataFrame) -> pd.DataFrame:
        kept = clips[~clips["scene_id"].str.startswith("tripod")]
        return kept.set_index(["method", "item"]).sort_index()[columns]

    pd.testing.assert_frame_equal(shared(v3), shared(v2), check_exact=True)
    clips = v3[~v3["scene_id"].str.startswith("tripod")]
    assert {len(part) for _, part in clips.groupby("method")} == {175}
    scores = {method: headline(part) for method, part in clips.groupby("method")}
    text = readme_prose()
    quoted = ", ".join(f"{m} {scores[m]:.4f}" for m in CLASSICAL[:-1])
    assert (f"the headlines are {quoted}, flow-propagation {scores['flow-propagation']:.4f} and Casper "
            f"{scores['casper']:.4f}") in text
    casper, median = (clips[clips["method"] == m] for m in ("casper", "median"))
    assert (f"(object {casper['object_psnr'].mean():.2f} vs `median`'s {median['object_psnr'].mean():.2f} dB, LPIPS "
            f"{casper['object_lpips'].mean():.4f} vs {median['object_lpips'].mean():.4f})") in text
    rebuild = table_methods_of(FULL_V2_REBUILD)
    assert (f"the shipped Casper scored {rebuild['casper']['headline']:.4f} and `median` "
            f"{rebuild['median']['headline']:.4f}") in text
    tripod = {m: part for m, part in v3[v3["scene_id"].str.startswith("tripod")].groupby("method")}
    assert {len(part) for part in tripod.values()} == {5}
    casper, median, identity = tripod["casper"], tripod["median"], tripod["identity"]
    assert (f"`median` scores {headline(median):.4f} there against Casper's {headline(casper):.4f} (object "
            f"{median['object_psnr'].mean():.2f} vs {casper['object_psnr'].mean():.2f} dB), and Casper's effect "
            f"region scores below the input's own ({casper['effect_psnr'].mean():.2f} vs "
            f"{identity['effect_psnr'].mean():.2f} dB)") in text
    # clip by clip: the two largest effect regions gain, the rim of clip 000006 loses most
    gain = (casper.set_index("scene_id")["effect_psnr"] - identity.set_index("scene_id")["effect_psnr"]).round(2)
    largest = sorted(gain.nlargest(2).tolist(), reverse=True)
    assert f"(+{largest[0]:.2f} and +{largest[1]:.2f} dB over the input" in text
    assert gain.idxmin() == "tripod-kubric-s5900-000006-w000" and f"over the edge ({gain.min():.2f} dB)" in text


def test_the_readme_summary_of_the_full_split_is_its_table() -> None:
    """The status paragraph and the prose under the full table: Casper's lead over `median`, recomputed."""
    methods = table_methods("full-v3")
    casper, median = methods["casper"], methods["median"]
    lead = 1 - casper["headline"] / median["headline"]
    object_db = casper["regions"]["object"]["psnr"] - median["regions"]["object"]["psnr"]
    object_lpips = 1 - casper["regions"]["object"]["lpips"] / median["regions"]["object"]["lpips"]
    text = readme_prose()
    assert (f"by {lead:.0%} on the headline, by removing effects and in the object region ({object_db:.1f} dB and "
            f"{object_lpips:.0%} less LPIPS") in text
    assert f"leads the headline ({casper['headline']:.4f} vs `median`'s {median['headline']:.4f})" in text
    assert (f"({casper['regions']['object']['psnr']:.2f} vs {median['regions']['object']['psnr']:.2f} dB, LPIPS "
            f"{casper['regions']['object']['lpips']:.4f} vs {median['regions']['object']['lpips']:.4f})") in text
    effect_db = casper["regions"]["effect"]["psnr"] - median["regions"]["effect"]["psnr"]
    effect_lpips = 1 - casper["regions"]["effect"]["lpips"] / median["regions"]["effect"]["lpips"]
    assert f"in the effect region +{effect_db:.1f} dB and {effect_lpips:.0%} less LPIPS" in text
    full_psnr = {m: s["regions"]["full"]["psnr"] for m, s in methods.items()}
    above = sum(v > full_psnr["casper"] for m, v in full_psnr.items() if m != "casper")
    count = ["no baselines", "one baseline", "two baselines", "three baselines", "four baselines"][above]
    assert f"ranks it below {count}" in text


def test_the_256_px_run_is_quoted() -> None:
    methods = kubric_part("render-256")
    casper, median = methods["casper"], methods["median"]
    best = max(s["regions"]["object"]["psnr"] for m, s in methods.items() if m != "casper")
    quoted = (f"headline {casper['headline']:.4f} vs `median`'s {median['headline']:.4f}, object region "
              f"{casper['regions']['object']['psnr']:.2f} dB vs the best baseline's {best:.2f}")
    assert quoted in readme_prose() and casper["headline"] < median["headline"]


def test_docs_casper_full_v3_by_source_table_recomputed() -> None:
    clips = table_clips("full-v3")
    models = {"`median`": "median", "`flow-propagation`": "flow-propagation", "Casper": "casper"}
    columns = ("full_psnr", "object_psnr", "object_lpips", "effect_psnr", "effect_lpips")
    assert source_table_rows("| source (clips) on full-v3 |", {label: clips[clips["method"] == m]
                                                                for label, m in models.items()}, columns) == 12
