"""The board as tables: entries grouped by what they were scored on, ranked, and `show`'s text.

Entries compare only when they were scored on the same task, dataset version (sha256) and split,
so each such group is its own board, ranked by full-frame PSNR (higher first) by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from genbench.benchmark.metrics import HIGHER_IS_BETTER, METRICS
from genbench.benchmark.regions import REGIONS
from genbench.benchmark.results import fmt
from genbench.leaderboard.store import Entry


@dataclass
class Group:
    task: str
    dataset: dict[str, Any]  # name, generator, split, sha256, items
    entries: list[Entry]

    @property
    def key(self) -> str:
        d = self.dataset
        return f"{self.task}-{d['name']}-{d['split']}-{d['sha256'][:8]}"

    @property
    def title(self) -> str:
        d = self.dataset
        return f"{self.task}: {d['name']} split {d['split']} ({d['items']} items, sha256 {d['sha256'][:12]})"

    def regions(self) -> list[str]:
        return [r for r in REGIONS if any(r in e.summary.get("regions", {}) for e in self.entries)]


def score(entry: Entry, region: str, metric: str, key: str = "regions") -> float | None:
    value = entry.summary.get(key, {}).get(region, {}).get(metric)
    return None if value is None or not math.isfinite(value) else float(value)


def ranked(entries: list[Entry], region: str = "full", metric: str = "psnr") -> list[Entry]:
    """Best first by (region, metric); entries without the value last, ties by submission time."""
    sign = -1.0 if HIGHER_IS_BETTER[metric] else 1.0

    def key(e: Entry) -> tuple:
        v = score(e, region, metric)
        return (v is None, sign * v if v is not None else 0.0, e.submitted)

    return sorted(entries, key=key)


def groups(entries: list[Entry]) -> list[Group]:
    out: dict[tuple, Group] = {}
    for e in entries:
        d = e.dataset
        k = (e.task, d["name"], d["split"], d["sha256"])
        out.setdefault(k, Group(e.task, d, [])).entries.append(e)
    return [out[k] for k in sorted(out)]


def show_text(entries: list[Entry]) -> str:
    """Markdown tables, one per group: rank, method, clip-weighted PSNR/SSIM/LPIPS per region, who, when."""
    if not entries:
        return "the board is empty: add an entry with `genbench leaderboard submit PRED --method NAME`"
    lines: list[str] = []
    for g in groups(entries):
        regions = g.regions()
        arrows = {m: "↑" if HIGHER_IS_BETTER[m] else "↓" for m in METRICS}
        head = ["#", "method"] + [f"{r} {m.upper()} {arrows[m]}" for r in regions for m in METRICS]
        head += ["extra data", "authors", "submitted"]
        lines += [f"## {g.title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for rank, e in enumerate(ranked(g.entries), 1):
            cells = [str(rank), e.method] + [fmt(score(e, r, m), m) for r in regions for m in METRICS]
            cells += ["yes" if e.extra_data else "no", e.authors or "–", e.submitted[:10]]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()
