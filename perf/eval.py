"""Evaluation speed: end-to-end scoring against the raw LPIPS rate for the same number of AlexNet passes.

    .venv/bin/python perf/eval.py [--resolution 256] [--frames 16] [--scenes 6] [--device cpu]

Makes a toy dataset and identity predictions in a temporary folder, then, in one process:

- end-to-end: `Evaluator.score` on the predictions folder: validation, reading and hashing the
  PNGs (input, trimask source, target, prediction), regions, PSNR, SSIM and LPIPS, whole frame and
  per region on protocol v2's composites, as `genbench eval --predictions` does (LPIPS built once
  beforehand, as in a run). Identity leaves the object and its shadow: every region but preserve
  needs a composite of its own, the most passes a removal can cost.
- raw: the official ``lpips.LPIPS.forward`` on the same (prediction, target) pairs already on the
  device in [-1, 1], in the scorer's batch size: two AlexNet passes per frame.

Protocol v2 scores a region on a composite (the prediction inside, the truth outside), which costs
one AlexNet pass per region that is neither exact nor the whole prediction. The script prints how
many passes per frame v2 needed and the ratio of the two pass rates; the goal is >= 0.8 (reading,
PSNR, SSIM and compositing must not dominate). The two are timed alternately and the best of each is
kept. Also printed: the ratio of the CPU time each spends per pass, which is what the wall-clock
ratio tends to on a machine whose cores are all busy with this run, and which other processes
disturb far less.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

GOAL = 0.8


def _make_data(root: Path, resolution: int, frames: int, scenes: int) -> Path:
    from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
    from genbench.runner import run_generation

    settings = ToySettings(seed=3, resolution=resolution, frames=frames, max_objects=3, val_fraction=0.0)
    run_generation(root, name="perf", generator=GENERATOR, settings=asdict(settings), count=scenes,
                   make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i))
    return root


def _write_identity(data: Path, pred: Path, samples: list) -> None:
    from genbench import contract
    from genbench.benchmark.predictions import write_item
    from genbench.frames import read_frames
    from genbench.scene import scene_dir

    for s in samples:
        frames = read_frames(scene_dir(data, s.scene_id) / contract.RGB_DIR / contract.FULL, s.num_frames)
        write_item(pred, s.sample_id, {"": frames})


def _raw_inputs(evaluator: object, pred: Path) -> tuple:
    """(prediction, target) pairs of every frame, on the scorer's device, in [-1, 1], laid out as the scorer
    lays them out (NHWC uint8 viewed as NCHW)."""
    import torch

    from genbench.benchmark.metrics import to_lpips_input
    from genbench.frames import read_frames
    from genbench.samples import load_removal

    scorer = evaluator.scorer  # type: ignore[attr-defined]
    a, b = [], []
    for s in evaluator.samples:  # type: ignore[attr-defined]
        item = load_removal(evaluator.data, s, None)  # type: ignore[attr-defined]
        a.append(read_frames(pred / s.sample_id, len(item.frames)))
        b.append(item.target)
    a_t = to_lpips_input(torch.from_numpy(np.concatenate(a)).to(scorer.device).permute(0, 3, 1, 2))
    b_t = to_lpips_input(torch.from_numpy(np.concatenate(b)).to(scorer.device).permute(0, 3, 1, 2))
    return a_t, b_t


def _raw_lpips_seconds(scorer: object, a_t: object, b_t: object) -> tuple[float, float]:
    """One timed pass of the official lpips forward over all pairs, in the scorer's batch size.

    Returns (wall seconds, CPU seconds of this process).
    """
    import torch

    n, _, h, w = a_t.shape  # type: ignore[attr-defined]
    step = max(1, scorer.batch_pixels // (h * w))  # type: ignore[attr-defined]
    with torch.inference_mode():
        _sync(scorer.device)  # type: ignore[attr-defined]
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, n, step):
            scorer.lpips(a_t[i:i + step], b_t[i:i + step])  # type: ignore[attr-defined]
        _sync(scorer.device)  # type: ignore[attr-defined]
        return time.perf_counter() - t0, time.process_time() - c0


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each; the best is kept")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--readers", type=int, help="reader threads of the scorer (0: none; default min(4, cores))")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from genbench.benchmark.harness import EvalSettings, Evaluator

    with tempfile.TemporaryDirectory(prefix="genbench-perf-") as tmp:
        data = _make_data(Path(tmp) / "data", args.resolution, args.frames, args.scenes)
        settings = EvalSettings(split="train", device=args.device)
        if args.readers is not None:
            settings = EvalSettings(split="train", device=args.device, readers=args.readers)
        evaluator = Evaluator(data, settings)
        pred = Path(tmp) / "pred"
        _write_identity(data, pred, evaluator.samples)
        a_t, b_t = _raw_inputs(evaluator, pred)
        frames = len(a_t)
        _raw_lpips_seconds(evaluator.scorer, a_t[:2], b_t[:2])  # warm-up
        raw: list[tuple[float, float]] = []
        e2e: list[tuple[float, float]] = []
        passes = 0
        for _ in range(args.repeats):  # interleaved, so a busy machine slows both alike; the best of each is kept
            raw.append(_raw_lpips_seconds(evaluator.scorer, a_t, b_t))
            before = evaluator.scorer.passes
            t0, c0 = time.perf_counter(), time.process_time()
            evaluator.score("identity", pred, generated=False)
            e2e.append((time.perf_counter() - t0, time.process_time() - c0))
            passes = evaluator.scorer.passes - before
    per_frame = passes / frames
    raw_rate = 2 * frames / min(w for w, _ in raw)  # AlexNet passes per second: two per frame
    e2e_rate = passes / min(w for w, _ in e2e)
    raw_cpu, e2e_cpu = min(c for _, c in raw) / (2 * frames), min(c for _, c in e2e) / passes
    ratio = e2e_rate / raw_rate
    import torch

    print(f"device {evaluator.scorer.device}, {frames} frames of {args.resolution}x{args.resolution} "
          f"in {len(evaluator.samples)} clips; torch threads {torch.get_num_threads()}, readers {settings.readers}")
    print(f"AlexNet passes per frame: raw LPIPS 2, protocol v2 end-to-end {per_frame:.2f}")
    print(f"raw LPIPS forward:      {raw_rate:8.1f} passes/s ({raw_rate / 2:.1f} frames/s)")
    print(f"end-to-end evaluation:  {e2e_rate:8.1f} passes/s ({e2e_rate / per_frame:.1f} frames/s)")
    print(f"ratio: {ratio:.2f} (goal >= {GOAL})")
    print(f"CPU time per pass: raw {raw_cpu * 1e3:.1f} ms, end-to-end {e2e_cpu * 1e3:.1f} ms; "
          f"CPU-time ratio {raw_cpu / e2e_cpu:.2f} (robust when other processes share the machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
