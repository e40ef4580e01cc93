"""Omnimatte layer speed and quality at 128x128 x 16 frames on the CPU, from GT bg/solo degraded in steps.

    .venv/bin/python perf/omnimatte.py [--scenes 3] [--threads 1] [--steps N] [--levels exact,...] [--cache DIR]

Renders `--scenes` Kubric scenes once (128x128, 16 frames, 32 spp, every object a layer, seed 0; cached
under $GENBENCH_CACHE, default ~/.cache/genbench). Every object gets its solo video, so the input is the
bg plus the layers, as in the benchmark's layering scenes (with `--targets` fewer, the others are in the
input video and in no layer, yet absent from the ground-truth bg). Then, per degradation level
(`genbench.models.omnimatte.degrade.LEVELS`: exact, Gaussian noise 1, 3 and 6 levels, noise plus a 2%
colour shift; bg and each solo video damaged independently, seeded) it fits the layers of each scene from
the degraded bg and solos (the input video itself stays exact: it is the one thing a user has) and
prints, per level, the soft alpha IoU against the GT layer (the benchmark's metric) of `mask-alpha` (the
object mask as alpha), of the starting estimate (`evidence`, what the fit starts from) and of the fit;
each fitted layer over the *true* bg against the true solo_<k> (PSNR, dB); and seconds per layer (the
whole `fit_layers` call divided by the scene's layers, torch's one-time imports excluded by a warm-up).
Goals: <= 60 s per layer; the fit's IoU above the starting estimate's at every noisy level.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

GOAL_SECONDS = 60.0
RENDER = ["--resolution", "128", "--frames", "16", "--samples", "32", "--seed", "0"]


def _data(cache: Path, scenes: int) -> Path:
    from genbench.cli import run as genbench

    out = cache / "perf-omnimatte-128x16-every-object"
    if genbench(["render", "--scenes", str(scenes), "--out", str(out), *RENDER]) != 0:
        sys.exit("render failed")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--levels", help="comma-separated level names (default: all)")
    parser.add_argument("--cache", default=os.environ.get("GENBENCH_CACHE", "~/.cache/genbench"))
    args = parser.parse_args()

    from genbench.benchmark.harness import mean_alpha_iou as _iou
    from genbench.frames import read_video
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.degrade import LEVELS, degrade_inputs
    from genbench.models.omnimatte.evidence import gather
    from genbench.models.omnimatte.optimise import fit_layers, starting_layers
    from genbench.models.omnimatte.sources import from_scene
    from genbench.pixels import over, psnr
    from genbench.scene import list_scene_ids, scene_dir

    levels = LEVELS
    if args.levels:
        wanted = [n.strip() for n in args.levels.split(",")]
        unknown = sorted(set(wanted) - {lv.name for lv in LEVELS})
        if unknown:
            sys.exit(f"unknown level(s) {', '.join(unknown)}; use {', '.join(lv.name for lv in LEVELS)}")
        levels = tuple(lv for lv in LEVELS if lv.name in wanted)
    root = _data(Path(args.cache).expanduser(), args.scenes)
    config = replace(OmnimatteConfig(threads=args.threads), **({"steps": args.steps} if args.steps else {}))
    fit_layers(np.zeros((1, 8, 8, 3), np.uint8), {1: np.zeros((1, 8, 8, 3), np.uint8)},
               {1: np.zeros((1, 8, 8), bool)}, replace(config, steps=1))  # warm-up: torch's one-time imports
    print(f"{os.cpu_count()} CPU cores, torch threads {args.threads}, load average {os.getloadavg()[0]:.1f}; "
          f"{config.steps} steps ({config.coarse_steps} at 1/{config.coarse_factor} resolution)")
    print("| level | mask-alpha IoU | start IoU | fit IoU | fit - start | layer/true bg PSNR | s/layer |")
    print("|---|---|---|---|---|---|---|")
    scenes = []
    for sid in list_scene_ids(root)[:args.scenes]:
        inputs = from_scene(scene_dir(root, sid), "gt")
        truth = {k: read_video(scene_dir(root, sid) / "layers" / str(k))[..., 3] for k in inputs.solos}
        scenes.append((inputs, truth))
    worst = 0.0
    for level in levels:
        rows = []
        for n, (inputs, truth) in enumerate(scenes):
            bg, solos = degrade_inputs(inputs.bg, inputs.solos, level, seed=1000 * n)
            evidence = gather(bg, solos, inputs.masks, inputs.frames, **config.evidence_settings())
            start = starting_layers(evidence, solos)
            t0 = time.perf_counter()
            fit = fit_layers(bg, solos, inputs.masks, config, frames=inputs.frames)
            per_layer = (time.perf_counter() - t0) / len(fit.layers)
            worst = max(worst, per_layer)
            for k, layer in fit.layers.items():
                rows.append((_iou(inputs.masks[k].astype(np.uint8) * 255, truth[k]), _iou(start[k][..., 3], truth[k]),
                             _iou(layer[..., 3], truth[k]), psnr(over(layer, inputs.bg), inputs.solos[k]), per_layer))
        mask_iou, start_iou, fit_iou, value, seconds = (np.array(c) for c in zip(*rows, strict=True))
        print(f"| {level.name} | {mask_iou.mean():.3f} | {start_iou.mean():.3f} | {fit_iou.mean():.3f} | "
              f"{fit_iou.mean() - start_iou.mean():+.3f} | {value.mean():.2f} | {seconds.mean():.1f} |", flush=True)
    print(f"slowest fit: {worst:.1f} s per layer -> goal (<= {GOAL_SECONDS:.0f} s) "
          f"{'met' if worst <= GOAL_SECONDS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
