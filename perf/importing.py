"""Seconds per frame of `genbench import`'s per-pair analysis at a published benchmark's size.

    .venv/bin/python perf/importing.py                  # 1080p (PROVE-M's size), 3 frames
    .venv/bin/python perf/importing.py --size 480 --frames 8

A synthetic pair (random ground, a square object and a shadow beside it) of the given size, through
`importers.effects.pair_effects` (the tripod classifier per frame, the tolerance) and `mask_edge_strength` (the
orientation check), timed per frame. Decoding and PNG writing come on top.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from genbench.importers.effects import mask_edge_strength, pair_effects


def synthetic_pair(frames: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    without = rng.integers(60, 200, (frames, height, width, 3), dtype=np.uint8)
    full = without.copy()
    obj = np.zeros((frames, height, width), bool)
    h, w = height // 10, width // 10
    obj[:, 4 * h:7 * h, 4 * w:5 * w] = True
    shadow = np.zeros_like(obj)
    shadow[:, 7 * h:8 * h, 4 * w:6 * w] = True
    full[obj] = (220, 40, 30)
    full[shadow] = (full[shadow] * 0.6).astype(np.uint8)
    return full, without, obj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1080, help="frame height; width is 16:9 (default 1080)")
    parser.add_argument("--frames", type=int, default=3)
    args = parser.parse_args()
    full, without, obj = synthetic_pair(args.frames, args.size, args.size * 16 // 9)
    start = time.perf_counter()
    effects = pair_effects(full, without, obj)
    middle = time.perf_counter()
    mask_edge_strength(full, obj)
    mask_edge_strength(without, obj)
    end = time.perf_counter()
    print(f"{args.size}p x {args.frames} frames: pair_effects {(middle - start) / args.frames:.2f} s/frame, "
          f"mask edges {(end - middle) / args.frames:.3f} s/frame (tolerance {effects.tolerance})")


if __name__ == "__main__":
    main()
