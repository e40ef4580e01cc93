"""Tripod masks on degraded footage with known ground truth: one table row per degradation level.

    .venv/bin/python perf/tripod.py [--scenes 6] [--resolution 128] [--frames 24] [--plate-frames 16]
                                    [--levels clean,light,middle,heavy] [--codec h264|h265] [--data DIR]

Each scene is played as a tripod capture (`plate_frames` empty frames, the scene, empty frames
again), degraded at each level of `genbench.generators.tripod.degrade.LEVELS` (sensor noise,
H.264/H.265 at a bitrate, exposure and white-balance flicker, sub-pixel jitter, a rolling light
change), analysed by the tripod pipeline with its default settings, and scored against the truth
(`genbench.generators.tripod.accuracy`). Scenes are toy scenes (seed 0, 1-2 objects with drop
shadows) on a textured ground, or with `--data` the static-camera scenes of a genbench dataset
(a `genbench render`; effects are its effect masks, or where `full` and `bg` differ by more than
its effect tolerance when it records none). Figures are means over scenes; windows are summed.
A clip the pipeline rejects as a whole (e.g. "camera moved") yields no pair: it is counted
and its reason printed, and the figures are over the other clips. The goals at the middle level
are printed under the table.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

GOALS = {"object_iou": (">=", 0.85), "shadow_recall": (">=", 0.8), "bg_uncertain": ("<=", 0.01),
         "bg_remove": ("<=", 0.001)}
TEXTURE = 0.12


def toy_truths(count: int, resolution: int, frames: int, plate_frames: int, seed: int) -> list:
    from genbench.generators.toy import ToySettings, make_toy_scene
    from genbench.generators.tripod.degrade import add_texture, truth_from_scene

    settings = ToySettings(seed=seed, resolution=resolution, frames=frames, max_objects=2, val_fraction=0.0)
    truths = []
    for i in range(count):
        truth = truth_from_scene(make_toy_scene(settings, i), plate_frames)
        rng = np.random.default_rng(np.random.SeedSequence((seed, i, 1)))
        truths.append(add_texture(truth, TEXTURE, rng=rng))
    return truths


def dataset_truths(root: Path, count: int, plate_frames: int) -> list:
    from genbench import contract
    from genbench.generators.tripod.degrade import truth_from_scene
    from genbench.scene import list_scene_ids, read_meta, read_scene

    truths = []
    for sid in list_scene_ids(root):
        meta = read_meta(root, sid)
        if meta.spec.get("camera", {}).get("motion") == "static" and contract.BG in meta.videos:
            truths.append(truth_from_scene(read_scene(root, sid), plate_frames))
        if len(truths) == count:
            break
    if not truths:
        raise SystemExit(f"{root}: no static-camera scene with a clean plate (bg)")
    return truths


def run_level(truths: list, level_name: str, codec: str, seed: int) -> dict:
    """Figures of one level: means over the clips the pipeline accepted as tripod footage (a rejected clip, e.g.
    "camera moved", yields no pair and no figures: it is counted, with its reason)."""
    from genbench.generators.tripod.accuracy import FIGURES, score
    from genbench.generators.tripod.degrade import LEVELS, degrade
    from genbench.generators.tripod.make import analyse_frames
    from genbench.generators.tripod.settings import TripodSettings

    level = LEVELS[level_name]
    if level.codec is not None:
        level = replace(level, codec=codec)
    settings = TripodSettings()
    rows, reasons, seconds = [], [], 0.0
    for i, truth in enumerate(truths):
        rng = np.random.default_rng(np.random.SeedSequence((seed, i, list(LEVELS).index(level_name))))
        footage = degrade(truth, level, rng=rng)
        start = time.perf_counter()
        analysis = analyse_frames(footage.frames, f"scene{i}", settings)
        seconds += time.perf_counter() - start
        if analysis.rejection:
            reasons.append(f"scene {i}: {analysis.rejection}")
        else:
            rows.append(score(analysis, footage.truth, settings))
    out: dict = {k: float(np.nanmean([r[k] for r in rows])) if rows else float("nan") for k in FIGURES}
    out["windows"] = sum(r["windows"] for r in rows)
    out["false_windows"] = sum(r["false_windows"] for r in rows)
    out["rejected"] = reasons
    out["seconds_per_clip"] = seconds / len(truths)
    return out


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| level | plate MAE | plate PSNR | object IoU | shadow recall | shadow precision | bg uncertain | "
             "bg remove | windows (false) | clips rejected | s/clip |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['plate_mae']:.2f} | {r['plate_psnr']:.1f} | {r['object_iou']:.3f} | "
                     f"{r['shadow_recall']:.3f} | {r['shadow_precision']:.3f} | {r['bg_uncertain']:.2%} | "
                     f"{r['bg_remove']:.3%} | {r['windows']:.0f} ({r['false_windows']:.0f}) | {len(r['rejected'])} | "
                     f"{r['seconds_per_clip']:.1f} |")
    return "\n".join(lines)


def goal_check(figures: dict[str, float]) -> str:
    """One line: each goal of `GOALS` and whether `figures` (a level's figures) meet it."""
    met = [f"{k} {op} {v}: {'met' if (figures[k] >= v if op == '>=' else figures[k] <= v) else 'NOT met'}"
           for k, (op, v) in GOALS.items()]
    return "; ".join(met)


def main(argv: list[str] | None = None) -> int:
    from genbench.generators.tripod.degrade import LEVELS, available_codecs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--resolution", type=int, default=128, help="toy scenes: side in pixels (even)")
    parser.add_argument("--frames", type=int, default=24, help="toy scenes: frames with the objects")
    parser.add_argument("--plate-frames", type=int, default=16, help="empty frames before and after")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--codec", default="h264", choices=["h264", "h265"])
    parser.add_argument("--data", type=Path, help="a genbench dataset with static-camera scenes instead of toys")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.codec not in available_codecs():
        raise SystemExit(f"the bundled ffmpeg cannot encode {args.codec}")
    if args.data:
        truths = dataset_truths(args.data, args.scenes, args.plate_frames)
        source = f"{len(truths)} static-camera scenes of {args.data}"
    else:
        truths = toy_truths(args.scenes, args.resolution, args.frames, args.plate_frames, args.seed)
        source = f"{len(truths)} toy scenes (seed {args.seed}) on a textured ground"
    n, h, w = truths[0].objects.shape
    print(f"{source}, {h}x{w} x {n} frames ({args.plate_frames} empty before and after), codec {args.codec}")
    results = {name: run_level(truths, name, args.codec, args.seed) for name in args.levels.split(",")}
    print(table(results))
    for name, r in results.items():
        for reason in r["rejected"]:
            print(f"{name}: rejected {reason}")
    if "middle" in results:
        print("goals at the middle level: " + goal_check(results["middle"]))
    print("levels:", {k: asdict(replace(v, codec=args.codec) if v.codec else v) for k, v in LEVELS.items()
                      if k in results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
