"""`build`: the board as a static site, ``index.html`` plus ``assets/`` (no external CDN, works from file://).

Per group (task, dataset version, split): a sortable table per region (clip-weighted PSNR, SSIM,
LPIPS and the frame-weighted PSNR beside them; layering adds the layers and alpha), bar charts per
metric (inline SVG), and the qualitative strips stored with each entry. Tables are complete HTML
(readable without JavaScript); ``assets/board.js`` adds sorting by any column (click a header, or
``index.html#sort=<table id>:<column>:<asc|desc>``) and numbers the rows in their current order.
"""

from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

from genbench.atomic import atomic_folder
from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS
from genbench.benchmark.results import fmt
from genbench.benchmark.svg import bar_chart
from genbench.errors import GenbenchError
from genbench.leaderboard.board import Group, groups, ranked, score
from genbench.leaderboard.store import Entry, read_board

INDEX = "index.html"
ASSETS = "assets"
CSS = """body{font-family:sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
table.board{border-collapse:collapse;margin:6px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4;white-space:nowrap}th.sortable{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}td.method,td.authors,th.method,th.authors{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0 16px}figcaption{font-weight:bold}
img.strip{image-rendering:pixelated;display:block;max-width:100%;margin:3px 0}code{background:#f4f4f4;padding:1px 4px}
"""
JS = r"""// genbench leaderboard: sortable tables. No dependencies.
(function () {
  "use strict";
  function value(cell) {
    var v = cell.getAttribute("data-value");
    if (v === null) { return cell.textContent.trim().toLowerCase(); }
    return v === "" ? null : parseFloat(v);
  }
  function sortTable(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[col]), y = value(b.cells[col]);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
      var c = x < y ? -1 : (x > y ? 1 : 0);
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (row, i) { body.appendChild(row); row.cells[0].textContent = String(i + 1); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === col) { th.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
    table.setAttribute("data-sorted", col + ":" + dir);
  }
  var tables = document.querySelectorAll("table.board");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (!th.classList.contains("sortable")) { return; }
      th.addEventListener("click", function () {
        var now = (table.getAttribute("data-sorted") || "").split(":");
        var first = th.getAttribute("data-better") === "lower" ? "asc" : "desc";
        var dir = String(col) === now[0] ? (now[1] === "asc" ? "desc" : "asc") : first;
        sortTable(table, col, dir);
      });
    });
    sortTable(table, parseInt(table.getAttribute("data-sort-col"), 10), table.getAttribute("data-sort-dir"));
  });
  var m = /sort=([^:&]+):(\d+):(asc|desc)/.exec(decodeURIComponent(location.hash));
  if (m) {
    var t = document.getElementById(m[1]);
    if (t) { sortTable(t, parseInt(m[2], 10), m[3]); }
  }
})();
"""


def _num(value: float | None, metric: str) -> str:
    shown = fmt(value, metric)
    return f'<td data-value="{"" if value is None else repr(value)}">{shown}</td>'


def _method_cell(e: Entry) -> str:
    name = escape(e.method)
    if e.url:
        name = f'<a href="{escape(e.url, quote=True)}" rel="nofollow noopener">{name}</a>'
    return f'<td class="method" title="{escape(e.id)}">{name}</td>'


