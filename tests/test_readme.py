"""Every command the README shows runs (a renamed option or file cannot ship), and what it says of its tables holds."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.readme_tables import readme_rows

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_readme_has_the_two_commands() -> None:
    commands = readme_commands()
    assert "make demo" in commands and "make test" in commands


def test_every_genbench_command_in_the_readme_runs(tmp_path: Path) -> None:
    # `make demo` is `genbench demo`, run first because later commands read its outputs;
    # `make test` would run this suite recursively and is exercised by CI itself.
    commands = ["genbench demo"] + [c for c in readme_commands() if c.startswith("genbench ")]
    for command in commands:
        argv = shlex.split(command)
        result = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, f"README command failed: {command}\n{result.stdout}\n{result.stderr}"


TRIPOD_TABLE_COLUMNS = {"object_iou": "object IoU", "shadow_recall": "shadow recall", "bg_uncertain": "bg uncertain",
                        "bg_remove": "bg remove"}


def test_the_readme_tripod_goal_line_matches_its_table() -> None:
    """The README states the middle level's goals as perf/tripod.py checks them on the table's middle row."""
    spec = importlib.util.spec_from_file_location("perf_tripod", REPO / "perf" / "tripod.py")
    perf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(perf)
    row = readme_rows("Tripod masks on degraded footage with known ground truth")["middle"]
    figures = {k: float(row[c].rstrip("%")) / (100 if row[c].endswith("%") else 1)
               for k, c in TRIPOD_TABLE_COLUMNS.items()}
    readme = " ".join((REPO / "README.md").read_text().split())
    assert perf.goal_check(figures) in readme, perf.goal_check(figures)


def test_the_readme_demo_listing_is_what_the_demo_runs() -> None:
    """Each `[n] $ genbench ...` line of the README's demo listing is step n's command (abridged with '...')."""
    from genbench.commands.demo import demo_steps

    steps = [shlex.join(argv) for argv in demo_steps(Path("genbench-demo"))]
    listed = re.findall(r"^\[(\d+)\] \$ genbench (.*)$", (REPO / "README.md").read_text(), flags=re.M)
    assert [int(n) for n, _ in listed] == list(range(1, len(steps) + 1))
    for (number, line), command in zip(listed, steps, strict=True):
        at = 0
        for piece in (p.strip() for p in line.split("...") if p.strip()):
            found = command.find(piece, at)
            assert found >= 0, f"README demo step {number}: {piece!r} is not in `genbench {command}`"
            at = found + len(piece)
