"""Casper speed: training steps/s and inference seconds per frame, per config.

    .venv/bin/python perf/casper.py [--configs tiny,small] [--steps 10] [--resolution 64] [--frames 16]
                                    [--threads 2] [--device cpu]

Makes a toy dataset in a temporary folder, then per config, in one process:

- training: `Trainer.train_step` (batch, augmentation, forward, backward, AdamW, EMA) at the config's
  batch size, window and crop; 2 warm-up steps, then `--steps` timed;
- inference: `CasperPipeline` (the config's DDIM steps, sliding windows, padding, preserve copy) on
  one clip of `--frames` frames at `--resolution`, one view of it (the config's `views` N take N times as
  long); one warm-up call, then the best of 3.

Prints a Markdown table. Weights are untrained: speed does not depend on them.

`--profile` asks where a training step's time goes instead: per config, `--steps` steps under
`torch.profiler` (CPU, and the GPU's kernels on a GPU), then the step's own wall time against the batch
building alone (`data.make_batch` with the step's arguments, timed on its own) and the top operators by their
own time, each as a share of the profiled steps' total. `--batch-size` and `--crop` set the step's shape (e.g.
`--configs small --batch-size 32 --crop 64 --device cuda`, the GPU runs in docs/casper.md).
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


def measure(config: str, data: Path, out: Path, steps: int, device: str, batch_size: int | None = None,
            crop: int | None = None) -> dict[str, float]:
    from genbench.models.casper.pipeline import CasperPipeline
    from genbench.samples import load_removal, removal_samples

    trainer = _trainer(config, data, out, steps, device, batch_size, crop)
    for _ in range(2):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    train_s = (time.perf_counter() - t0) / steps
    item = load_removal(data, removal_samples(data, "train")[0], None, target=False)
    pipe = CasperPipeline(trainer.model.eval(), views=1)  # per view: `views` N takes N times as long
    pipe(item.frames, item.trimask)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        pipe(item.frames, item.trimask)
        _sync(trainer.device)
        best = min(best, time.perf_counter() - t0)
    c = trainer.config
    return {"config": config, "params_M": sum(p.numel() for p in trainer.model.parameters()) / 1e6,
            "batch": trainer.batch_size, "window": f"{c.frames}x{c.crop}x{c.crop}", "train_steps_per_s": 1 / train_s,
            "train_clips_per_s": trainer.batch_size / train_s, "infer_s_per_frame": best / len(item.frames),
            "ddim_steps": c.sample_steps}


def _trainer(config: str, data: Path, out: Path, steps: int, device: str, batch_size: int | None,
             crop: int | None):
    from dataclasses import replace

    from genbench.models.casper.config import get_config
    from genbench.models.casper.train import Trainer, TrainSettings

    chosen = get_config(config) if crop is None else replace(get_config(config), crop=crop)
    return Trainer(TrainSettings(data=[data], out=out / config, config=chosen, steps=steps + 2, device=device,
                                 batch_size=batch_size, log_every=0))


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def profile_step(config: str, data: Path, out: Path, steps: int, device: str, batch_size: int | None,
                 crop: int | None, top: int = 12) -> str:
    """Where one training step's time goes (module docstring, `--profile`), as Markdown."""
    from torch.profiler import ProfilerActivity, profile

    from genbench.models.casper.data import make_batch

    trainer = _trainer(config, data, out, steps, device, batch_size, crop)
    for _ in range(2):
        trainer.train_step()
    _sync(trainer.device)
    c = trainer.config
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        make_batch(trainer.sources, trainer.batch_size, c.frames, c.crop, rng, c.change_weight)
    batch_s = (time.perf_counter() - t0) / steps
    gpu = trainer.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    t0 = time.perf_counter()
    with profile(activities=activities) as prof:
        for _ in range(steps):
            trainer.train_step()
        _sync(trainer.device)
    step_s = (time.perf_counter() - t0) / steps
    events = [e for e in prof.key_averages() if e.key != "ProfilerStep*"]
    lines = [f"### `{config}` on {trainer.device} (batch {trainer.batch_size} of {c.frames}x{c.crop}x{c.crop}, "
             f"{steps} profiled steps)", "",
             f"step: {step_s * 1000:.1f} ms under the profiler ({1 / step_s:.2f} steps/s); batch building alone: "
             f"{batch_s * 1000:.1f} ms = {batch_s / step_s:.2f} of a step", ""]
    columns = [("self CPU", "self_cpu_time_total")] + ([("self GPU", "self_device_time_total")] if gpu else [])
    for title, attr in columns:
        total = sum(getattr(e, attr, 0.0) for e in events) or 1.0
        ranked = sorted(events, key=lambda e: getattr(e, attr, 0.0), reverse=True)[:top]
        lines += [f"| operator ({title}) | calls per step | ms per step | share of {title} |", "|---|---|---|---|"]
        lines += [f"| `{e.key}` | {e.count / steps:.0f} | {getattr(e, attr) / 1000 / steps:.2f} | "
                  f"{getattr(e, attr) / total:.2f} |" for e in ranked]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="tiny,small")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per config")
    parser.add_argument("--resolution", type=int, default=64, help="inference frame size")
    parser.add_argument("--frames", type=int, default=16, help="inference clip length (2+ windows of 8)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, help="training batch (default: the config's)")
    parser.add_argument("--crop", type=int, help="training window's side (default: the config's)")
    parser.add_argument("--profile", action="store_true", help="where a training step's time goes (see above)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = _toy(Path(tmp) / "toy", args.resolution, args.frames)
        if args.profile:
            for c in args.configs.split(","):
                print(profile_step(c, data, Path(tmp) / "runs", args.steps, args.device, args.batch_size, args.crop))
            return
        rows = [measure(c, data, Path(tmp) / "runs", args.steps, args.device, args.batch_size, args.crop)
                for c in args.configs.split(",")]
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
