"""Casper speed: training steps/s and inference seconds per frame, per config.

    .venv/bin/python perf/casper.py [--configs tiny,small] [--steps 10] [--resolution 64] [--frames 16]
                                    [--threads 2] [--device cpu]

Makes a toy dataset in a temporary folder, then per config, in one process:

- training: `Trainer.train_step` (batch, augmentation, forward, backward, AdamW, EMA) at the config's
  batch size, window and crop; 2 warm-up steps, then `--steps` timed;
- inference: `CasperPipeline` (the config's DDIM steps, sliding windows, padding, preserve copy) on
  one clip of `--frames` frames at `--resolution`; one warm-up call, then the best of 3.

Prints a Markdown table. Weights are untrained: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np


def _toy(root: Path, resolution: int, frames: int) -> Path:
    from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
    from genbench.runner import run_generation

    settings = ToySettings(seed=3, resolution=resolution, frames=frames, max_objects=2, val_fraction=0.0)
    run_generation(root, name="perf", generator=GENERATOR, settings=asdict(settings), count=4,
                   make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i))
    return root


def measure(config: str, data: Path, out: Path, steps: int, device: str) -> dict[str, float]:
    import torch

    from genbench.models.casper.pipeline import CasperPipeline
    from genbench.models.casper.train import Trainer, TrainSettings
    from genbench.samples import load_removal, removal_samples

    trainer = Trainer(TrainSettings(data=[data], out=out / config, config=config, steps=steps + 2, device=device,
                                    log_every=0))
    for _ in range(2):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    train_s = (time.perf_counter() - t0) / steps
    item = load_removal(data, removal_samples(data, "train")[0], None, target=False)
    pipe = CasperPipeline(trainer.model.eval())
    pipe(item.frames, item.trimask)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        pipe(item.frames, item.trimask)
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    c = trainer.config
    return {"config": config, "params_M": sum(p.numel() for p in trainer.model.parameters()) / 1e6,
            "batch": trainer.batch_size, "window": f"{c.frames}x{c.crop}x{c.crop}", "train_steps_per_s": 1 / train_s,
            "train_clips_per_s": trainer.batch_size / train_s, "infer_s_per_frame": best / len(item.frames),
            "ddim_steps": c.sample_steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="tiny,small")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per config")
    parser.add_argument("--resolution", type=int, default=64, help="inference frame size")
    parser.add_argument("--frames", type=int, default=16, help="inference clip length (2+ windows of 8)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = _toy(Path(tmp) / "toy", args.resolution, args.frames)
        rows = [measure(c, data, Path(tmp) / "runs", args.steps, args.device) for c in args.configs.split(",")]
    print(f"device {args.device}, {args.threads} threads, inference on {args.frames} frames of "
          f"{args.resolution}x{args.resolution}")
    print("| config | params (M) | batch | train window | train steps/s | train clips/s | DDIM steps | "
          "inference s/frame |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | {r['params_M']:.2f} | {r['batch']} | {r['window']} | {r['train_steps_per_s']:.2f} | "
              f"{r['train_clips_per_s']:.2f} | {r['ddim_steps']} | {r['infer_s_per_frame']:.3f} |")


if __name__ == "__main__":
    main()
