"""Scores as records, their means, the headline, and the files `genbench eval` writes: results.json, CSV, Markdown.

Means (protocol v2, printed with every result):

- **A clip's score in a region pools the clip's region pixels over its frames**: PSNR from the MSE
  over all of them, SSIM and LPIPS as the mean of their maps over all of them. So one exact frame
  (100 dB) cannot dominate a clip's PSNR, and a frame where the region is three pixels weighs three
  pixels, not as much as a frame where it is a thousand. Over the whole frame this is the mean over
  frames for SSIM and LPIPS, and the PSNR of the clip's MSE.
- The **clip-weighted** headline is the mean of the clip scores over the clips that have the
  region; the **frame-weighted** mean (ProPainter's pooling: every frame's own score, averaged over
  all frames of all clips) is reported beside it.
- The **headline** of a task (`HEADLINES`) is one a method cannot win while leaving an effect
  behind: removal: the mean of the object- and effect-region LPIPS; layering: the mean of the
  object- and effect-region LPIPS of the background and of each layer over the true background.
  Lower is better. Where a split has no effect pixels, the mean of what there is.

results.json::

    {"schema": 2, "created": ISO date, "provenance": {...}, "dataset": {...}, "protocol": {"version": 2, ...},
     "methods": {NAME: {"task", "spec", "clips", "frames", "predictions": {"path", "sha256", "generated"},
                        "timing": {...}, "headline": x, "headline_frame_weighted": x,
                        "regions": {REGION: {"psnr", "ssim", "lpips"}},        # clip-weighted
                        "frame_weighted": {REGION: {...}}, "clips_scored": {REGION: n},
                        "prove": {"psnr", "ssim", "lpips", "rc_s", "rc_t"},  # removal: PROVE's protocol
                        # layering only: "regions" score the background against bg, and
                        "layers": {same keys, each layer over the GT bg vs solo_<k>},
                        "alpha": {"iou", "l1", "frame_weighted": {"iou", "l1"}}}}}

REGION is full, object, effect, preserve, and effect:<kind> where the data records effect kinds.
"method" holds what `genbench.methods.method_description` gives (a recipe's version, commits and settings), or null.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS, MSE, PIXELS, SSIM_PIXELS, mean_finite
from genbench.benchmark.prove import MAX_FRAMES as PROVE_FRAMES
from genbench.benchmark.regions import REGIONS, ordered
from genbench.pixels import psnr_from_mse
from genbench.scene import write_json

SCHEMA = 2
ALPHA_METRICS = ("iou", "l1")
PROVE_METRICS = ("psnr", "ssim", "lpips", "rc_s", "rc_t")
RESULTS_FILE = "results.json"
CSV_FILE = "per_clip.csv"
MARKDOWN_FILE = "results.md"
_DIGITS = {"psnr": 2, "ssim": 4, "lpips": 4, "iou": 4, "l1": 4, "headline": 4, "rc_s": 4, "rc_t": 4}
HEADLINE_REGIONS = ("object", "effect")
HEADLINES = {
    "removal": "mean of object- and effect-region LPIPS (lower is better)",
    "layering": "mean of object- and effect-region LPIPS of the background and of each layer over the true "
                "background (lower is better)",
}
HEADLINE_LABEL = "score ↓"


@dataclass
class ClipScores:
    """Per-frame scores of one clip.

    item: sample id (removal), ``<scene_id>/bg`` or ``<scene_id>/layer_<k>`` (layering).
    kind: "removal", "bg" or "layer". values: region -> metric or pixel count -> (T,) float64
    (`genbench.benchmark.metrics.FrameScorer.score`), NaN = empty region.
    alpha: "iou" / "l1" -> (T,) float64 (layers only). prove: PROVE's RC-S and RC-T of the clip, when computed.
    """

    item: str
    scene_id: str
    kind: str
    frames: int
    values: dict[str, dict[str, np.ndarray]]
    alpha: dict[str, np.ndarray] = field(default_factory=dict)
    prove: dict[str, float] = field(default_factory=dict)

    def region_score(self, region: str) -> dict[str, float]:
        """The clip's pooled score in `region` (module docstring); NaN when the region is empty in every frame."""
        v = self.values[region]
        pixels, inner = v[PIXELS], v[SSIM_PIXELS]
        with np.errstate(invalid="ignore", divide="ignore"):
            mse = np.nansum(v[MSE] * pixels) / pixels.sum()
            return {"psnr": float(psnr_from_mse(mse)),
                    "ssim": float(np.nansum(v["ssim"] * inner) / inner.sum()),
                    "lpips": float(np.nansum(v["lpips"] * pixels) / pixels.sum())}

    def means(self) -> dict[str, float]:
        """Flat clip scores: ``<region>_<metric>`` and ``alpha_<metric>``."""
        out = {f"{r}_{m}": v for r in ordered(list(self.values)) for m, v in self.region_score(r).items()}
        out.update({f"alpha_{m}": mean_finite(v) for m, v in self.alpha.items()})
        out.update({f"prove_{m}": v for m, v in self.prove.items()})
        return out


