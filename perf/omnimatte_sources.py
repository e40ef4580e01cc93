"""Where the omnimatte layers lose alpha IoU: the starting alpha from each pairing of Casper's and the true bg/solos.

    .venv/bin/python perf/omnimatte_sources.py [--data DIR] [--method casper]

On every layering scene of a split (default: the shipped mini split), the bg and solo videos are made by
`--method` (the way `genbench eval --task layering --method omnimatte` makes them) and read from the
ground truth; the starting alpha of `genbench.models.omnimatte.evidence.gather` (what the fit starts from,
no fitting here) is scored with the benchmark's soft alpha IoU against the true layers, for four pairings:
method bg + method solos (what omnimatte gets), true bg + method solos, method bg + true solos, and true
bg + true solos (the start's ceiling), beside the object's amodal mask as alpha (the registered `mask-alpha`
method uses the visible mask, so it scores lower). Printed: the mean
over layers of the per-layer IoU (frames averaged as the benchmark does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a dataset with layering scenes (default: the shipped mini split)")
    parser.add_argument("--method", default="casper", help="the removal method making bg and solos")
    args = parser.parse_args()

    from genbench.benchmark.harness import alpha_scores
    from genbench.benchmark.split import SHIPPED
    from genbench.frames import read_video
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.evidence import gather

    data = Path(args.data) if args.data else SHIPPED
    scenes = [p for p in sorted((data / "scenes").iterdir()) if (p / "layers").is_dir()]
    if not scenes:
        sys.exit(f"{data}: no scene with ground-truth layers")
    config = OmnimatteConfig()
    scores: dict[str, list[float]] = {}
    layer_count = 0

    def add(name: str, alpha: np.ndarray, truth: np.ndarray) -> None:
        pred = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
        scores.setdefault(name, []).append(float(np.nanmean(alpha_scores(pred, truth)["iou"])))

    for scene in scenes:
        truth = sources.from_scene(scene, "gt")
        made = sources.from_scene(scene, args.method)
        ids = sorted(truth.solos)
        layer_count += len(ids)
        layers = {k: read_video(scene / "layers" / str(k))[..., 3] for k in ids}
        pairings = {f"{args.method} bg + {args.method} solos": (made.bg, made.solos),
                    f"true bg + {args.method} solos": (truth.bg, made.solos),
                    f"{args.method} bg + true solos": (made.bg, truth.solos),
                    "true bg + true solos": (truth.bg, truth.solos)}
        for name, (bg, solos) in pairings.items():
            evidence = gather(bg, {k: solos[k] for k in ids}, truth.masks, truth.frames, noise=config.noise_floor,
                              min_floor=config.min_floor, margin=config.quiet_margin)
            for k in ids:
                add(name, evidence[k].alpha, layers[k])
        for k in ids:
            add("object mask as alpha (amodal)", truth.masks[k].astype(np.float64), layers[k])
        print(f"{scene.name}: {len(ids)} layer(s)", flush=True)
    print(f"\nstarting alpha IoU on {data.name} ({layer_count} layers):")
    for name, values in scores.items():
        print(f"  {name:40s} {np.mean(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
