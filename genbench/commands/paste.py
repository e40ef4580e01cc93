"""`genbench paste --source DIR --targets DIR --count N --out DIR [--seed S] [--shadow]`."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from genbench.errors import require_at_least
    from genbench.generators.paste.dataset import paste_dataset
    from genbench.runner import FAILURES_FILE
    from genbench.storage import child

    require_at_least("--count", args.count, what="the number of scenes to make")
    workers = getattr(args, "workers", 1)  # programmatic callers may leave the options at their defaults
    require_at_least("--workers", workers)
    result = paste_dataset(args.out, args.source, args.targets, args.count, seed=args.seed, shadow=bool(args.shadow),
                           frames=getattr(args, "frames", None), max_size=getattr(args, "max_size", None),
                           workers=workers)
    summary, settings, out = result.summary, result.settings, result.summary.root
    print(f"{out}: {len(summary.written)} scenes written, {len(summary.skipped)} already there, "
          f"{len(summary.failed)} failed ({summary.seconds:.1f} s); {settings.sources} {settings.source_kind} source "
          f"clips, {settings.targets} {settings.target_kind} targets")
    if summary.failed:
        print(f"failed scenes and their errors: {child(out, FAILURES_FILE)}")
    return 1 if summary.failed else 0
