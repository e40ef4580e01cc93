"""`genbench demo`: run what genbench can do now, on a small built-in default.

Each issue that lands adds its step here (render -> eval of baselines -> Casper ->
layers -> leaderboard page). Steps not built yet are listed as such, never faked.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.commands import BY_NAME
from genbench.dataset import read_manifest
from genbench.preview import strip, write_gif
from genbench.scene import read_scene
from genbench.trimask import trimask


def run(args: argparse.Namespace) -> int:
    from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
    from genbench.runner import run_generation
    from genbench.validate import validate_dataset

    out = Path(args.out)
    data = out / "toy"
    settings = ToySettings(seed=0, resolution=64, frames=8)
    print("genbench demo: what exists today, on a small built-in default")
    print("[1] toy generator (numpy composites, NOT renders; exact pairs by construction)")
    t0 = time.perf_counter()
    summary = run_generation(
        data, name="genbench-demo-toy", generator=GENERATOR, settings=asdict(settings), count=6,
        make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i),
    )
    print(f"    {len(summary.written)} scenes written, {len(summary.skipped)} already there -> {data} "
          f"({time.perf_counter() - t0:.1f} s)")

    t0 = time.perf_counter()
    report = validate_dataset(data)
    print(f"[2] genbench validate {data}: {'valid' if report.ok else 'INVALID'}; {report.scenes} scenes, "
          f"{report.samples} samples, {report.frames} frames ({time.perf_counter() - t0:.1f} s)")
    for problem in report.problems:
        print(f"    {problem}")

    samples = read_manifest(data)
    sample = next(s for s in samples if len(s.remove) == 1)
    scene = read_scene(data, sample.scene_id)
    tri = trimask(scene.visible, sample.remove, sample.trimask_spec)
    frames = strip([scene.rgb[contract.FULL], scene.rgb[sample.target], tri, scene.rgb[contract.BG]],
                   ["full", sample.target, "trimask", "bg"])
    preview = write_gif(out / "preview.gif", frames)
    values = ", ".join(f"{v}: {np.mean(tri == v):.0%}" for v in contract.TRIMASK_VALUES)
    print(f"[3] trimask of sample {sample.sample_id} (0 remove / 128 uncertain / 255 preserve): {values}")
    print(f"    preview full | target | trimask | bg -> {preview}")

    t0 = time.perf_counter()
    from genbench.commands.paste import run as paste

    paste_out = out / "paste"
    print("[4] genbench paste: toy objects (with their layers' shadows) pasted onto toy backgrounds, --shadow")
    paste(argparse.Namespace(source=str(data), targets=str(data), count=4, out=str(paste_out), seed=0, shadow=True,
                             frames=8, max_size=None, workers=1))
    paste_report = validate_dataset(paste_out)
    print(f"    genbench validate {paste_out}: {'valid' if paste_report.ok else 'INVALID'} "
          f"({time.perf_counter() - t0:.1f} s)")

    pending = sorted({BY_NAME[n].issue for n in ("render", "eval", "train", "decompose", "leaderboard")
                      if BY_NAME[n].target is None})
    print("not built yet (each adds its step here when it lands):")
    for issue in pending:
        print(f"    - {issue}")
    return 0 if report.ok and paste_report.ok else 1
