"""Omnimatte layer speed and quality: seconds per layer at 128x128 x 16 frames on the CPU, from GT bg/solo.

    .venv/bin/python perf/omnimatte.py [--scenes 3] [--threads 1] [--steps N] [--cache DIR]

Renders `--scenes` Kubric scenes once (128x128, 16 frames, 32 spp, two target objects each, seed 0;
cached under $GENBENCH_CACHE, default ~/.cache/genbench), then fits the layers of each scene from its
ground-truth bg and solo videos and prints, per layer: seconds per layer (the whole `fit_layers` call
divided by the scene's layers, torch's one-time imports excluded by a warm-up), the recomposition PSNR
(layer over GT bg vs solo_<k>) and the soft alpha IoU against the GT layer (the benchmark's metric).
Also printed: the same with mask supervision off. Goal: <= 60 s per layer and >= 35 dB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

GOAL_SECONDS, GOAL_PSNR = 60.0, 35.0
RENDER = ["--resolution", "128", "--frames", "16", "--samples", "32", "--targets", "2", "--seed", "0"]


def _data(cache: Path, scenes: int) -> Path:
    from genbench.cli import run as genbench

    out = cache / "perf-omnimatte-128x16"
    if genbench(["render", "--scenes", str(scenes), "--out", str(out), *RENDER]) != 0:
        sys.exit("render failed")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--cache", default=os.environ.get("GENBENCH_CACHE", "~/.cache/genbench"))
    args = parser.parse_args()

    from genbench.benchmark.harness import alpha_scores
    from genbench.frames import read_video
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.optimise import fit_layers
    from genbench.models.omnimatte.sources import from_scene
    from genbench.pixels import over, psnr
    from genbench.scene import list_scene_ids, scene_dir

    root = _data(Path(args.cache).expanduser(), args.scenes)
    base = replace(OmnimatteConfig(threads=args.threads), **({"steps": args.steps} if args.steps else {}))
    variants = {"default": base, "no mask supervision": replace(base, weight_mask=0.0)}
    fit_layers(np.zeros((1, 8, 8, 3), np.uint8), {1: np.zeros((1, 8, 8, 3), np.uint8)},
               {1: np.zeros((1, 8, 8), bool)}, replace(base, steps=1))  # warm-up: torch's one-time imports
    print(f"{os.cpu_count()} CPU cores, torch threads {args.threads}, load average {os.getloadavg()[0]:.1f}; "
          f"{base.steps} steps ({base.coarse_steps} at 1/{base.coarse_factor} resolution)")
    print("| variant | scene | layer | s/layer | recompose PSNR | alpha IoU | alpha L1 |")
    print("|---|---|---|---|---|---|---|")
    summary: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
    for sid in list_scene_ids(root)[:args.scenes]:
        inputs = from_scene(scene_dir(root, sid), "gt")
        for name, config in variants.items():
            t0 = time.perf_counter()
            fit = fit_layers(inputs.bg, inputs.solos, inputs.masks, config)
            per_layer = (time.perf_counter() - t0) / len(fit.layers)
            for k, layer in fit.layers.items():
                truth = read_video(scene_dir(root, sid) / "layers" / str(k))
                scores = alpha_scores(layer[..., 3], truth[..., 3])
                value = psnr(over(layer, inputs.bg), inputs.solos[k])
                iou = float(np.nanmean(scores["iou"]))
                summary[name].append((per_layer, value, iou))
                print(f"| {name} | {sid} | {k} | {per_layer:.1f} | {value:.2f} | {iou:.3f} | "
                      f"{float(np.mean(scores['l1'])):.4f} |", flush=True)
    for name, rows in summary.items():
        seconds, values, ious = (np.array(c) for c in zip(*rows, strict=True))
        ok = seconds.max() <= GOAL_SECONDS and values.min() >= GOAL_PSNR
        print(f"{name}: {seconds.mean():.1f} s per layer (max {seconds.max():.1f}), recomposition PSNR min "
              f"{values.min():.2f} dB, alpha IoU mean {ious.mean():.3f} -> goal (<= {GOAL_SECONDS:.0f} s, >= "
              f"{GOAL_PSNR:.0f} dB) {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
