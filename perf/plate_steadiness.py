"""Where Casper's plate step can help on a split's object-paste and tripod clips, and why it does not elsewhere.

    .venv/bin/python perf/plate_steadiness.py --data DIR [--split S] [--sources paste,tripod] [--spread N]

The plate step (`genbench.models.casper.prefill.static_plate`) keeps the temporal clean plate at the remove
region's pixels that other frames see steadily (`genbench.baselines.median.steady`, within `--spread` levels,
default the shipped checkpoint's). Per clip of each source, printed as a Markdown table: the remove region's
pixels (any frame), how many of them some frame sees, how many of those pass the steadiness test, and how much
the clip changes where nothing is removed (the median, over pixels outside every frame's remove region, of each
pixel's median absolute deviation over time, in levels of the largest channel): 0 for a still target with
noiseless frames, large for a moving camera or where the target's own objects and lights move.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def clip_row(frames: np.ndarray, trimask: np.ndarray, spread: int) -> tuple[int, int, int, float]:
    """(remove-region pixels, seen in some frame, kept by the plate step, median temporal MAD outside the region)."""
    from genbench.models.casper.prefill import remove_region, static_plate

    hole = remove_region(trimask)
    _, kept = static_plate(frames, trimask, spread)  # only seen pixels can be steady
    region = hole.any(0)
    seen = region & (~hole).any(0)
    steady_seen = kept.any(0)
    f = frames.astype(np.float64)
    mad = np.median(np.abs(f - np.median(f, 0)), 0).max(-1)
    return int(region.sum()), int(seen.sum()), int(steady_seen.sum()), float(np.median(mad[~region]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a benchmark split's folder, e.g. a built full split")
    parser.add_argument("--split", help="the split to read (default: test, or the dataset's only split)")
    parser.add_argument("--sources", default="paste,tripod", help="scene-id prefixes to report, comma-separated")
    parser.add_argument("--spread", type=int, help="steadiness in levels (default: the shipped checkpoint's plate)")
    args = parser.parse_args()

    from genbench.models.casper.checkpoint import read_config
    from genbench.models.casper.method import WEIGHTS
    from genbench.samples import load_removal, removal_samples

    data = Path(args.data)
    spread = args.spread if args.spread is not None else read_config(WEIGHTS)[0].plate
    samples = [s for s in removal_samples(data, args.split)
               if any(s.scene_id.startswith(p) for p in args.sources.split(","))]
    if not samples:
        sys.exit(f"{data}: no clip whose scene id starts with {args.sources}")
    print(f"steadiness within {spread} levels\n")
    print("| clip | remove-region pixels | seen in some frame | seen and steady | change outside (levels) |")
    print("|---|---|---|---|---|")
    for sample in samples:
        item = load_removal(data, sample, None, target=False)
        region, seen, steady_seen, change = clip_row(item.frames, item.trimask, spread)
        print(f"| {sample.sample_id} | {region} | {seen} | {steady_seen} | {change:.1f} |", flush=True)


if __name__ == "__main__":
    main()
