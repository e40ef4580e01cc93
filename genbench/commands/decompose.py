"""`genbench decompose SCENE_OR_VIDEO [--masks DIR] --method gt|REMOVAL --out DIR`: omnimatte layers.

Writes, atomically (a temporary folder renamed when complete):

    OUT/bg/00000.png ...           the background, uint8 RGB
    OUT/layers/<k>/00000.png ...   one RGBA layer per object (the object plus its shadow/reflection)
    OUT/decompose.json             input, method, depth order, settings and seeds, timings, checks
    OUT/preview.gif                input | bg | each layer | recomposition

This is the layering prediction layout of one scene: `genbench eval --task layering --predictions P`
scores a folder P holding such outputs as P/<scene_id>/. Prints the recomposition check: every
layer over bg, in depth order, against the input (PSNR), and each layer over bg against its solo video.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.errors import GenbenchError

if TYPE_CHECKING:
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.sources import LayerInputs

RESULT_FILE = "decompose.json"
PREVIEW_FILE = "preview.gif"


def _inputs(args: argparse.Namespace, config: OmnimatteConfig) -> LayerInputs:
    from genbench.generators.video_io import read_frames, read_mask_folder
    from genbench.models.omnimatte.sources import from_removal, from_scene, removal_ensemble

    source = Path(args.input)
    if not source.exists():
        raise GenbenchError(f"{source}: no such scene folder or video")
    if (source / contract.META_FILE).is_file():
        if args.masks:
            raise GenbenchError(f"{source} is a scene folder: its masks are used; drop --masks")
        return from_scene(source, args.method, config.removal_samples, config.removal_views)
    if not args.masks:
        raise GenbenchError(f"{source} is not a scene folder; pass --masks DIR (instance-id images: 0 background, "
                            "k object k, one per frame)")
    if args.method == "gt":
        raise GenbenchError("--method gt needs a scene folder with rgb/bg and rgb/solo_<k>; for a plain video use a "
                            "removal method such as casper")
    frames = read_frames(source)
    ids_map = read_mask_folder(Path(args.masks), size=frames.shape[1:3])
    if len(ids_map) != len(frames):
        raise GenbenchError(f"{args.masks}: {len(ids_map)} masks for {len(frames)} frames")
    ids = sorted(set(np.unique(ids_map).tolist()) - {0})
    if not ids:
        raise GenbenchError(f"{args.masks}: the masks hold no object (every pixel is 0)")
    method = removal_ensemble(args.method, config.removal_samples, config.removal_views)
    return from_removal(frames, {k: ids_map == k for k in ids}, method, source=args.method)


def _out_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / RESULT_FILE).is_file())):
        raise GenbenchError(f"{out} exists and is not a decompose output; pass a new or empty --out folder")


def run(args: argparse.Namespace) -> int:
    from genbench.frames import write_video
    from genbench.models.omnimatte.compose import compose, depth_order
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.optimise import fit_layers
    from genbench.models.omnimatte.refine import shipped_refiner
    from genbench.pixels import over, psnr
    from genbench.preview import strip, write_gif

    out = Path(args.out)
    _out_folder(out)
    config = replace(OmnimatteConfig(), seed=args.seed, **({"steps": args.steps} if args.steps is not None else {}))
    inputs = _inputs(args, config)
    if inputs.unlayered:
        print(f"objects {inputs.unlayered} have no solo video: the layers start from the solo videos alone, "
              "not from the input video (it is not the bg plus these layers)")
        config = replace(config, use_frames=False)
    refiner = shipped_refiner(args.method) if args.method != "gt" and config.refine else None
    fit = fit_layers(inputs.bg, inputs.solos, inputs.masks, config, frames=inputs.frames, label="decompose",
                     refiner=None if refiner is None else refiner.net)
    order = depth_order(fit.layers, inputs.visible)
    recomposed = compose(inputs.bg, fit.layers, order)
    checks = {"recompose_psnr": round(psnr(recomposed, inputs.frames), 3),
              "layers": {str(k): {"solo_psnr": round(psnr(over(fit.layers[k], inputs.bg), inputs.solos[k]), 3)}
                         for k in order}}
    result = {"input": str(Path(args.input)), "masks": args.masks, "method": args.method, "order": order,
              "frames": len(inputs.frames), "size": list(inputs.frames.shape[1:3]), "checks": checks,
              "optimiser": fit.stats}
    with atomic_folder(out) as tmp:
        write_video(tmp / contract.BG, inputs.bg)
        for k in order:
            write_video(tmp / contract.LAYERS_DIR / str(k), fit.layers[k])
        (tmp / RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n")
        videos = [inputs.frames, inputs.bg, *(fit.layers[k] for k in order), recomposed]
        write_gif(tmp / PREVIEW_FILE, strip(videos, ["input", "bg", *(f"layer {k}" for k in order), "recomposed"]))
    missing = [k for k in sorted(set(np.unique(inputs.visible).tolist()) - {0}) if k not in fit.layers]
    print(f"{out}: bg + {len(order)} layer(s) {order} (back to front) from {inputs.source}, "
          f"{fit.stats['seconds']:.1f} s ({fit.stats.get('seconds_per_layer', 0):.1f} s per layer)")
    print(f"recomposition (all layers over bg vs input): PSNR {checks['recompose_psnr']:.2f} dB"
          + (f"; objects {missing} have no layer (no solo video)" if missing else ""))
    for k in order:
        print(f"layer {k} over bg vs solo_{k}: PSNR {checks['layers'][str(k)]['solo_psnr']:.2f} dB")
    return 0