def _table(table_id: str, entries: list[Entry], columns: list[tuple[str, str, str, str]]) -> str:
    """A sortable table. columns: (header, summary key, region, metric); sorted by the first column."""
    head = ['<th class="rank">#</th>', '<th class="method sortable">method</th>']
    for header, _key, _region, metric in columns:
        better = "higher" if HIGHER_IS_BETTER.get(metric, metric != "l1") else "lower"
        arrow = "↑" if better == "higher" else "↓"
        head.append(f'<th class="sortable" data-better="{better}">{escape(header)} {arrow}</th>')
    head += ['<th class="sortable">extra data</th>', '<th class="authors sortable">authors</th>',
             '<th class="sortable">submitted</th>']
    rows = []
    first = columns[0]
    for e in ranked(entries, first[2], first[3]) if first[1] == "regions" else entries:
        cells = ["<td class=\"rank\"></td>", _method_cell(e)]
        for _header, key, region, metric in columns:
            if key == "alpha":
                v = e.summary.get("alpha", {}).get(metric)
                cells.append(_num(None if v is None else float(v), metric))
            elif key == "layers":
                cells.append(_num(e.summary.get("layers", {}).get("regions", {}).get(region, {}).get(metric), metric))
            else:
                cells.append(_num(score(e, region, metric, key), metric))
        cells += [f"<td>{'yes' if e.extra_data else 'no'}</td>", f'<td class="authors">{escape(e.authors)}</td>',
                  f"<td>{escape(e.submitted[:10])}</td>"]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    sort_dir = "desc" if HIGHER_IS_BETTER.get(first[3], True) else "asc"
    return (f'<table class="board" id="{escape(table_id)}" data-sort-col="2" data-sort-dir="{sort_dir}">'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _charts(g: Group) -> str:
    names = [e.method if [x.method for x in g.entries].count(e.method) == 1 else f"{e.method} ({e.id[:15]})"
             for e in g.entries]
    charts = []
    for m in METRICS:
        series = {n: [score(e, r, m) for r in g.regions()] for n, e in zip(names, g.entries, strict=True)}
        arrow = "higher is better" if HIGHER_IS_BETTER[m] else "lower is better"
        charts.append(bar_chart(f"{m.upper()} per region ({arrow})", g.regions(), series))
    return f'<div class="charts">{"".join(charts)}</div>'


def _group_html(g: Group, strip_paths: dict[str, list[str]]) -> str:
    d = g.dataset
    out = [f'<section id="{escape(g.key)}"><h2>{escape(g.title)}</h2>']
    what = "output vs target" if g.task == "removal" else "background vs bg"
    for region in g.regions():
        columns = [(f"{m.upper()}", "regions", region, m) for m in METRICS]
        columns.append(("PSNR frame-weighted", "frame_weighted", region, "psnr"))
        out.append(f"<h3>{escape(region)} region <small>({what}, clip-weighted)</small></h3>")
        out.append(_table(f"{g.key}-{region}", g.entries, columns))
    if g.task == "layering":
        columns = [(f"layers {m.upper()}", "layers", "full", m) for m in METRICS]
        columns += [("alpha IoU", "alpha", "", "iou"), ("alpha L1", "alpha", "", "l1")]
        out.append("<h3>layers <small>(each layer over the GT background vs solo_&lt;k&gt;; alpha vs GT)</small></h3>")
        out.append(_table(f"{g.key}-layers", ranked(g.entries), columns))
    out += ["<h3>Per region</h3>", _charts(g), "<h3>Qualitative (middle frame)</h3>"]
    for e in ranked(g.entries):
        imgs = "".join(f'<img class="strip" src="{escape(p)}" alt="{escape(e.method)} {escape(Path(p).stem)}">'
                       for p in strip_paths.get(e.id, []))
        out.append(f"<figure><figcaption>{escape(e.method)}</figcaption>{imgs or 'no strips stored'}</figure>")
    proto = next(iter(g.entries)).protocol
    out.append(f"<p><small>dataset {escape(d['name'])} ({escape(str(d.get('generator', '')))}), sha256 "
               f"<code>{escape(d['sha256'])}</code>; LPIPS {escape(str(proto.get('lpips', {}).get('net', '')))}; "
               f"weighting: {escape(str(proto.get('weighting', '')))}</small></p></section>")
    return "".join(out)


def render_index(entries: list[Entry], strip_paths: dict[str, list[str]], title: str = "genbench leaderboard") -> str:
    body = [f"<h1>{escape(title)}</h1>"]
    if not entries:
        body.append("<p>No entries yet. Add one with <code>genbench leaderboard submit PRED --method NAME</code>.</p>")
    gs = groups(entries)
    if len(gs) > 1:
        body.append("<ul>" + "".join(f'<li><a href="#{escape(g.key)}">{escape(g.title)}</a></li>' for g in gs)
                    + "</ul>")
    body += [_group_html(g, strip_paths) for g in gs]
    body.append("<p><small>Scores from <code>genbench leaderboard submit</code>: predictions validated against "
                "the split and scored by genbench.benchmark. Click a column header to sort.</small></p>")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{ASSETS}/style.css"></head><body>{"".join(body)}'
            f'<script src="{ASSETS}/board.js"></script></body></html>\n')


def build(board: Path, out: Path) -> Path:
    """Write the site of the board at `board` into `out` (replaced whole, atomically); returns index.html."""
    board, out = Path(board), Path(out)
    entries = read_board(board)
    if out.exists() and not (out / INDEX).is_file() and any(out.iterdir()):
        raise GenbenchError(f"{out}: exists and is not a leaderboard site; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(out) as tmp:
        (tmp / ASSETS / "strips").mkdir(parents=True)
        (tmp / ASSETS / "style.css").write_text(CSS)
        (tmp / ASSETS / "board.js").write_text(JS)
        strip_paths: dict[str, list[str]] = {}
        for e in entries:
            for rel in e.strips:
                src = board / rel
                if src.is_file():
                    dest = tmp / ASSETS / "strips" / e.id / src.name
                    dest.parent.mkdir(exist_ok=True)
                    shutil.copyfile(src, dest)
                    strip_paths.setdefault(e.id, []).append(f"{ASSETS}/strips/{e.id}/{src.name}")
        (tmp / INDEX).write_text(render_index(entries, strip_paths))
    return out / INDEX
