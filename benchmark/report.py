"""The HTML report of an evaluation: one self-contained file (inline SVG charts, base64 PNG images).

Sections: the protocol; the tables (clip- and frame-weighted); bars per metric with a bar per
region and method; a per-clip scatter of full-frame vs effect-region PSNR (a method that leaves
the shadow behind sits far below the diagonal); qualitative strips of the middle frame of a few
clips, the same clips for every method: input | trimask | output | ground truth | error map
(removal), input | background | GT background | error map | layer | GT layer (layering).
"""

from __future__ import annotations

import base64
import io
import json
import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genbench import contract
from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS
from genbench.benchmark.regions import ordered
from genbench.benchmark.results import (
    HEADLINE_LABEL,
    HEADLINES,
    Column,
    EvalResult,
    alpha_columns,
    fmt,
    headline_column,
    kind_regions,
    layer_summaries,
    method_summary,
    protocol_lines,
    prove_columns,
    region_columns,
)
from genbench.benchmark.svg import bar_chart, scatter
from genbench.frames import read_frames
from genbench.preview import strip
from genbench.samples import layering_scenes, load_layering, load_removal, removal_samples

REPORT_FILE = "report.html"
STRIP_HEIGHT = 128  # panels are upscaled (nearest) to at least this many pixels high
ERROR_GAIN = 4.0  # the error map shows 4 x |output - truth| (max over channels)
CSS = """body{font-family:sans-serif;margin:24px;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.best{font-weight:bold}
img.strip{image-rendering:pixelated;display:block;margin:4px 0 12px;max-width:100%}
.charts{display:flex;flex-wrap:wrap;gap:12px}code{background:#f4f4f4;padding:1px 4px}"""


def png_base64(image: np.ndarray) -> str:
    """(H, W, 3) uint8 -> a data: URI of its PNG."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def error_map(output: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 -> heat map (black, red, yellow, white) of ERROR_GAIN x max-channel |diff|."""
    diff = np.abs(output.astype(np.float32) - truth.astype(np.float32)).max(-1) / 255.0
    v = np.clip(diff * ERROR_GAIN, 0, 1)[..., None]
    rgb = np.clip(np.concatenate([3 * v, 3 * v - 1, 3 * v - 2], axis=-1), 0, 1)
    return np.round(rgb * 255).astype(np.uint8)


def _upscale(video: np.ndarray, factor: int) -> np.ndarray:
    return video.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else video


def strip_image(panels: list[np.ndarray], labels: list[str]) -> np.ndarray:
    """One frame per panel ((H, W[, C]) uint8) side by side, upscaled, titled: (H', W', 3) uint8."""
    factor = max(1, math.ceil(STRIP_HEIGHT / panels[0].shape[0]))
    return strip([_upscale(p[None], factor) for p in panels], labels)[0]


def _pick(ids: list[str], count: int) -> list[str]:
    """Up to `count` ids spread evenly over the sorted list."""
    if len(ids) <= count:
        return ids
    return [ids[round(i * (len(ids) - 1) / (count - 1))] for i in range(count)] if count > 1 else ids[:1]


def _removal_strips(result: EvalResult, data: Path, count: int) -> list[str]:
    samples = {s.sample_id: s for s in removal_samples(data, result.dataset["split"])}
    cap = result.protocol.get("max_frames")
    html = []
    for sid in _pick(sorted(samples), count):
        item = load_removal(data, samples[sid], cap)
        t = len(item.frames) // 2
        html.append(f"<h3>{escape(sid)} <small>(frame {t})</small></h3>")
        for run in result.runs:
            pred = read_frames(run.predictions / sid, len(item.frames))[t]
            truth = item.target[t]
            image = strip_image([item.frames[t], item.trimask[t], pred, truth, error_map(pred, truth)],
                                ["input", "trimask", "output", "truth", f"error x{ERROR_GAIN:g}"])
            html.append(f'<div>{escape(run.method)}<img class="strip" src="{png_base64(image)}" '
                        f'alt="{escape(run.method)} {escape(sid)}"></div>')
    return html


def _layering_strips(result: EvalResult, data: Path, count: int) -> list[str]:
    metas = {m.scene_id: m for m in layering_scenes(data, result.dataset["split"])}
    cap = result.protocol.get("max_frames")
    html = []
    for sid in _pick(sorted(metas), count):
        item = load_layering(data, metas[sid], cap)
        t, k = len(item.frames) // 2, metas[sid].object_ids[0]
        html.append(f"<h3>{escape(sid)} <small>(frame {t}, layer {k})</small></h3>")
        for run in result.runs:
            root = run.predictions / sid
            bg = read_frames(root / contract.BG, len(item.frames))[t]
            layer = read_frames(root / contract.LAYERS_DIR / str(k), len(item.frames))[t]
            image = strip_image([item.frames[t], bg, item.bg[t], error_map(bg, item.bg[t]), layer, item.layers[k][t]],
                                ["input", "background", "truth", f"error x{ERROR_GAIN:g}", f"layer {k}", "GT layer"])
            html.append(f'<div>{escape(run.method)}<img class="strip" src="{png_base64(image)}" '
                        f'alt="{escape(run.method)} {escape(sid)}"></div>')
    return html