@dataclass
class MethodRun:
    """One method's scored clips and where its predictions came from."""

    method: str
    task: str
    predictions: Path
    predictions_sha256: str
    generated: bool  # predictions made by this run (or taken from its cache) rather than given
    clips: list[ClipScores]
    timing: dict[str, float] = field(default_factory=dict)
    spec: str | None = None  # the method spec it was built from (None: predictions given)
    about: dict[str, Any] | None = None  # `genbench.methods.method_description`: e.g. a recipe's commit and settings


@dataclass
class EvalResult:
    dataset: dict[str, Any]
    protocol: dict[str, Any]
    provenance: dict[str, Any]
    created: str
    runs: list[MethodRun]


def summarize(clips: list[ClipScores]) -> dict[str, Any]:
    """Clip-weighted and frame-weighted means per region and metric, and how many clips had each region."""
    regions = ordered({r for c in clips for r in c.values})
    out: dict[str, Any] = {"clips": len(clips), "frames": int(sum(c.frames for c in clips)),
                           "regions": {}, "frame_weighted": {}, "clips_scored": {}}
    for r in regions:
        present = [c for c in clips if r in c.values]
        per_clip = [c.region_score(r) for c in present]
        out["regions"][r] = {m: mean_finite(np.array([s[m] for s in per_clip])) for m in METRICS}
        out["frame_weighted"][r] = {m: mean_finite(np.concatenate([c.values[r][m] for c in present]))
                                    for m in METRICS}
        out["clips_scored"][r] = int(sum(not math.isnan(s["psnr"]) for s in per_clip))
    return out


def summarize_alpha(clips: list[ClipScores]) -> dict[str, Any]:
    out: dict[str, Any] = {m: mean_finite(np.array([mean_finite(c.alpha[m]) for c in clips])) for m in ALPHA_METRICS}
    out["frame_weighted"] = {m: mean_finite(np.concatenate([c.alpha[m] for c in clips])) for m in ALPHA_METRICS}
    return out


def summarize_prove(clips: list[ClipScores]) -> dict[str, float]:
    """PROVE's table for removal clips: whole-frame PSNR, SSIM and LPIPS as the mean of per-frame values over a
    clip's first 81 frames, then over clips; RC-S and RC-T (clip means over clips) where they were computed."""
    out = {m: mean_finite(np.array([mean_finite(c.values["full"][m][:PROVE_FRAMES]) for c in clips]))
           for m in ("psnr", "ssim", "lpips")}
    for m in ("rc_s", "rc_t"):
        out[m] = mean_finite(np.array([c.prove.get(m, math.nan) for c in clips]))
    return out


def headline(*summaries: dict[str, Any], key: str = "regions") -> float:
    """The task's headline from summaries (the background, the layers): the mean of their object- and
    effect-region LPIPS that exist."""
    values = [s[key].get(r, {}).get("lpips", math.nan) for s in summaries for r in HEADLINE_REGIONS]
    return mean_finite(np.array(values, dtype=np.float64))


