"""`genbench paste --source DIR --targets DIR --count N --out DIR [--seed S] [--shadow]`."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from genbench.generators.paste.make import GENERATOR, PasteMaker, scene_id
    from genbench.generators.paste.settings import PasteSettings
    from genbench.generators.paste.sources import digest, find_sources, find_targets
    from genbench.runner import FAILURES_FILE, run_generation
    from genbench.storage import basename, child, output_root

    source_kind, sources = find_sources(Path(args.source))
    target_kind, targets = find_targets(Path(args.targets))
    optional = {k: getattr(args, k) for k in ("frames", "max_size") if getattr(args, k, None) is not None}
    settings = PasteSettings(
        seed=args.seed, shadow=bool(args.shadow), source_kind=source_kind, target_kind=target_kind,
        sources=len(sources), targets=len(targets), sources_digest=digest([c.name for c in sources]),
        targets_digest=digest([c.name for c in targets]), **optional,
    )
    out = output_root(args.out)
    summary = run_generation(
        out, name=basename(out), generator=GENERATOR, settings=settings.to_dict(), count=args.count,
        make_scene=PasteMaker(settings, tuple(sources), tuple(targets)), scene_id_of=partial(scene_id, settings),
        workers=int(getattr(args, "workers", 1) or 1),
    )
    print(f"{out}: {len(summary.written)} scenes written, {len(summary.skipped)} already there, "
          f"{len(summary.failed)} failed ({summary.seconds:.1f} s); {len(sources)} {source_kind} source clips, "
          f"{len(targets)} {target_kind} targets")
    if summary.failed:
        print(f"failed scenes and their errors: {child(out, FAILURES_FILE)}")
    return 1 if summary.failed else 0
