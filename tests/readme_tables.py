"""The README's Markdown tables, read back for tests that check them against what produced them."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows(title: str) -> dict[str, dict[str, str]]:
    """The first Markdown table after the README line that starts with `title`: first cell -> {header: cell},
    bold marks stripped."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in lines[start + 1:]:
        if line.startswith("|"):
            cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
            if header is None:
                header = cells
            elif not set(cells[0]) <= {"-"}:
                rows[cells[0]] = dict(zip(header, cells, strict=True))
        elif rows:
            break
    return rows