def method_summary(run: MethodRun) -> dict[str, Any]:
    head = {"task": run.task, "spec": run.spec, "method": run.about, "timing": run.timing,
            "predictions": {"path": str(run.predictions), "sha256": run.predictions_sha256,
                            "generated": run.generated}}
    if run.task == "removal":
        body = summarize(run.clips)
        return {**head, "headline": headline(body), "headline_frame_weighted": headline(body, key="frame_weighted"),
                **body, "prove": summarize_prove(run.clips)}
    layers = [c for c in run.clips if c.kind == "layer"]
    bg, lay = summarize([c for c in run.clips if c.kind == "bg"]), summarize(layers)
    return {**head, "headline": headline(bg, lay), "headline_frame_weighted": headline(bg, lay, key="frame_weighted"),
            **bg, "layers": lay, "alpha": summarize_alpha(layers)}


def _jsonable(value: Any) -> Any:
    """NaN and infinities become null (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def results_dict(result: EvalResult) -> dict[str, Any]:
    return _jsonable({"schema": SCHEMA, "created": result.created, "provenance": result.provenance,
                      "dataset": result.dataset, "protocol": result.protocol,
                      "methods": {run.method: method_summary(run) for run in result.runs}})


def csv_rows(result: EvalResult) -> list[dict[str, Any]]:
    rows = []
    for run in result.runs:
        for clip in run.clips:
            means = {k: ("" if math.isnan(v) else round(v, 6)) for k, v in clip.means().items()}
            rows.append({"method": run.method, "task": run.task, "kind": clip.kind, "item": clip.item,
                         "scene_id": clip.scene_id, "frames": clip.frames, **means})
    return rows


def fmt(value: float | None, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{_DIGITS[metric]}f}"


@dataclass(frozen=True)
class Column:
    """One table column: its header, where its value sits in a method summary, and how it is formatted."""

    header: str
    path: tuple[str, ...]  # keys into the summary, e.g. ("regions", "effect", "lpips")
    metric: str  # for formatting and direction: psnr, ssim, lpips, iou, l1, headline, rc_s, rc_t

    @property
    def higher_is_better(self) -> bool:
        return {**HIGHER_IS_BETTER, "iou": True, "l1": False, "headline": False, "rc_s": True,
                "rc_t": False}[self.metric]

    def value(self, summary: dict[str, Any]) -> float | None:
        node: Any = summary
        for key in self.path:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, int | float) else None


def _arrow(metric: str) -> str:
    return "↑" if Column("", (), metric).higher_is_better else "↓"


def region_columns(summaries: list[dict[str, Any]], key: str = "regions",
                   regions: list[str] | None = None) -> list[Column]:
    """A column per (region, metric) present in any summary (the fixed regions unless `regions` is given)."""
    present = {r for s in summaries for r in s.get(key, {})}
    chosen = [r for r in (REGIONS if regions is None else regions) if r in present]
    return [Column(f"{r} {m.upper()} {_arrow(m)}", (key, r, m), m) for r in chosen for m in METRICS]


def kind_regions(summaries: list[dict[str, Any]]) -> list[str]:
    """The effect:<kind> regions any summary has."""
    return [r for r in ordered({r for s in summaries for r in s.get("regions", {})}) if r not in REGIONS]


def layer_summaries(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Layering summaries seen from their layers: the layers' regions and clips, with the alpha scores."""
    return [{**s["layers"], "alpha": s["alpha"]} for s in summaries]


def headline_column(key: str = "regions") -> Column:
    if key == "regions":
        return Column(HEADLINE_LABEL, ("headline",), "headline")
    return Column("score frame-weighted ↓", ("headline_frame_weighted",), "headline")


def prove_columns() -> list[Column]:
    names = {"psnr": "PSNR", "ssim": "SSIM", "lpips": "LPIPS", "rc_s": "RC-S", "rc_t": "RC-T"}
    return [Column(f"{names[m]} {_arrow(m)}", ("prove", m), m) for m in PROVE_METRICS]


