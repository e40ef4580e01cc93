"""`genbench render`: Kubric-style paired renders on Blender (Cycles) + pybullet, locally or on Ray."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genbench.errors import require_at_least

if TYPE_CHECKING:
    from genbench.generators.kubric.settings import RenderSettings

log = logging.getLogger(__name__)


def settings_from_args(args: argparse.Namespace) -> RenderSettings:
    """The run's settings: the preset with every option given on the command line applied."""
    from genbench.generators.kubric import media
    from genbench.generators.kubric.assets import assets_digest, list_assets
    from genbench.generators.kubric.settings import SURFACES, WORLDS, parse_kinds, resolve_settings

    overrides: dict[str, Any] = {"seed": args.seed, "resolution": args.resolution, "frames": args.frames,
                                 "samples": args.samples, "targets": args.targets,
                                 "counterfactual": args.counterfactual}
    if args.assets:
        folder = Path(args.assets).expanduser().resolve()
        overrides.update(assets=str(folder), assets_digest=assets_digest(folder, list_assets(folder)))
    if args.worlds is not None:
        overrides["worlds"] = parse_kinds(args.worlds, WORLDS, "--worlds")
    if args.surfaces is not None:
        overrides["surfaces"] = parse_kinds(args.surfaces, SURFACES, "--surfaces")
    if args.hdri:
        folder = Path(args.hdri).expanduser().resolve()
        overrides.update(hdri=str(folder), hdri_digest=media.folder_digest(media.hdris(str(folder))))
    if args.textures:
        folder = Path(args.textures).expanduser().resolve()
        overrides.update(textures=str(folder), textures_digest=media.folder_digest(media.textures(str(folder))))
    return resolve_settings(args.preset, **overrides)


def warn_if_too_small_to_score(settings: RenderSettings) -> None:
    """Renders below LPIPS's least frame size train fine but `genbench eval` refuses them: say so before rendering."""
    from genbench.benchmark.metrics import MIN_SIZE

    if settings.resolution < MIN_SIZE:
        log.warning("frames of %dx%d can train a model but cannot be scored: `genbench eval` needs at least %dx%d "
                    "(LPIPS's AlexNet); use --resolution %d or more for benchmark data", settings.resolution,
                    settings.resolution, MIN_SIZE, MIN_SIZE, MIN_SIZE)


def print_estimate(args: argparse.Namespace, settings: RenderSettings) -> int:
    """Render sample scenes in a temporary folder and print what --scenes N would cost; --out stays untouched."""
    from genbench.generators.kubric.estimate import estimate
    from genbench.generators.kubric.make import RenderOptions, SceneMaker
    from genbench.generators.kubric.preview import write_preview
    from genbench.generators.kubric.quiet import quiet

    with quiet(stderr=True):
        import bpy  # noqa: F401  (Blender loads once per process: a one-time cost, not a per-scene one)

    maker = SceneMaker(settings, RenderOptions(device=args.device, threads=0))
    result = estimate(maker, args.scenes, args.estimate_scenes, write_preview)
    print(f"settings: preset {settings.preset}, {settings.resolution}x{settings.resolution}, {settings.frames} frames, "
          f"{settings.samples} spp (nothing written to {args.out})")
    for line in result.lines():
        print(line)
    return 0


def run(args: argparse.Namespace) -> int:
    from genbench.generators.kubric.dataset import RenderRun, render_dataset
    from genbench.storage import child

    how = RenderRun(workers=args.workers, device=args.device, executor=args.executor, address=args.address,
                    cpus_per_scene=args.cpus_per_scene)
    how.check()
    require_at_least("--scenes", args.scenes, what="the number of scenes to make")
    require_at_least("--estimate-scenes", args.estimate_scenes)
    settings = settings_from_args(args)
    warn_if_too_small_to_score(settings)
    if args.estimate:
        return print_estimate(args, settings)
    result = render_dataset(args.out, settings, args.scenes, how)  # a folder, or a URL (s3://, gs://)
    summary, out = result.summary, result.summary.root
    rate = len(summary.written) / summary.seconds * 3600 if summary.written and summary.seconds > 0 else 0.0
    cf = f", {settings.counterfactual} counterfactual" if settings.counterfactual != "visual" else ""
    print(f"{out}: {len(summary.written)} scenes rendered, {len(summary.skipped)} already complete, "
          f"{len(summary.failed)} failed ({summary.seconds:.0f} s, {rate:.0f} scenes/hour); "
          f"settings: preset {settings.preset}, {settings.resolution}x{settings.resolution}, {settings.frames} frames, "
          f"{settings.samples} spp, worlds {','.join(settings.worlds)}, surfaces {','.join(settings.surfaces)}{cf}")
    if result.contact_sheet is not None:
        print(f"contact sheet (full | minus | effect kinds | trimask): {result.contact_sheet}")
    if summary.failed:
        print(f"failed scenes and their errors: {child(out, 'failures.json')}")
    return 1 if summary.failed else 0
