"""`genbench eval --workers N`: how much sooner a method's predictions are written in N processes than in one.

    .venv/bin/python perf/eval_workers.py [--method casper] [--workers 2] [--data DIR] [--clips N]

Runs the method over the split's first `--clips` removal clips (default: the shipped mini split, all 28) into
a temporary folder twice in this command, in one process (the reference) and in `--workers` processes, each
time from the start (the worker pool's start and each worker's copy of the method are counted), and prints
the wall times, their ratio, and whether the two predictions folders hold the same bytes (they must).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path


def folder_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*.png")):
        digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def timed_run(method: str, data: Path, samples: list, root: Path, workers: int) -> float:
    from genbench.benchmark.predicting import Job, predict_items
    from genbench.methods import METHODS

    job = Job(method, method, "removal", data, root, None)
    t0 = time.perf_counter()
    for _ in predict_items(job, samples, METHODS, workers):
        pass
    return time.perf_counter() - t0


def main() -> None:
    from genbench.benchmark.harness import default_data
    from genbench.samples import removal_samples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="casper")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, help="dataset folder (default: the shipped mini split)")
    parser.add_argument("--clips", type=int, help="the first N clips of the test split (default: all)")
    args = parser.parse_args()
    data = args.data or default_data()
    samples = removal_samples(data, None)[:args.clips]
    with tempfile.TemporaryDirectory() as tmp:
        one = timed_run(args.method, data, samples, Path(tmp) / "one", 1)
        many = timed_run(args.method, data, samples, Path(tmp) / "many", args.workers)
        same = folder_digest(Path(tmp) / "one") == folder_digest(Path(tmp) / "many")
    print(f"| method | clips | 1 process (s) | {args.workers} workers (s) | speed-up | same bytes |")
    print("|---|---|---|---|---|---|")
    same_bytes = "yes" if same else "NO"
    print(f"| {args.method} | {len(samples)} | {one:.1f} | {many:.1f} | {one / many:.2f}x | {same_bytes} |")


if __name__ == "__main__":
    main()
