"""Train the start refiner (`refine.py`) for one removal model on rendered layering scenes.

    python -m genbench.models.omnimatte.train_start --data DIR[,DIR...] --out DIR [--removal casper]
        [--steps 1500] [--channels 16] [--seed 0] [--val-data DIR[,DIR...]]

Per layering scene of --data (scenes with ground-truth layers, never a benchmark split's), the removal model's bg
and solo videos as omnimatte makes them (the mean of the shipped ensemble), the start as `evidence.gather` makes it
from them with the shipped settings and the visible masks (what the layering method is given), and the true layers'
alpha. Then `steps` steps of AdamW (learning rate 1e-3, cosine decay) on batches of 16 random 64x64 windows (one
frame of one layer each, mirrored every other step), the loss one minus the soft alpha IoU. OUT gets config.json (the
removal spec and its fingerprint, every setting, the data, and with --val-data the soft alpha IoU of the start and of
the refined start there, the benchmark's mean over layers) and model.safetensors; seeds in, same bytes out.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from genbench import contract
from genbench.errors import GenbenchError
from genbench.models.omnimatte.config import OmnimatteConfig
from genbench.models.omnimatte.refine import StartRefiner, refine_alpha, refiner_inputs, save_refiner, soft_iou_loss


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 1500
    channels: int = 16
    batch: int = 16
    crop: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0


@dataclass
class LayerExample:
    """One layer: the refiner's inputs (T, FEATURES, H, W) float32, the start and the true alpha (T, H, W)."""

    features: np.ndarray
    start: np.ndarray
    truth: np.ndarray


def layer_examples(datasets: list[Path], removal: str, config: OmnimatteConfig | None = None) -> list[LayerExample]:
    """Every layer of the layering scenes of `datasets`, with `removal`'s bg and solos (`config`'s ensemble)."""
    from genbench.frames import read_video
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.evidence import gather
    from genbench.progress import make_progress

    config = config or OmnimatteConfig()
    scenes = sources.scenes_with_layers(*datasets)
    if not scenes:
        raise GenbenchError(f"{', '.join(map(str, datasets))}: no scene with ground-truth layers (render some with "
                            "genbench render)")
    examples = []
    with make_progress("scenes") as progress:
        task = progress.add_task(f"{removal}: bg, solos and starts", total=len(scenes))
        for scene in scenes:
            truth = sources.from_scene(scene, "gt")
            made = sources.from_scene(scene, removal, config.removal_samples, config.removal_views)
            ids = sorted(truth.solos)
            visible = {k: truth.visible == k for k in ids}
            starts = gather(made.bg, {k: made.solos[k] for k in ids}, visible, truth.frames,
                            **config.evidence_settings())
            for k in ids:
                others = (truth.visible > 0) & ~visible[k]
                features = refiner_inputs(truth.frames, made.bg, made.solos[k], visible[k], others, starts[k].alpha)
                alpha = read_video(scene / "layers" / str(k))[..., 3].astype(np.float32) / 255.0
                examples.append(LayerExample(features, starts[k].alpha, alpha))
            progress.advance(task)
    return examples


