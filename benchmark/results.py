"""Scores as records, their means, and the files `genbench eval` writes: results.json, CSV, Markdown.

Weighting (printed with every result): a clip's score is the mean over its frames; the headline
is the mean over clips (**clip-weighted**), and the mean over all frames of all clips
(**frame-weighted**, ProPainter's pooling) is reported beside it. NaN (an empty region) is left
out of every mean; `clips_scored` says how many clips had a region at all.

results.json::

    {"schema": 1, "created": ISO date, "provenance": {...}, "dataset": {...}, "protocol": {...},
     "methods": {NAME: {"task", "spec", "clips", "frames", "predictions": {"path", "sha256", "generated"},
                        "timing": {...},
                        "regions": {REGION: {"psnr", "ssim", "lpips"}},        # clip-weighted
                        "frame_weighted": {REGION: {...}}, "clips_scored": {REGION: n},
                        # layering only: "regions" score the background against bg, and
                        "layers": {same keys, each layer over the GT bg vs solo_<k>},
                        "alpha": {"iou", "l1", "frame_weighted": {"iou", "l1"}}}}}
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS, mean_finite
from genbench.benchmark.regions import REGIONS
from genbench.scene import write_json

SCHEMA = 1
ALPHA_METRICS = ("iou", "l1")
RESULTS_FILE = "results.json"
CSV_FILE = "per_clip.csv"
MARKDOWN_FILE = "results.md"
_DIGITS = {"psnr": 2, "ssim": 4, "lpips": 4, "iou": 4, "l1": 4}


@dataclass
class ClipScores:
    """Per-frame scores of one clip.

    item: sample id (removal), ``<scene_id>/bg`` or ``<scene_id>/layer_<k>`` (layering).
    kind: "removal", "bg" or "layer". values: region -> metric -> (T,) float64, NaN = empty region.
    alpha: "iou" / "l1" -> (T,) float64 (layers only).
    """

    item: str
    scene_id: str
    kind: str
    frames: int
    values: dict[str, dict[str, np.ndarray]]
    alpha: dict[str, np.ndarray] = field(default_factory=dict)

    def means(self) -> dict[str, float]:
        """Flat clip means: ``<region>_<metric>`` and ``alpha_<metric>``."""
        out = {f"{r}_{m}": mean_finite(self.values[r][m]) for r in REGIONS if r in self.values for m in METRICS}
        out.update({f"alpha_{m}": mean_finite(v) for m, v in self.alpha.items()})
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


@dataclass
class EvalResult:
    dataset: dict[str, Any]
    protocol: dict[str, Any]
    provenance: dict[str, Any]
    created: str
    runs: list[MethodRun]


def summarize(clips: list[ClipScores]) -> dict[str, Any]:
    """Clip-weighted and frame-weighted means per region and metric, and how many clips had each region."""
    regions = [r for r in REGIONS if clips and r in clips[0].values]
    out: dict[str, Any] = {"clips": len(clips), "frames": int(sum(c.frames for c in clips)),
                           "regions": {}, "frame_weighted": {}, "clips_scored": {}}
    for r in regions:
        clip_means = {m: np.array([mean_finite(c.values[r][m]) for c in clips]) for m in METRICS}
        out["regions"][r] = {m: mean_finite(v) for m, v in clip_means.items()}
        out["frame_weighted"][r] = {m: mean_finite(np.concatenate([c.values[r][m] for c in clips]))
                                    for m in METRICS}
        out["clips_scored"][r] = int((~np.isnan(clip_means["psnr"])).sum())
    return out


def summarize_alpha(clips: list[ClipScores]) -> dict[str, Any]:
    out: dict[str, Any] = {m: mean_finite(np.array([mean_finite(c.alpha[m]) for c in clips])) for m in ALPHA_METRICS}
    out["frame_weighted"] = {m: mean_finite(np.concatenate([c.alpha[m] for c in clips])) for m in ALPHA_METRICS}
    return out


def method_summary(run: MethodRun) -> dict[str, Any]:
    head = {"task": run.task, "spec": run.spec, "timing": run.timing,
            "predictions": {"path": str(run.predictions), "sha256": run.predictions_sha256,
                            "generated": run.generated}}
    if run.task == "removal":
        return {**head, **summarize(run.clips)}
    layers = [c for c in run.clips if c.kind == "layer"]
    return {**head, **summarize([c for c in run.clips if c.kind == "bg"]), "layers": summarize(layers),
            "alpha": summarize_alpha(layers)}


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


def _table(names: list[str], summaries: list[dict[str, Any]], key: str,
           alpha: list[dict[str, Any]] | None = None) -> list[str]:
    """One Markdown table: a row per method, a column per (region, metric), alpha columns when given."""
    regions = [r for r in REGIONS if any(r in s[key] for s in summaries)]
    arrows = {m: "↑" if HIGHER_IS_BETTER[m] else "↓" for m in METRICS}
    head = ["method", "clips"] + [f"{r} {m.upper()} {arrows[m]}" for r in regions for m in METRICS]
    head += ["alpha IoU ↑", "alpha L1 ↓"] if alpha else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, (name, s) in enumerate(zip(names, summaries, strict=True)):
        cells = [name, str(s["clips"])] + [fmt(s[key].get(r, {}).get(m), m) for r in regions for m in METRICS]
        cells += [fmt(alpha[i][m], m) for m in ALPHA_METRICS] if alpha else []
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def protocol_lines(protocol: dict[str, Any]) -> list[str]:
    """The protocol as short human-readable lines (also printed by `genbench eval`)."""
    ssim, lp = protocol["ssim"], protocol["lpips"]
    cap = protocol.get("max_frames")
    sizes = ", ".join(protocol.get("frame_sizes", []))
    return [
        f"resolution: {protocol['resolution']}{f' ({sizes})' if sizes else ''}; "
        f"frames: {'all' if cap is None else f'first {cap}'} per clip; "
        f"colour: {protocol['colour_space']}",
        f"PSNR: RGB, data range 1.0, capped at {protocol['psnr']['cap_db']:.0f} dB; "
        f"SSIM: {ssim['window']} window, K1 {ssim['K1']}, K2 {ssim['K2']}, {ssim['covariance']} covariance "
        f"(scikit-image defaults); LPIPS: {lp['net']} v{lp['version']} ({lp.get('backbone', {}).get('source', '')})",
        f"weighting: {protocol['weighting']}",
        f"regions: {protocol['regions']}",
    ]


def markdown(result: EvalResult) -> str:
    """Markdown tables: headline (clip-weighted) and frame-weighted, per task."""
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
        lines += [f"## {target} (clip-weighted: mean over frames, then over clips)", ""]
        lines += [*_table(names, sums, "regions"), ""]
        lines += [f"## {target} (frame-weighted: mean over all frames)", ""]
        lines += [*_table(names, sums, "frame_weighted"), ""]
        if task == "layering":
            lines += ["## layering: each layer over the GT background vs solo_<k> (clip-weighted), alpha vs GT", ""]
            lines += [*_table(names, [s["layers"] for s in sums], "regions", [s["alpha"] for s in sums]), ""]
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
