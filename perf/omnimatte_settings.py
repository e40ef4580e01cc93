"""How the starting alpha's settings for a removal model's inputs were chosen: the removal ensemble, its noise
floor, then the attached-only rule and the division's share, swept on the validation split's layering scenes.

    .venv/bin/python perf/omnimatte_settings.py [--data DIR[,DIR...]] [--method casper] [--samples 1,2,4,8]
                                                [--views 1,2,4] [--json OUT]

For every layering scene of `--data` (default: the validation split `val-v2`, built into genbench's cache the
first time; a few minutes; several datasets, comma-separated, are swept as one set), the bg and solo videos
are made by `--method` (as `genbench eval --task layering --method omnimatte` makes them) and read from the
ground truth; the starting alpha of `genbench.models.omnimatte.evidence.gather` (given the visible masks, as the
layering method is) is scored with the benchmark's soft alpha IoU against the true layers (mean over layers, frames
averaged as the benchmark does). Three sweeps, one after the other:

0. **the ensemble** (`removal_samples` seeds x `removal_views` views of the clip, `ensemble.py`), with the
   shipped start's other settings, on the method's inputs. The choice: the fewest members (samples x views;
   then the fewest samples) within 0.002 of the best IoU (each member is one more run of the removal model).
1. **the floor** (`noise_floor` sigmas, `min_floor` levels, `floor_shrink`; the shipped attached-only rule and
   share), on the method's inputs and on the true bg and solos degraded by 3 levels of noise (`degrade.py`,
   seeded; what `perf/omnimatte.py` measures the fit on), and on the exact ones. The choice: among the settings
   within 0.002 of the best IoU on the method's inputs, the one best on the degraded inputs, ties broken by the
   exact ones (the method's inputs barely tell the floors apart; the others show which floor loses least of
   the effects it keeps). On the chosen ensemble's inputs, as is the next sweep.
2. **attached-only and share** (None: no division) at the chosen floor, on the method's inputs and on the exact
   bg and solos. The choice: the highest IoU on the method's inputs, or the smallest share within 0.002 of it
   with the same `attached_only` (a larger share costs more on exact inputs).

`--json` writes the three sweeps and the choices. The shipped `OmnimatteConfig` follows
docs/results/layering-validation-omnimatte-settings.json (tested), made on the layering validation set: val-v2's
6 Kubric scenes and 24 more rendered with its settings from the next validation seed,

    genbench render --scenes 24 --seed 6086 --resolution 96 --frames 8 --samples 32 --out val-layering
    .venv/bin/python perf/omnimatte_settings.py --data val,val-layering --samples 1,2,4 --views 1,2 --workers 2 \
        --json docs/results/layering-validation-omnimatte-settings.json

(`val`: the validation split; `--workers`: processes drawing the removal model's members).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

SHARES = (None, 0.0, 0.25, 0.5, 0.75, 1.0)
NOISE_FLOORS = (3.0, 4.0, 5.0, 6.0)  # sigmas
MIN_FLOORS = (2, 3)  # uint8 levels
SHRINKS = (1.0, 0.5, 0.25, 0.0)
DEGRADED = "noise 3/255"  # the level of `degrade.LEVELS` the floor is also judged on
TOLERANCE = 0.002  # settings this close to the best IoU on the method's inputs count as level with it
SAMPLES = (1, 2, 4, 8)  # removal_samples swept
VIEW_COUNTS = (1, 2, 4)  # removal_views swept


def choose(rows: list[dict]) -> dict:
    """The row with the highest IoU on the removal method's inputs, or the smallest share within TOLERANCE
    of it with the same attached_only (a larger share costs more on exact inputs)."""
    best = max(rows, key=lambda r: r["iou"])
    near = [r for r in rows if r["attached_only"] == best["attached_only"] and r["share"] is not None
            and r["iou"] >= best["iou"] - TOLERANCE] if best["share"] is not None else [best]
    return min(near, key=lambda r: r["share"])


def choose_ensemble(rows: list[dict]) -> dict:
    """The fewest members (then the fewest samples) among the rows within TOLERANCE of the highest IoU."""
    best = max(r["iou"] for r in rows)
    return min((r for r in rows if r["iou"] >= best - TOLERANCE), key=lambda r: (r["samples"] * r["views"],
                                                                                   r["samples"]))


def choose_floor(rows: list[dict]) -> dict:
    """Among the rows within TOLERANCE of the highest IoU on the method's inputs, the best on degraded inputs,
    then on exact ones."""
    best = max(r["iou"] for r in rows)
    return max((r for r in rows if r["iou"] >= best - TOLERANCE), key=lambda r: (r["degraded_iou"], r["exact_iou"]))


def floor_settings(row: dict) -> dict:
    """The OmnimatteConfig fields of a floor sweep row."""
    return {"noise_floor": row["noise_floor"], "min_floor": row["min_floor_levels"] / 255.0,
            "floor_shrink": row["floor_shrink"]}


_method = None  # a worker's removal method (`draw_members`)


def _start_worker(spec: str) -> None:
    global _method
    from genbench.models.omnimatte import sources

    _method = sources.removal_method(spec)


def _draw(scene: Path, drawn: list[tuple[int, int]]) -> tuple:
    """One scene's ground-truth inputs, and (sample, view) -> the bg and solo videos of that one member of the
    removal ensemble."""
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.ensemble import Member

    truth = sources.from_scene(scene, "gt")
    visible = {k: truth.visible == k for k in sorted(truth.solos)}
    return truth, {(s, v): sources.from_removal(truth.frames, visible, Member(_method, s, v)) for s, v in drawn}


def draw_members(scenes: list[Path], spec: str, method, drawn: list[tuple[int, int]], workers: int) -> Iterator:
    """Every scene's `_draw`, in order, made in this process with `method` or in `workers` processes (each with its
    own copy of `spec`'s method; a member depends only on its scene, seed and view, so the videos are the same)."""
    global _method
    if workers <= 1:
        _method = method
        for scene in scenes:
            yield _draw(scene, drawn)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(spec,)) as pool:
        yield from pool.map(_draw, scenes, [drawn] * len(scenes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="val",
                        help="datasets with layering scenes, comma-separated; val: the validation split (default)")
    parser.add_argument("--method", default="casper", help="the removal method making bg and solos")
    parser.add_argument("--samples", default=",".join(map(str, SAMPLES)), help="removal_samples to sweep")
    parser.add_argument("--views", default=",".join(map(str, VIEW_COUNTS)), help="removal_views to sweep")
    parser.add_argument("--workers", type=int, default=1, help="processes running the removal method (default 1)")
    parser.add_argument("--json", help="write the sweeps and the choices here")
    args = parser.parse_args()

    from genbench.benchmark.harness import mean_alpha_iou
    from genbench.benchmark.split import validation_split
    from genbench.frames import read_video
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.degrade import LEVELS, degrade_inputs
    from genbench.models.omnimatte.ensemble import draws_noise
    from genbench.models.omnimatte.evidence import gather
    from genbench.models.views import average

    datasets = [validation_split() if d == "val" else Path(d) for d in args.data.split(",")]
    sample_counts = tuple(int(n) for n in args.samples.split(","))
    view_counts = tuple(int(n) for n in args.views.split(","))
    scenes = sources.scenes_with_layers(*datasets)
    if not scenes:
        sys.exit(f"{', '.join(map(str, datasets))}: no scene with ground-truth layers")
    level = next(lv for lv in LEVELS if lv.name == DEGRADED)
    method = sources.removal_method(args.method)
    samples_drawn = max(sample_counts) if draws_noise(method) else 1
    drawn = [(s, v) for v in range(max(view_counts)) for s in range(samples_drawn)]
    prepared, members = [], []  # members: per scene, (sample, view) -> that member's bg and solos
    drawing = draw_members(scenes, args.method, method, drawn, args.workers)
    for n, (scene, (truth, made)) in enumerate(zip(scenes, drawing, strict=True)):
        ids = sorted(truth.solos)
        visible = {k: truth.visible == k for k in ids}
        bg, solos = degrade_inputs(truth.bg, truth.solos, level, seed=1000 * n)
        members.append(made)
        inputs = {"exact": truth, "degraded": replace(truth, bg=bg, solos=solos)}
        layers = {k: read_video(scene / "layers" / str(k))[..., 3] for k in ids}
        prepared.append((truth.frames, visible, inputs, layers))
        print(f"{scene.name}: {len(ids)} layer(s), {len(members[-1])} removals of each video", flush=True)

    def use_ensemble(samples: int, views: int) -> None:
        """The method's inputs of every scene: the mean of the first `samples` x `views` members."""
        for (_, _, inputs, _), made in zip(prepared, members, strict=True):
            chosen = [made[(s, v)] for v in range(views) for s in range(min(samples, samples_drawn))]
            inputs[args.method] = replace(chosen[0], bg=average([m.bg for m in chosen]),
                                          solos={k: average([m.solos[k] for m in chosen]) for k in chosen[0].solos})

    def mean_iou(config: OmnimatteConfig, source: str) -> float:
        scores = []
        for frames, visible, inputs, layers in prepared:
            made = inputs[source]
            start = gather(made.bg, {k: made.solos[k] for k in layers}, visible, frames, **config.evidence_settings())
            for k in layers:
                scores.append(mean_alpha_iou(start[k].alpha, layers[k]))
        return round(float(np.mean(scores)), 4)

    ensemble_rows = []
    for samples, views in itertools.product(sample_counts if samples_drawn > 1 else (1,), view_counts):
        use_ensemble(samples, views)
        ensemble_rows.append({"samples": samples, "views": views, "iou": mean_iou(OmnimatteConfig(), args.method)})
    ensemble = choose_ensemble(ensemble_rows)
    use_ensemble(ensemble["samples"], ensemble["views"])
    floor_rows = []
    for noise, min_floor, shrink in itertools.product(NOISE_FLOORS, MIN_FLOORS, SHRINKS):
        row = {"noise_floor": noise, "min_floor_levels": min_floor, "floor_shrink": shrink}
        config = replace(OmnimatteConfig(), **floor_settings(row))
        floor_rows.append({**row, "iou": mean_iou(config, args.method), "degraded_iou": mean_iou(config, "degraded"),
                           "exact_iou": mean_iou(config, "exact")})
    floor = choose_floor(floor_rows)
    at_floor = replace(OmnimatteConfig(), **floor_settings(floor))
    rows = []
    for attached, share in itertools.product((False, True), SHARES):
        config = replace(at_floor, attached_only=attached, share=share)
        rows.append({"attached_only": attached, "share": share, "iou": mean_iou(config, args.method),
                     "exact_iou": mean_iou(config, "exact")})
    chosen = choose(rows)
    layer_count = sum(len(p[3]) for p in prepared)
    names = " + ".join(data.name for data in datasets)
    print(f"\nstarting alpha IoU on {names} ({layer_count} layers), {args.method}'s bg and solos, the mean of "
          "samples x views:")
    for row in ensemble_rows:
        mark = "  <- chosen" if row is ensemble else ""
        print(f"  {row['samples']} x {row['views']}: {row['iou']:.4f}{mark}")
    print(f"\nwith that ensemble's bg and solos | {DEGRADED} | exact:")
    for row in floor_rows:
        mark = "  <- chosen" if row is floor else ""
        print(f"  noise {row['noise_floor']} sigma, least {row['min_floor_levels']} levels, shrink "
              f"{row['floor_shrink']}: {row['iou']:.4f} | {row['degraded_iou']:.4f} | {row['exact_iou']:.4f}{mark}")
    print(f"\nat that floor, {args.method}'s bg and solos | exact ones:")
    for row in rows:
        mark = "  <- chosen" if row is chosen else ""
        print(f"  attached_only={row['attached_only']!s:5}  share={row['share']!s:5}  "
              f"{row['iou']:.4f} | {row['exact_iou']:.4f}{mark}")
    if args.json:
        record = {"data": names, "scenes": len(scenes), "layers": layer_count, "method": args.method,
                  "tolerance": TOLERANCE, "degraded": DEGRADED, "ensemble_rows": ensemble_rows,
                  "ensemble_chosen": {"removal_samples": ensemble["samples"], "removal_views": ensemble["views"]},
                  "floor_rows": floor_rows, "floor_chosen": floor_settings(floor),
                  "rows": rows, "chosen": {"attached_only": chosen["attached_only"], "share": chosen["share"]}}
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