def _html_table(names: list[str], summaries: list[dict[str, Any]], columns: list[Column]) -> str:
    """Table with the best value per column in bold."""
    head = "".join(f"<th>{escape(c.header)}</th>" for c in columns)
    values = [[c.value(s) for c in columns] for s in summaries]
    best = []
    for j, c in enumerate(columns):
        column = [v[j] for v in values if v[j] is not None and math.isfinite(v[j])]
        best.append((max if c.higher_is_better else min)(column) if column and len(summaries) > 1 else None)
    rows = []
    for i, name in enumerate(names):
        cells = "".join(
            f'<td class="{"best" if best[j] is not None and values[i][j] == best[j] else ""}">'
            f"{fmt(values[i][j], c.metric)}</td>" for j, c in enumerate(columns))
        rows.append(f"<tr><td>{escape(name)}</td><td>{summaries[i]['clips']}</td>{cells}</tr>")
    return f"<table><tr><th>method</th><th>clips</th>{head}</tr>{''.join(rows)}</table>"


def _charts(names: list[str], summaries: list[dict[str, Any]], what: str) -> str:
    regions = ordered({r for s in summaries for r in s["regions"]})
    charts = []
    for m in METRICS:
        series = {n: [s["regions"].get(r, {}).get(m) for r in regions] for n, s in zip(names, summaries, strict=True)}
        arrow = "higher is better" if HIGHER_IS_BETTER[m] else "lower is better"
        charts.append(bar_chart(f"{what} {m.upper()} per region ({arrow})".strip(), regions, series))
    return f'<div class="charts">{"".join(charts)}</div>'


def _clip_scatter(result: EvalResult, kind: str) -> str:
    points = {}
    for run in result.runs:
        clips = [c for c in run.clips if c.kind == kind]
        points[run.method] = [(c.means()["full_psnr"], c.means().get("effect_psnr", math.nan), c.item) for c in clips]
    return scatter("per clip: PSNR full frame vs effect region (dB)", points, xlabel="full-frame PSNR",
                   ylabel="effect-region PSNR")


def render_html(result: EvalResult, data: Path, strips: int = 4) -> str:
    ds = result.dataset
    names = [r.method for r in result.runs]
    sums = [method_summary(r) for r in result.runs]
    task = result.runs[0].task if result.runs else "removal"
    prov = result.provenance
    body = [f"<h1>genbench eval: {escape(ds['name'])} <small>split {escape(ds['split'])}, {task}</small></h1>",
            f"<p>{ds['items']} items from <code>{escape(ds['path'])}</code> (dataset sha256 "
            f"<code>{ds['sha256'][:16]}</code>), genbench {escape(str(prov.get('genbench')))} "
            f"commit <code>{escape(str(prov.get('git_commit'))[:12])}</code>, {escape(result.created)}</p>",
            "<h2>Protocol</h2><ul>" + "".join(f"<li>{escape(x)}</li>" for x in protocol_lines(result.protocol))
            + "</ul>"]
    what = "output vs target" if task == "removal" else "background vs bg"
    body += [f"<h2>Scores: {what} (clip-weighted)</h2>",
             f"<p>{escape(HEADLINE_LABEL)}: {escape(HEADLINES[task])}.</p>",
             _html_table(names, sums, [headline_column(), *region_columns(sums)])]
    kinds = kind_regions(sums)
    if kinds:
        body += ["<h2>By effect kind (clip-weighted)</h2>",
                 _html_table(names, sums, region_columns(sums, regions=kinds))]
    body += ["<h2>Frame-weighted</h2>",
             _html_table(names, sums, [headline_column("frame_weighted"), *region_columns(sums, "frame_weighted")])]
    if task == "removal":
        body += ["<h2>PROVE-comparable</h2><p>xiaomi-research/prove's protocol: whole frame, first 81 frames, mean "
                 "over frames then clips; RC-S and RC-T on DINOv2-giant features when genbench eval is given "
                 "<code>--dinov2 DIR</code>.</p>", _html_table(names, sums, prove_columns())]
    if task == "layering":
        layers = layer_summaries(sums)
        body += ["<h2>Layers over the GT background vs solo videos, alpha vs GT (clip-weighted)</h2>",
                 _html_table(names, layers, region_columns(layers) + alpha_columns())]
    body += ["<h2>Per region</h2>", _charts(names, sums, "background" if task == "layering" else "")]
    if task == "layering":
        body.append(_charts(names, [s["layers"] for s in sums], "layers"))
    body += ["<h2>Per clip</h2>", _clip_scatter(result, "removal" if task == "removal" else "bg")]
    body.append("<h2>Qualitative (middle frame)</h2>")
    body += (_removal_strips if task == "removal" else _layering_strips)(result, data, strips)
    body.append("<details><summary>Full protocol and provenance</summary><pre>"
                + escape(json.dumps({"protocol": result.protocol, "provenance": prov, "dataset": ds}, indent=2,
                                    default=str)) + "</pre></details>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>genbench eval: {escape(ds['name'])}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(out: Path, result: EvalResult, data: Path, strips: int = 4) -> Path:
    path = Path(out) / REPORT_FILE
    path.write_text(render_html(result, data, strips))
    return path
