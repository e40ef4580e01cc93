"""`build`: the board as a static site, ``index.html`` plus ``assets/`` (no external CDN, works from file://).

Per group (task, dataset version, split, protocol version; `genbench.leaderboard.board.Group`):
its tables (`Group.tables`: the headline and clip-weighted PSNR/SSIM/LPIPS per region, the effect
kinds, the frame-weighted means, PROVE-comparable scores for removal, the layers and alpha for
layering), bar charts per metric and region (inline SVG), and the qualitative strips stored with
each entry. Every table is ranked by the group's rank column (the headline, lower first; full-frame
PSNR for a protocol v1 group), which its header marks with ``aria-sort`` and the table with
``data-sort-col``/``data-sort-dir``; each numeric header names its summary path in ``data-key``.
Groups scored under another protocol follow the current ones, apart, each with its notice.

Tables are complete HTML (ranked and numbered without JavaScript); ``assets/board.js`` adds sorting
by any column (click a header, or ``index.html#sort=<table id>:<column>:<asc|desc>``) and numbers
the rows in their current order.
"""

from __future__ import annotations

import re
import shutil
from html import escape
from pathlib import Path

from genbench.atomic import atomic_folder
from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS, PROTOCOL_VERSION
from genbench.benchmark.results import HEADLINE_LABEL, HEADLINES, fmt
from genbench.benchmark.svg import bar_chart
from genbench.errors import GenbenchError
from genbench.leaderboard.board import Group, Table, groups, score, value
from genbench.leaderboard.reported import Reported, read_reported, reported_html
from genbench.leaderboard.store import Entry, read_board

INDEX = "index.html"
ASSETS = "assets"
APART = "other-protocols"  # the anchor of the groups scored under another protocol
CSS = """body{font-family:sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
table.board{border-collapse:collapse;margin:6px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4;white-space:nowrap}th.sortable{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}td.method,td.authors,th.method,th.authors{text-align:left}
table.board td{white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0 16px}figcaption{font-weight:bold}
img.strip{image-rendering:pixelated;display:block;max-width:100%;margin:3px 0}code{background:#f4f4f4;padding:1px 4px}
.scroll{overflow-x:auto}p.notice{background:#fff4e0;border-left:4px solid #e8a13a;padding:6px 10px}
h2.apart{border-top:2px solid #e8a13a;padding-top:12px;margin-top:36px}
table.reported{border-collapse:collapse;margin:6px 0 18px;color:#555;font-style:italic}
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
    if (table.hasAttribute("data-sort-col")) {  // else the rows stay in the order the page lists them
      sortTable(table, parseInt(table.getAttribute("data-sort-col"), 10), table.getAttribute("data-sort-dir"));
    }
  });
  var m = /sort=([^:&]+):(\d+):(asc|desc)/.exec(decodeURIComponent(location.hash));
  if (m) {
    var t = document.getElementById(m[1]);
    if (t) { sortTable(t, parseInt(m[2], 10), m[3]); }
  }
})();
"""


def _num(v: float | None, metric: str) -> str:
    return f'<td data-value="{"" if v is None else repr(v)}">{fmt(v, metric)}</td>'


def _method_cell(e: Entry) -> str:
    name = escape(e.method)
    if e.url:
        name = f'<a href="{escape(e.url, quote=True)}" rel="nofollow noopener">{name}</a>'
    return f'<td class="method" title="{escape(e.id)}">{name}</td>'


