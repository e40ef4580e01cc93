"""The board as tables: entries grouped by what they were scored on, ranked, and `show`'s text.

Entries compare only when they were scored on the same task, dataset version (sha256), split and
benchmark protocol version (`Entry.protocol_version`), so each such group is its own board.

- Groups of the current protocol (`genbench.benchmark.metrics.PROTOCOL_VERSION`) come first, each
  ranked by the task's headline (`summary["headline"]`, `genbench.benchmark.results.HEADLINES`;
  lower is better), entries without one last, ties by submission time.
- A group scored under another protocol is shown apart, after them, with a notice (`Group.notice`):
  its numbers are not comparable with the current ones. Entries written before protocol v2 record
  no version: they were scored under v1, have no headline, and are ranked by full-frame PSNR. The
  board keeps scores, not predictions, so it cannot re-score them; resubmitting the same predictions
  with `genbench leaderboard submit` scores them under the current protocol.

The tables reuse the benchmark's column model (`genbench.benchmark.results.Column`): the headline
first, then the regions (the effect kinds in a table of their own), PROVE-comparable columns for
removal, and the layers and alpha for layering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from genbench.benchmark.metrics import PROTOCOL_VERSION
from genbench.benchmark.regions import ordered
from genbench.benchmark.results import (
    HEADLINE_LABEL,
    HEADLINES,
    Column,
    alpha_columns,
    fmt,
    headline_column,
    kind_regions,
    layer_summaries,
    prove_columns,
    region_columns,
)
from genbench.leaderboard.store import Entry

FULL_PSNR = Column("full PSNR ↑", ("regions", "full", "psnr"), "psnr")
# What each older protocol did that the current one does not (shown with its groups).
PROTOCOL_CHANGES = {
    1: "region SSIM and LPIPS leaked across regions, and PSNR was a mean of per-frame values",
}
RESUBMIT = "genbench leaderboard submit PRED --method NAME"


@dataclass(frozen=True)
class Table:
    """One table of a group: `name` (its id suffix on the site), a caption and its columns (read from
    each entry's summary). `brief`: also printed by `show` (the site shows every table)."""

    name: str
    caption: str
    columns: list[Column]
    brief: bool = True


def value(entry: Entry, column: Column) -> float | None:
    """The entry's finite value in `column`, else None."""
    v = column.value(entry.summary)
    return None if v is None or not math.isfinite(v) else float(v)


def score(entry: Entry, region: str, metric: str, key: str = "regions") -> float | None:
    return value(entry, Column("", (key, region, metric), metric))


def ranked(entries: list[Entry], column: Column | None = None) -> list[Entry]:
    """Best first by `column` (default: the headline); entries without a value last, ties by submission time."""
    column = column or headline_column()
    sign = -1.0 if column.higher_is_better else 1.0

    def key(e: Entry) -> tuple:
        v = value(e, column)
        return (v is None, sign * v if v is not None else 0.0, e.submitted)

    return sorted(entries, key=key)


def _layer_columns(summaries: list[dict[str, Any]]) -> list[Column]:
    """The layers' region columns (effect kinds included) and alpha, as paths into the method summary."""
    layers = layer_summaries([s for s in summaries if "layers" in s])
    regions = ordered({r for s in layers for r in s.get("regions", {})})
    return [Column(c.header, ("layers", *c.path), c.metric) for c in region_columns(layers, regions=regions)] + \
        alpha_columns()


@dataclass
class Group:
    task: str
    dataset: dict[str, Any]  # name, generator, split, sha256, items
    version: int  # the benchmark protocol version its entries were scored under
    entries: list[Entry]

    @property
    def current(self) -> bool:
        return self.version == PROTOCOL_VERSION

    @property
    def key(self) -> str:
        d = self.dataset
        return f"{self.task}-{d['name']}-{d['split']}-{d['sha256'][:8]}-v{self.version}"

    @property
    def title(self) -> str:
        d = self.dataset
        title = (f"{self.task}: {d['name']} split {d['split']} ({d['items']} items, sha256 {d['sha256'][:12]}), "
                 f"protocol v{self.version}")
        return title if self.current else f"{title}, not comparable with v{PROTOCOL_VERSION}"

    @property
    def has_headline(self) -> bool:
        return self.version >= 2

    @property
    def rank_column(self) -> Column:
        """What the group is ranked by: the headline, or full-frame PSNR under protocol v1 (which has none)."""
        return headline_column() if self.has_headline else FULL_PSNR

    @property
    def ranking(self) -> str:
        if self.has_headline:
            return f"ranked by {HEADLINE_LABEL}: {HEADLINES.get(self.task, 'the headline')}"
        return f"ranked by full-frame PSNR (higher is better; protocol v{self.version} has no headline)"

    @property
    def notice(self) -> str:
        """Why an older (or newer) protocol's group stands apart and how to move an entry to the current one;
        empty for a current group."""
        if self.current:
            return ""
        if self.version > PROTOCOL_VERSION:
            return (f"Scored under protocol v{self.version}, newer than this genbench's v{PROTOCOL_VERSION}: "
                    f"not comparable with v{PROTOCOL_VERSION} numbers. Update genbench to rank it with them.")
        change = PROTOCOL_CHANGES.get(self.version)
        return (f"Scored under protocol v{self.version}"
                + (f" ({change})" if change else "")
                + f": these numbers are not comparable with protocol v{PROTOCOL_VERSION} numbers, so they are "
                f"shown apart and {self.ranking}. The board stores scores, not predictions, so it cannot "
                f"re-score them: to rank a method under v{PROTOCOL_VERSION}, resubmit the same predictions with "
                f"`{RESUBMIT}` (same --task, --split and dataset).")

    def ranked(self) -> list[Entry]:
        return ranked(self.entries, self.rank_column)

    def regions(self) -> list[str]:
        """The regions (effect kinds last) any entry has scores for."""
        return ordered({r for e in self.entries for r in e.summary.get("regions", {})})

    def tables(self) -> list[Table]:
        """The group's tables, each led by the headline (current protocol) so they all rank alike."""
        sums = [e.summary for e in self.entries]
        lead = [headline_column()] if self.has_headline else []
        what = "output vs target" if self.task == "removal" else "background vs bg"
        out = [Table("regions", f"{what}, clip-weighted", [*lead, *region_columns(sums)])]
        kinds = kind_regions(sums)
        if kinds:
            out.append(Table("kinds", f"{what} by effect kind, clip-weighted",
                             [*lead, *region_columns(sums, regions=kinds)]))
        fw = [headline_column("frame_weighted")] if self.has_headline else []
        fw_regions = ordered({r for s in sums for r in s.get("frame_weighted", {})})
        out.append(Table("frame-weighted", f"{what}, frame-weighted (mean over all frames)",
                         [*lead, *fw, *region_columns(sums, "frame_weighted", regions=fw_regions)], brief=False))
        if self.task == "removal" and any("prove" in s for s in sums):
            out.append(Table("prove", "PROVE-comparable (whole frame, first 81 frames, mean over frames then clips; "
                                      "RC-S/RC-T where computed)", [*lead, *prove_columns()]))
        if self.task == "layering":
            out.append(Table("layers", "each layer over the GT background vs solo_<k>, clip-weighted; alpha vs GT",
                             [*lead, *_layer_columns(sums)]))
        return [t for t in out if t.columns]


def groups(entries: list[Entry]) -> list[Group]:
    """Entries grouped by (task, dataset name, split, sha256, protocol version): the current protocol's groups
    first, then older (or newer) protocols', newest first."""
    out: dict[tuple, Group] = {}
    for e in entries:
        d, v = e.dataset, e.protocol_version
        k = (e.task, d["name"], d["split"], d["sha256"], v)
        out.setdefault(k, Group(e.task, d, v, [])).entries.append(e)
    return [out[k] for k in sorted(out, key=lambda k: (k[4] != PROTOCOL_VERSION, -k[4], k[:4]))]


def _markdown(table: Table, entries: list[Entry], people: bool) -> list[str]:
    head = ["#", "method"] + [c.header for c in table.columns]
    head += ["extra data", "authors", "submitted"] if people else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rank, e in enumerate(entries, 1):
        cells = [str(rank), e.method] + [fmt(value(e, c), c.metric) for c in table.columns]
        cells += ["yes" if e.extra_data else "no", e.authors or "–", e.submitted[:10]] if people else []
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines


def show_text(entries: list[Entry]) -> str:
    """Markdown tables per group, ranked: the headline and clip-weighted PSNR/SSIM/LPIPS per region with who
    and when, then the effect kinds, PROVE-comparable scores (removal) or layers and alpha (layering). Groups
    of another protocol follow under a heading of their own, each with its notice."""
    if not entries:
        return "the board is empty: add an entry with `genbench leaderboard submit PRED --method NAME`"
    lines: list[str] = []
    apart = False
    for g in groups(entries):
        if not g.current and not apart:
            apart = True
            lines += [f"# Scored under another protocol: not comparable with protocol v{PROTOCOL_VERSION}", ""]
        lines += [f"## {g.title}", ""]
        if g.notice:
            lines += [f"> {g.notice}", ""]
        order = g.ranked()
        for n, table in enumerate(t for t in g.tables() if t.brief):
            caption = table.caption if n or g.notice else f"{table.caption}; {g.ranking}"
            lines += [f"### {caption}", "", *_markdown(table, order, people=n == 0), ""]
    return "\n".join(lines).rstrip()