def alpha_columns() -> list[Column]:
    return [Column("alpha IoU ↑", ("alpha", "iou"), "iou"), Column("alpha L1 ↓", ("alpha", "l1"), "l1")]


def markdown_table(names: list[str], summaries: list[dict[str, Any]], columns: list[Column]) -> list[str]:
    """A Markdown table: a row per method (with its clip count), a column per `columns`."""
    head = ["method", "clips"] + [c.header for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in zip(names, summaries, strict=True):
        cells = [name, str(s["clips"])] + [fmt(c.value(s), c.metric) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def protocol_lines(protocol: dict[str, Any]) -> list[str]:
    """The protocol as short human-readable lines (also printed by `genbench eval`)."""
    ssim, lp = protocol["ssim"], protocol["lpips"]
    cap = protocol.get("max_frames")
    sizes = ", ".join(protocol.get("frame_sizes", []))
    return [
        f"genbench protocol v{protocol.get('version', 1)}; headline: {protocol.get('headline', '')}",
        f"resolution: {protocol['resolution']}{f' ({sizes})' if sizes else ''}; "
        f"frames: {'all' if cap is None else f'first {cap}'} per clip; "
        f"colour: {protocol['colour_space']}",
        f"PSNR: RGB, data range 1.0, capped at {protocol['psnr']['cap_db']:.0f} dB; "
        f"SSIM: {ssim['window']} window, K1 {ssim['K1']}, K2 {ssim['K2']}, {ssim['covariance']} covariance "
        f"(scikit-image defaults); LPIPS: {lp['net']} v{lp['version']} ({lp.get('backbone', {}).get('source', '')})",
        f"region rule: {protocol.get('region_rule', '')}",
        f"weighting: {protocol['weighting']}",
        f"regions: {protocol['regions']}",
    ]


def markdown(result: EvalResult) -> str:
    """Markdown tables per task: headline and regions (clip- and frame-weighted), effect kinds, PROVE's protocol."""
    ds = result.dataset
    lines = [f"# genbench eval: {ds['name']} (split `{ds['split']}`)", ""]
    lines += [f"- {line}" for line in protocol_lines(result.protocol)] + [""]
    for task in ("removal", "layering"):
        runs = [r for r in result.runs if r.task == task]
        if not runs:
            continue
        names = [r.method for r in runs]
        sums = [method_summary(r) for r in runs]
        target = "removal: output vs target" if task == "removal" else "layering: background vs bg"
        lines += [f"## {target} (clip-weighted; {HEADLINE_LABEL}: {HEADLINES[task]})", ""]
        lines += [*markdown_table(names, sums, [headline_column(), *region_columns(sums)]), ""]
        kinds = kind_regions(sums)
        if kinds:
            lines += [f"## {target} by effect kind (clip-weighted)", ""]
            lines += [*markdown_table(names, sums, region_columns(sums, regions=kinds)), ""]
        lines += [f"## {target} (frame-weighted: mean over all frames)", ""]
        lines += [*markdown_table(names, sums, [headline_column("frame_weighted"),
                                                *region_columns(sums, "frame_weighted")]), ""]
        if task == "removal":
            lines += ["## PROVE-comparable (xiaomi-research/prove protocol: whole frame, first 81 frames, mean over "
                      "frames then clips; RC-S/RC-T on DINOv2-giant when given)", ""]
            lines += [*markdown_table(names, sums, prove_columns()), ""]
        if task == "layering":
            lines += ["## layering: each layer over the GT background vs solo_<k> (clip-weighted), alpha vs GT", ""]
            layers = layer_summaries(sums)
            lines += [*markdown_table(names, layers, region_columns(layers) + alpha_columns()), ""]
    return "\n".join(lines)


def write_results(out: Path, result: EvalResult) -> dict[str, Path]:
    """Write results.json, per_clip.csv and results.md into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / RESULTS_FILE, "csv": out / CSV_FILE, "markdown": out / MARKDOWN_FILE}
    write_json(paths["json"], results_dict(result))
    rows = csv_rows(result)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with open(paths["csv"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    paths["markdown"].write_text(markdown(result) + "\n")
    return paths