def _table(g: Group, table: Table, entries: list[Entry]) -> str:
    """A sortable table of `entries` (in the group's rank order). Its default sort (``data-sort-col``,
    ``data-sort-dir``, the header's ``aria-sort``) is the group's rank column when the table has it."""
    default = next((i for i, c in enumerate(table.columns) if c.path == g.rank_column.path), None)
    head = ['<th class="rank">#</th>', '<th class="method sortable">method</th>']
    for i, c in enumerate(table.columns):
        better = "higher" if c.higher_is_better else "lower"
        attrs = f'class="sortable num" data-key="{escape(".".join(c.path))}" data-better="{better}"'
        if c.metric == "headline":
            attrs += f' title="{escape(HEADLINES.get(g.task, ""))}"'
        if i == default:
            attrs += f' aria-sort="{"descending" if c.higher_is_better else "ascending"}"'
        head.append(f"<th {attrs}>{escape(c.header)}</th>")
    head += ['<th class="sortable">extra data</th>', '<th class="authors sortable">authors</th>',
             '<th class="sortable">submitted</th>']
    rows = []
    for rank, e in enumerate(entries, 1):
        cells = [f'<td class="rank">{rank}</td>', _method_cell(e)]
        cells += [_num(value(e, c), c.metric) for c in table.columns]
        cells += [f"<td>{'yes' if e.extra_data else 'no'}</td>", f'<td class="authors">{escape(e.authors)}</td>',
                  f"<td>{escape(e.submitted[:10])}</td>"]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    sort = ""
    if default is not None:
        column = table.columns[default]
        sort = f' data-sort-col="{default + 2}" data-sort-dir="{"desc" if column.higher_is_better else "asc"}"'
    return (f'<div class="scroll"><table class="board" id="{escape(g.key)}-{escape(table.name)}"{sort}>'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _charts(g: Group, entries: list[Entry]) -> str:
    names = [e.method if [x.method for x in entries].count(e.method) == 1 else f"{e.method} ({e.id[:15]})"
             for e in entries]
    regions = g.regions()
    charts = []
    for m in METRICS:
        series = {n: [score(e, r, m) for r in regions] for n, e in zip(names, entries, strict=True)}
        arrow = "higher is better" if HIGHER_IS_BETTER[m] else "lower is better"
        charts.append(bar_chart(f"{m.upper()} per region ({arrow})", regions, series,
                                width=max(440, 164 + 80 * len(regions))))  # room for effect:<kind> labels
    return f'<div class="charts">{"".join(charts)}</div>'


def _group_html(g: Group, strip_paths: dict[str, list[str]]) -> str:
    d = g.dataset
    out = [f'<section id="{escape(g.key)}" data-protocol="{g.version}"><h2>{escape(g.title)}</h2>']
    if g.notice:
        notice = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(g.notice))
        out.append(f'<p class="notice">{notice}</p>')
    else:
        out.append(f"<p>{escape(g.ranking[0].upper() + g.ranking[1:])}.</p>")
    entries = g.ranked()
    for table in g.tables():
        out.append(f"<h3>{escape(table.caption)}</h3>")
        out.append(_table(g, table, entries))
    out += ["<h3>Per region</h3>", _charts(g, entries), "<h3>Qualitative (middle frame)</h3>"]
    for e in entries:
        imgs = "".join(f'<img class="strip" src="{escape(p)}" alt="{escape(e.method)} {escape(Path(p).stem)}">'
                       for p in strip_paths.get(e.id, []))
        out.append(f"<figure><figcaption>{escape(e.method)}</figcaption>{imgs or 'no strips stored'}</figure>")
    proto = next(iter(g.entries)).protocol
    out.append(f"<p><small>protocol v{g.version}; dataset {escape(d['name'])} "
               f"({escape(str(d.get('generator', '')))}), sha256 <code>{escape(d['sha256'])}</code>; LPIPS "
               f"{escape(str(proto.get('lpips', {}).get('net', '')))}; weighting: "
               f"{escape(str(proto.get('weighting', '')))}</small></p></section>")
    return "".join(out)


def _toc(gs: list[Group]) -> str:
    return "<ul>" + "".join(f'<li><a href="#{escape(g.key)}">{escape(g.title)}</a></li>' for g in gs) + "</ul>"


def render_index(entries: list[Entry], strip_paths: dict[str, list[str]], title: str = "genbench leaderboard",
                 reported: list[Reported] | None = None) -> str:
    """The page: the measured groups (ranked), then the reported figures (`reported.reported_html`: unranked,
    labelled, in tables of their own)."""
    body = [f"<h1>{escape(title)}</h1>"]
    if not entries:
        body.append("<p>No entries yet. Add one with <code>genbench leaderboard submit PRED --method NAME</code>.</p>")
    gs = groups(entries)
    current = [g for g in gs if g.current]
    apart = [g for g in gs if not g.current]
    if len(gs) > 1:
        body.append(_toc(current))
        if apart:
            body.append(f'<p>Scored under another protocol (<a href="#{APART}">shown apart</a>, not comparable '
                        f"with protocol v{PROTOCOL_VERSION}):</p>" + _toc(apart))
    body += [_group_html(g, strip_paths) for g in current]
    if apart:
        body.append(f'<h2 id="{APART}" class="apart">Scored under another protocol: not comparable with protocol '
                    f"v{PROTOCOL_VERSION}</h2>")
        body += [_group_html(g, strip_paths) for g in apart]
    body.append(reported_html(reported or []))
    body.append(f"<p><small>Scores from <code>genbench leaderboard submit</code>: predictions validated against "
                f"the split and scored by genbench.benchmark under protocol v{PROTOCOL_VERSION}. Each group is ranked "
                f"by {escape(HEADLINE_LABEL)} (lower is better); click a column header to sort by it.</small></p>")
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
        (tmp / INDEX).write_text(render_index(entries, strip_paths, reported=read_reported(board)))
    return out / INDEX