def train_refiner(examples: list[LayerExample], settings: TrainSettings) -> tuple[StartRefiner, list[float]]:
    """The trained refiner and its loss per step. One torch thread's result depends only on the examples and the
    settings."""
    from genbench.progress import make_progress

    torch.manual_seed(settings.seed)
    rng = torch.Generator().manual_seed(settings.seed)
    features = [torch.from_numpy(e.features) for e in examples]
    truths = [torch.from_numpy(e.truth)[:, None] for e in examples]
    crop = min([settings.crop] + [min(f.shape[-2:]) for f in features])
    net = StartRefiner(settings.channels)
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.steps)
    losses = []
    with make_progress("steps") as progress:
        task = progress.add_task("training the start refiner", total=settings.steps)
        for step in range(settings.steps):
            xs, ts = [], []
            for _ in range(settings.batch):
                i = int(torch.randint(len(features), (), generator=rng))
                t = int(torch.randint(features[i].shape[0], (), generator=rng))
                h, w = features[i].shape[-2:]
                y = int(torch.randint(h - crop + 1, (), generator=rng))
                x = int(torch.randint(w - crop + 1, (), generator=rng))
                xs.append(features[i][t, :, y:y + crop, x:x + crop])
                ts.append(truths[i][t, :, y:y + crop, x:x + crop])
            x, truth = torch.stack(xs), torch.stack(ts)
            if step % 2:
                x, truth = x.flip(-1), truth.flip(-1)
            loss = soft_iou_loss(net(x), truth)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            losses.append(loss.item())
            progress.advance(task)
    return net.eval(), losses


def mean_iou(examples: list[LayerExample], net: StartRefiner | None = None) -> float:
    """The benchmark's soft alpha IoU (mean over layers of the mean over frames) of the starts, or of the refined
    starts with `net`."""
    from genbench.benchmark.harness import mean_alpha_iou

    truth = [np.round(e.truth * 255).astype(np.uint8) for e in examples]
    alphas = [e.start if net is None else refine_alpha(net, e.features) for e in examples]
    return float(np.mean([mean_alpha_iou(a, t) for a, t in zip(alphas, truth, strict=True)]))


def _paths(value: str | None) -> list[Path]:
    paths = [Path(p) for p in value.split(",") if p] if value else []
    missing = [str(p) for p in paths if not (p / contract.SCENES_DIR).is_dir()]
    if missing:
        raise GenbenchError(f"{', '.join(missing)}: no such dataset folder (no {contract.SCENES_DIR}/ in it)")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="rendered dataset folder(s) with layers, comma-separated")
    parser.add_argument("--out", required=True, help="the refiner's folder (config.json, model.safetensors)")
    parser.add_argument("--removal", default="casper", help="the removal method spec it is trained for (casper)")
    parser.add_argument("--val-data", help="dataset folder(s) to score the start and the refined start on")
    defaults = TrainSettings()
    for name in ("steps", "channels", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name),
                            help=f"default {getattr(defaults, name)}")
    args = parser.parse_args(argv)
    from genbench.methods import method_fingerprint
    from genbench.models.omnimatte.sources import removal_method
    from genbench.models.threads import torch_threads

    try:
        data, val = _paths(args.data), _paths(args.val_data)
        removal_method(args.removal)  # an unknown or non-removal method fails before any work
        if args.steps < 1 or args.channels < 1:
            raise GenbenchError("--steps and --channels must be >= 1")
        settings = TrainSettings(steps=args.steps, channels=args.channels, seed=args.seed)
        t0 = time.perf_counter()
        with torch_threads(1):
            examples = layer_examples(data, args.removal)
            net, losses = train_refiner(examples, settings)
            record = {"removal": args.removal, "removal_fingerprint": method_fingerprint(args.removal),
                      "channels": settings.channels, "settings": asdict(settings),
                      "start": OmnimatteConfig().evidence_settings(),
                      "data": [p.name for p in data], "layers": len(examples),
                      "final_loss": round(float(np.mean(losses[-100:])), 6)}
            if val:
                held = layer_examples(val, args.removal)
                record["validation"] = {"data": [p.name for p in val], "layers": len(held),
                                        "start_iou": round(mean_iou(held), 6),
                                        "refined_iou": round(mean_iou(held, net), 6)}
        save_refiner(net, record, Path(args.out))
    except GenbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(examples)} layers, {settings.steps} steps, {time.perf_counter() - t0:.0f} s)")
    if val:
        v = record["validation"]
        print(f"soft alpha IoU on {', '.join(v['data'])} ({v['layers']} layers): start {v['start_iou']:.4f}, "
              f"refined {v['refined_iou']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
