"""Figures a method's authors (or a benchmark's maintainers) report, kept beside the measured board, never in it.

A `Reported` row is a method's numbers on a named benchmark as published elsewhere (a paper's table, PROVE's
README), with the source cited. They live in their own file, ``<board>/reported.json``
(``{"schema": 1, "reported": [...]}``), written under the board's lock by atomic replace, so nothing that reads
``board.json`` (grouping, ranking, the headline) ever sees them. `show` and the site print them in tables of
their own after the measured ones, labelled "reported, not measured here", in the order they were added:
unranked, because numbers scored under other protocols on other copies of the data do not rank against ours.

`genbench leaderboard report --method NAME --benchmark NAME --psnr .. --ssim .. --lpips .. --source "..."`
adds one row; ``--from FILE.json`` adds a list of rows (the same fields); ``leaderboard/reported/*.json`` ship
rows read from published tables, each with its exact source.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from genbench.errors import GenbenchError
from genbench.leaderboard.store import LOCK_FILE, LOCK_TIMEOUT_S, SCHEMA, read_board_file
from genbench.scene import write_json

REPORTED_FILE = "reported.json"
LABEL = "reported, not measured here"
SHIPPED = Path(__file__).parent / "reported"  # rows read from published tables, shipped with genbench
# Metrics in the order tables show them; others a row has follow alphabetically.
KNOWN_METRICS = ("psnr", "ssim", "lpips", "remove", "cfd", "rc_s", "rc_t")
HEADERS = {"psnr": "PSNR ↑", "ssim": "SSIM ↑", "lpips": "LPIPS ↓", "remove": "ReMOVE ↑", "cfd": "CFD ↓",
           "rc_s": "RC-S ↑", "rc_t": "RC-T ↓"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()+/-]{0,79}$")
METRIC = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass
class Reported:
    """One method's published figures on one benchmark. source: the exact citation (paper and table, or
    repository@commit and section); url: where to read it; note: anything a reader must know (protocol ...)."""

    method: str
    benchmark: str
    metrics: dict[str, float]
    source: str
    url: str = ""
    note: str = ""
    added: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d"))
    reported: bool = True  # always True: marks the row as not measured here wherever it travels

    def __post_init__(self) -> None:
        where = f"reported row {self.method!r}"
        if not NAME.match(self.method) or not NAME.match(self.benchmark):
            raise GenbenchError(f"{where}: method and benchmark must be plain names (letters, digits, spaces, "
                                f"_.()+/-), got {self.method!r} on {self.benchmark!r}")
        if not self.source.strip():
            raise GenbenchError(f"{where}: a reported figure needs its --source (paper and table, or URL)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise GenbenchError(f"{where}: --url must be http(s), got {self.url!r}")
        if not self.metrics:
            raise GenbenchError(f"{where}: no figures given (--psnr, --ssim, --lpips or --metric NAME=VALUE)")
        for name, v in self.metrics.items():
            if not METRIC.match(name) or not isinstance(v, int | float) or isinstance(v, bool) or \
                    not math.isfinite(v):
                raise GenbenchError(f"{where}: figure {name}={v!r} is not a finite number under a plain name")
        self.metrics = {k: float(v) for k, v in self.metrics.items()}
        self.reported = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reported:
        if not isinstance(data, dict):
            raise GenbenchError(f"a reported row must be an object, got {type(data).__name__}")
        names = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - names)
        if unknown:
            raise GenbenchError(f"reported row {data.get('method', '?')!r}: unknown field(s) {', '.join(unknown)}")
        missing = sorted({"method", "benchmark", "metrics", "source"} - set(data))
        if missing:
            raise GenbenchError(f"reported row {data.get('method', '?')!r}: missing field(s) {', '.join(missing)}")
        return cls(**data)


def read_reported(board: Path) -> list[Reported]:
    """The reported rows of the board at `board`, in the order they were added (none when there are none)."""
    return [Reported.from_dict(r) for r in read_board_file(Path(board) / REPORTED_FILE).get("reported", [])]


def load_rows(path: Path) -> list[Reported]:
    """Rows from a JSON file: a list of rows, or ``{"reported": [...]}``."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise GenbenchError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise GenbenchError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    rows = data.get("reported") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise GenbenchError(f"{path}: expected a non-empty list of reported rows (or {{\"reported\": [...]}})")
    return [Reported.from_dict(r) for r in rows]


def add_reported(board: Path, rows: list[Reported]) -> list[Reported]:
    """Append `rows` to the board's reported.json atomically, under the board's lock. A row repeating one there
    (same method, benchmark and source) is refused. Returns every reported row after the change."""
    board = Path(board)
    board.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(board / LOCK_FILE, timeout=LOCK_TIMEOUT_S):
            rows_before = read_reported(board)
            seen = {(r.method, r.benchmark, r.source) for r in rows_before}
            for r in rows:
                key = (r.method, r.benchmark, r.source)
                if key in seen:
                    raise GenbenchError(f"{board}: {r.method} on {r.benchmark} from this source is reported already")
                seen.add(key)
            after = [*rows_before, *rows]
            write_json(board / REPORTED_FILE, {"schema": SCHEMA, "reported": [asdict(r) for r in after]})
    except Timeout:
        raise GenbenchError(f"{board}: another writer holds the lock for over {LOCK_TIMEOUT_S:.0f} s; retry") from None
    return after


def by_benchmark(rows: list[Reported]) -> dict[str, list[Reported]]:
    """Rows grouped by benchmark (benchmarks sorted), each in the order added."""
    out: dict[str, list[Reported]] = {}
    for r in rows:
        out.setdefault(r.benchmark, []).append(r)
    return {k: out[k] for k in sorted(out)}


def metric_names(rows: list[Reported]) -> list[str]:
    present = {m for r in rows for m in r.metrics}
    return [m for m in KNOWN_METRICS if m in present] + sorted(present - set(KNOWN_METRICS))


def _cell(r: Reported, metric: str) -> str:
    v = r.metrics.get(metric)
    return "–" if v is None else f"{v:.4f}"


def reported_text(rows: list[Reported]) -> str:
    """Markdown: one unranked table per benchmark, under a heading that says these are not measured here."""
    if not rows:
        return ""
    lines = [f"# Reported figures ({LABEL})", "",
             "> Published elsewhere, under their own protocol and copy of the data: not ranked, and not comparable "
             "with the measured tables above.", ""]
    for bench, group in by_benchmark(rows).items():
        metrics = metric_names(group)
        head = ["method", *[HEADERS.get(m, m) for m in metrics], "source"]
        lines += [f"## {bench} ({LABEL})", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in group:
            cells = [r.method, *[_cell(r, m) for m in metrics], r.source + (f" <{r.url}>" if r.url else "")]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def reported_html(rows: list[Reported]) -> str:
    """The site's section of reported figures: a table per benchmark, unranked and not sortable, labelled."""
    if not rows:
        return ""
    out = [f'<h2 id="reported" class="apart">Reported figures ({escape(LABEL)})</h2>',
           '<p class="notice">Published elsewhere, under their own protocol and copy of the data: not ranked, and '
           "not comparable with the measured tables above.</p>"]
    for bench, group in by_benchmark(rows).items():
        metrics = metric_names(group)
        head = "".join(f"<th>{escape(HEADERS.get(m, m))}</th>" for m in metrics)
        out.append(f'<section class="reported" data-reported="true"><h3>{escape(bench)} '
                   f'<small>({escape(LABEL)})</small></h3><div class="scroll"><table class="reported">'
                   f'<thead><tr><th class="method">method</th>{head}<th class="method">source</th></tr></thead><tbody>')
        for r in group:
            src = escape(r.source)
            if r.url:
                src = f'<a href="{escape(r.url)}">{src}</a>'
            if r.note:
                src += f"<br><small>{escape(r.note)}</small>"
            cells = "".join(f"<td>{_cell(r, m)}</td>" for m in metrics)
            out.append(f'<tr data-reported="true"><td class="method">{escape(r.method)} <small>(reported)</small>'
                       f'</td>{cells}<td class="method">{src}</td></tr>')
        out.append("</tbody></table></div></section>")
    return "".join(out)


def shipped_files() -> list[Path]:
    """The reported-figure files that ship with genbench (``leaderboard/reported/*.json``)."""
    return sorted(SHIPPED.glob("*.json")) if SHIPPED.is_dir() else []


