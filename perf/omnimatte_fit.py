"""The layer fit on a removal model's inputs: the soft alpha IoU of the start and of the fit, as shipped and with each
of its settings changed, over layering scenes no benchmark split uses.

    .venv/bin/python perf/omnimatte_fit.py [--data val,DIR...] [--method casper] [--workers 2] [--json OUT]

For every layering scene of `--data` (default: the validation split `val-v2`; several datasets, comma-separated, are
one set), the bg and solo videos are made by `--method` as `genbench eval --task layering --method omnimatte` makes
them (the shipped removal ensemble), and the layers are fitted (`fit_layers`, given the visible masks and the input
video, as the layering method is) with the shipped `OmnimatteConfig` and with each of `VARIANTS`. Printed: the mean
over layers of the benchmark's soft alpha IoU (frames averaged) of the start (`evidence.gather`, what every fit
starts from) and of each fit, and each fit's difference from the start. `--workers` processes take a scene each
(the removal model and the fits, one torch thread each). The layering validation set (val-v2 and val-layering, 101
layers; docs/omnimatte.md) takes about 45 minutes of the 2-core machine; `--json` keeps every layer's IoU, so runs
over parts of a set join into the record of one run over it (docs/results/layering-validation-omnimatte-fit.json).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

VARIANTS = {"without the ceiling": {"ceiling": False}}  # name -> OmnimatteConfig fields changed from the shipped


def score_scene(scene: Path, method: str) -> dict[str, list[float]]:
    """Per-layer IoUs of one scene: 'start', 'shipped' and each variant's name -> one value per layer."""
    import torch

    from genbench.benchmark.harness import mean_alpha_iou
    from genbench.frames import read_video
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.evidence import gather
    from genbench.models.omnimatte.optimise import fit_layers

    torch.set_num_threads(1)
    shipped = OmnimatteConfig()
    made = sources.from_scene(scene, method, shipped.removal_samples, shipped.removal_views)
    ids = sorted(made.solos)
    visible = {k: made.visible == k for k in ids}
    truth = {k: read_video(scene / "layers" / str(k))[..., 3] for k in ids}
    start = gather(made.bg, made.solos, visible, made.frames, **shipped.evidence_settings())
    scores = {"start": [mean_alpha_iou(start[k].alpha, truth[k]) for k in ids]}
    for name, changes in {"shipped": {}, **VARIANTS}.items():
        fit = fit_layers(made.bg, made.solos, visible, replace(shipped, **changes), frames=made.frames,
                         label=f"{scene.name} {name}")
        scores[name] = [mean_alpha_iou(fit.layers[k][..., 3] / 255.0, truth[k]) for k in ids]
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="val",
                        help="datasets with layering scenes, comma-separated; val: the validation split (default)")
    parser.add_argument("--method", default="casper", help="the removal method making bg and solos")
    parser.add_argument("--workers", type=int, default=1, help="processes, a scene each (default 1)")
    parser.add_argument("--json", help="write the per-layer IoUs and the means here")
    args = parser.parse_args()

    from genbench.benchmark.split import validation_split
    from genbench.models.omnimatte.sources import scenes_with_layers

    datasets = [validation_split() if d == "val" else Path(d) for d in args.data.split(",")]
    scenes = scenes_with_layers(*datasets)
    if not scenes:
        sys.exit(f"{', '.join(map(str, datasets))}: no scene with ground-truth layers")
    context = multiprocessing.get_context("forkserver")
    totals: dict[str, list[float]] = {}
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        for scene, scores in zip(scenes, pool.map(score_scene, scenes, [args.method] * len(scenes)), strict=True):
            for name, values in scores.items():
                totals.setdefault(name, []).extend(values)
            print(f"{scene.name}: " + ", ".join(f"{n} {np.mean(v):.4f}" for n, v in scores.items()), flush=True)
    means = {name: round(float(np.mean(values)), 4) for name, values in totals.items()}
    layers = len(totals["start"])
    print(f"\nsoft alpha IoU over {layers} layers of {len(scenes)} scenes ({args.method}'s bg and solos):")
    for name, mean in means.items():
        print(f"  {name:24s} {mean:.4f}" + ("" if name == "start" else f"  ({mean - means['start']:+.4f})"))
    if args.json:
        Path(args.json).write_text(json.dumps({"data": [d.name for d in datasets], "method": args.method,
                                               "variants": VARIANTS, "mean_iou": means, "per_layer": totals},
                                              indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
