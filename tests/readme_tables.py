"""The README's (and docs') Markdown tables, read back for tests that check them against what produced them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows(title: str, document: Path = README) -> dict[str, dict[str, str]]:
    """The first Markdown table after the line of `document` (default: the README) that starts with `title`:
    first cell -> {header: cell}, bold marks stripped."""
    lines = document.read_text().splitlines()
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


def row_mismatches(row: dict[str, str], summary: dict) -> list[str]:
    """The cells of a README results row that are not `summary` (a results.json method entry) as printed:
    the headline to 4 digits, each `<region> <METRIC>` column (`effect:<kind>` included) to 2 (PSNR) or 4 digits."""
    wrong = []
    if "score ↓" in row and abs(float(row["score ↓"]) - summary["headline"]) > 5e-5:
        wrong.append(f"score {row['score ↓']} vs {summary['headline']:.6f}")
    for header, cell in row.items():
        match = re.match(r"(full|object|effect|preserve|effect:[a-z_]+) (PSNR|SSIM|LPIPS)", header)
        if match:
            value = summary["regions"][match.group(1)][match.group(2).lower()]
            digits = 2 if match.group(2) == "PSNR" else 4
            if abs(float(cell) - value) > 0.51 * 10 ** -digits:
                wrong.append(f"{header} {cell} vs {value:.6f}")
    return wrong
