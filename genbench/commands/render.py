"""`genbench render`: Kubric-style paired renders on Blender (Cycles) + pybullet, locally or on Ray."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from genbench.errors import GenbenchError


def run(args: argparse.Namespace) -> int:
    from genbench.generators.kubric.assets import assets_digest, list_assets
    from genbench.generators.kubric.make import GENERATOR, RenderOptions, SceneMaker
    from genbench.generators.kubric.preview import write_missing_previews
    from genbench.generators.kubric.settings import resolve_settings

    if args.workers < 1:
        raise GenbenchError(f"--workers must be >= 1, got {args.workers}")
    if args.address and args.executor != "ray":
        raise GenbenchError("--address needs --executor ray")
    assets = digest = None
    if args.assets:
        folder = Path(args.assets).expanduser().resolve()
        assets, digest = str(folder), assets_digest(folder, list_assets(folder))
    settings = resolve_settings(args.preset, seed=args.seed, resolution=args.resolution, frames=args.frames,
                                samples=args.samples, targets=args.targets, assets=assets, assets_digest=digest)
    out = Path(args.out)
    name = f"{GENERATOR}-{settings.preset}-s{settings.seed}"
    if args.executor == "ray":
        from genbench.generators.kubric.distributed import run_generation_ray

        maker = SceneMaker(settings, RenderOptions(device=args.device, threads=1))
        summary = run_generation_ray(out, name=name, generator=GENERATOR, settings=settings.to_dict(),
                                     count=args.scenes, make_scene=maker, scene_id_of=maker.scene_id,
                                     address=args.address)
    else:
        from genbench.runner import run_generation

        threads = 0 if args.workers == 1 else max(1, (os.cpu_count() or 1) // args.workers)
        maker = SceneMaker(settings, RenderOptions(device=args.device, threads=threads))
        summary = run_generation(out, name=name, generator=GENERATOR, settings=settings.to_dict(), count=args.scenes,
                                 make_scene=maker, scene_id_of=maker.scene_id, workers=args.workers)
    write_missing_previews(out)
    rate = len(summary.written) / summary.seconds * 3600 if summary.written and summary.seconds > 0 else 0.0
    print(f"{out}: {len(summary.written)} scenes rendered, {len(summary.skipped)} already complete, "
          f"{len(summary.failed)} failed ({summary.seconds:.0f} s, {rate:.0f} scenes/hour); "
          f"settings: preset {settings.preset}, {settings.resolution}x{settings.resolution}, {settings.frames} frames, "
          f"{settings.samples} spp")
    if summary.failed:
        print(f"failed scenes and their errors: {out / 'failures.json'}")
    return 1 if summary.failed else 0
