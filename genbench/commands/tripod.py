"""`genbench tripod VIDEO_OR_FRAME_DIR... --out DIR`: `genbench.generators.tripod.dataset.tripod_dataset`."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from genbench.errors import require_at_least
    from genbench.generators.tripod.dataset import tripod_dataset
    from genbench.generators.tripod.settings import TripodSettings
    from genbench.runner import FAILURES_FILE
    from genbench.storage import child

    workers = getattr(args, "workers", 1)  # programmatic callers may leave the options at their defaults
    require_at_least("--workers", workers)
    optional = {k: getattr(args, k) for k in ("max_size", "window") if getattr(args, k, None) is not None}
    result = tripod_dataset(list(args.inputs), args.out, TripodSettings(**optional),
                            workers=workers)
    summary, out = result.summary, result.summary.root
    print(f"{out}: {result.accepted} windows accepted ({len(summary.written)} written, {len(summary.skipped)} already "
          f"there, {len(summary.failed)} failed), {len(result.rejected)} rejected with reasons in "
          f"{result.rejected_file}")
    if summary.failed:
        print(f"failed scenes and their errors: {child(out, FAILURES_FILE)}")
    return 1 if summary.failed else 0
