"""`genbench demo`: run the main job end to end on a small built-in default.

Every step is a real `genbench` command, printed as a user would type it and run in this
process: render -> validate -> eval of the baselines -> paste -> validate -> verify the shipped
benchmark split -> eval of Casper on it -> leaderboard submit and site -> omnimatte layers of
a rendered scene -> an edit.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

from genbench.errors import GenbenchError


def demo_steps(out: Path) -> list[list[str]]:
    """The commands the demo runs, in order (also what the README shows)."""
    render, paste, mini = str(out / "render"), str(out / "paste"), out / "eval-mini"
    layers = str(out / "layers" / "kubric-s0-000000")
    return [
        ["render", "--scenes", "2", "--out", render, "--resolution", "64", "--frames", "8", "--samples", "8"],
        ["validate", render],
        ["eval", "--method", "identity,cv2-inpaint,median,flow-propagation", "--data", render, "--out",
         str(out / "eval")],
        ["paste", "--source", render, "--targets", render, "--count", "2", "--out", paste, "--frames", "8",
         "--shadow"],
        ["validate", paste],
        ["benchmark", "verify"],
        ["eval", "--method", "cv2-inpaint,casper", "--workers", "2", "--out", str(mini)],
        ["leaderboard", "submit", str(mini / "predictions" / "casper"), "--method", "casper",
         "--board", str(out / "board")],
        ["leaderboard", "build", "--board", str(out / "board"), "--out", str(out / "site")],
        ["decompose", f"{render}/scenes/kubric-s0-000000", "--method", "gt", "--out", layers, "--steps", "50"],
        ["edit", layers, "--remove", "1", "--out", str(out / "edit-remove")],
    ]


def run(args: argparse.Namespace) -> int:
    from genbench.cli import run as genbench

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise GenbenchError(f"{out} is a file; --out must be a folder")
    print(f"genbench demo -> {out} (reruns skip what is already made)", flush=True)
    for number, argv in enumerate(demo_steps(out), start=1):
        print(f"\n[{number}] $ genbench {shlex.join(argv)}", flush=True)
        start = time.perf_counter()
        code = genbench(argv)
        print(f"    ({time.perf_counter() - start:.1f} s)", flush=True)
        if code != 0:
            print(f"demo step {number} failed with exit code {code}")
            return code
    print(f"\nlook at: {out / 'render' / 'scenes'}/*/preview.gif, {out / 'eval-mini' / 'report.html'}, "
          f"{out / 'site' / 'index.html'} and {out / 'edit-remove'}/preview.gif")
    return 0
