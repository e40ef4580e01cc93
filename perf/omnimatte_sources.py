"""Where the omnimatte layers lose alpha IoU: the starting alpha from each pairing of Casper's and the true bg/solos,
and how much of the truth the input video itself shows over Casper's bg.

    .venv/bin/python perf/omnimatte_sources.py [--data DIR] [--method casper] [--figure PNG]

On every layering scene of a split (default: the shipped mini split), the bg and solo videos are made by `--method`
(the way `genbench eval --task layering --method omnimatte` makes them: the mean of the shipped ensemble's samples
and views) and read from the ground truth; the starting alpha of `genbench.models.omnimatte.evidence.gather` (what
the fit starts from, no fitting here, with the shipped settings), given the visible masks as the layering method is,
is scored with the benchmark's soft alpha IoU against the true layers, for four pairings: method bg + method solos
(what omnimatte gets), true bg + method solos, method bg + true solos, and true bg + true solos (the start's
ceiling), for the first and the last also with the attached-only rule's other choice (no division), and for the
first given the amodal masks (ground truth no method is given) instead of the visible ones. Beside them: the visible
mask as alpha (the registered `mask-alpha`), the amodal mask as alpha (ground truth a method is not given), the start
refined by the learned start trained for the method (`refine.py`; what the fit starts from, when there is one), and the
input's own alpha over the method's bg (`evidence.input_alpha`: all layers together, off the objects) handed to the
layers three ways: each pixel to the nearest visible object; to the layer whose solo video shows the most alpha
there (the nearest object where none does); and an oracle that gives each layer as much of it as its true alpha has
there (no method can do this; it bounds what any division of the input's alpha over that bg can reach). And the
start with its input's side made exact: the input's alpha over the true bg, each solo's over the method's bg (which
of the two halves binds). Printed: the mean over layers of the per-layer IoU (frames averaged as the benchmark
does). `--figure` also writes a picture of each scene's middle frame: the input, the method's bg, the true bg, the
true layers' alpha and the start's (all layers together, the largest per pixel), so one sees where the method's
clean plate keeps an effect the input then cannot show over it.

Last, where the true layers' alpha is at least 0.3 off the objects (the strong part of shadows and
reflections), the mean alpha there (over all layers' such pixels) of: the truth, the start, each solo video
over the method's bg, the input over the method's bg, and the input over the true bg (the last three by
`minimal_alpha` with no floor): how much of a strong effect the clean plate keeps (the input shows less over
it) and how much the solo videos lose on top of that.

And where the start misses: off the objects, the alpha it has too much and too little against the true layers
(summed over all layers' pixels), and of the too little, the part where a clearly visible effect (true alpha at
least 0.1) gets no alpha at all, split by what the evidence shows there beyond the shipped floor: neither the solo
video nor the input over the method's bg (the clean plate keeps the effect, or the solo and the input both show it
too faintly); the input only (the solo video lost the object's own effect); the solo only (the input shows nothing
over the plate there); both (a patch the attached-only rule dropped).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np


def _figure_row(truth, method_bg: np.ndarray, layers: dict[int, np.ndarray], start: dict[int, np.ndarray],
                method: str) -> np.ndarray:
    """One scene's middle frame: input | method bg | true bg | true alpha | start alpha, titled (uint8 RGB)."""
    from genbench.preview import strip

    t = len(truth.frames) // 2
    true_alpha = np.max(np.stack(list(layers.values())), axis=0)
    start_alpha = np.round(np.clip(np.max(np.stack(list(start.values())), axis=0), 0, 1) * 255).astype(np.uint8)
    videos = [truth.frames, method_bg, truth.bg, true_alpha, start_alpha]
    labels = ["input", f"{method} bg", "true bg", "true alpha", "start alpha"]
    return strip([v[t:t + 1] for v in videos], labels)[0]


MISSED = "no alpha where the true alpha is at least 0.1"  # the part of the too little that `miss_causes` splits


def miss_causes(truth: np.ndarray, start: np.ndarray, solo: np.ndarray, shown: np.ndarray, off: np.ndarray
                ) -> dict[str, float]:
    """One layer's alpha mass (sums over pixels) off the objects (`off`): the start's too much and too little against
    `truth`, and the too little where truth >= 0.1 and the start is 0, by what shows a change there: `solo` (the solo
    video's alpha over bg with the floor) and `shown` (the input's). All (T, H, W) float in [0, 1]."""
    missed = off & (truth >= 0.1) & (start == 0)
    solo_shows, input_shows = solo > 0, shown > 0
    gap = truth - start
    causes = {"neither the solo nor the input shows a change there": ~solo_shows & ~input_shows,
              "the input shows one, the solo does not": ~solo_shows & input_shows,
              "the solo shows one, the input does not": solo_shows & ~input_shows,
              "both show one (dropped as detached)": solo_shows & input_shows}
    return {"too much": float(np.clip(-gap, 0, None)[off].sum()), "too little": float(np.clip(gap, 0, None)[off].sum()),
            MISSED: float(truth[missed].sum()),
            **{f"  {name}": float(truth[missed & where].sum()) for name, where in causes.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a dataset with layering scenes (default: the shipped mini split)")
    parser.add_argument("--method", default="casper", help="the removal method making bg and solos")
    parser.add_argument("--figure", help="write the scenes' middle frames here (PNG; see above)")
    args = parser.parse_args()

    from genbench.benchmark.harness import mean_alpha_iou
    from genbench.benchmark.split import SHIPPED
    from genbench.frames import read_video
    from genbench.models.omnimatte import sources
    from genbench.models.omnimatte.config import OmnimatteConfig
    from genbench.models.omnimatte.evidence import attached, gather, input_alpha, largest, nearest_object, quiet_pixels
    from genbench.models.omnimatte.refine import refine_evidence, shipped_refiner
    from genbench.pixels import minimal_alpha

    data = Path(args.data) if args.data else SHIPPED
    scenes = sources.scenes_with_layers(data)
    if not scenes:
        sys.exit(f"{data}: no scene with ground-truth layers")
    config = OmnimatteConfig()
    refiner = shipped_refiner(args.method) if config.refine else None
    plain = replace(config, attached_only=False, share=None)
    other = replace(config, attached_only=not config.attached_only, share=None)  # the attached-only rule's other choice
    other_label = "with the attached-only rule" if other.attached_only else "without attached-only and division"
    scores: dict[str, list[float]] = {}
    layer_count = 0
    rows: list[np.ndarray] = []
    strong: dict[str, float] = {}  # sums of alpha over the strong-effect pixels (see the docstring)
    strong_pixels = 0
    misses: dict[str, float] = {}  # alpha mass where the start misses (see the docstring)

    def add(name: str, alpha: np.ndarray, truth: np.ndarray) -> None:
        scores.setdefault(name, []).append(mean_alpha_iou(alpha, truth))

    for scene in scenes:
        truth = sources.from_scene(scene, "gt")
        made = sources.from_scene(scene, args.method, config.removal_samples, config.removal_views)
        ids = sorted(truth.solos)
        layer_count += len(ids)
        layers = {k: read_video(scene / "layers" / str(k))[..., 3] for k in ids}
        own = f"{args.method} bg + {args.method} solos"
        pairings = {own: (made.bg, made.solos),
                    f"true bg + {args.method} solos": (truth.bg, made.solos),
                    f"{args.method} bg + true solos": (made.bg, truth.solos),
                    "true bg + true solos": (truth.bg, truth.solos)}
        visible = {k: truth.visible == k for k in ids}
        starts = {}
        for name, (bg, solos) in pairings.items():
            starts[name] = gather(bg, {k: solos[k] for k in ids}, visible, truth.frames, **config.evidence_settings())
            for k in ids:
                add(name, starts[name][k].alpha, layers[k])
        for name in (own, "true bg + true solos"):
            bg, solos = pairings[name]
            other_start = gather(bg, {k: solos[k] for k in ids}, visible, truth.frames, **other.evidence_settings())
            for k in ids:
                add(f"{name}, {other_label}", other_start[k].alpha, layers[k])
        plain_start = starts[own] if plain == config else gather(  # the solo alphas that divide the input's below
            made.bg, {k: made.solos[k] for k in ids}, visible, truth.frames, **plain.evidence_settings())
        amodal = gather(made.bg, {k: made.solos[k] for k in ids}, {k: truth.masks[k] for k in ids}, truth.frames,
                        **config.evidence_settings())
        for k in ids:
            add(f"{own}, given the amodal masks (ground truth)", amodal[k].alpha, layers[k])
        if refiner is not None:
            refined = refine_evidence(starts[own], truth.frames, made.bg, made.solos, visible, refiner.net)
            for k in ids:
                add(f"{own}, refined by the learned start", refined[k].alpha, layers[k])
        off = quiet_pixels(visible, made.bg.shape[:3], 0)
        quiet = quiet_pixels(visible, made.bg.shape[:3], config.quiet_margin)
        floor = {"noise": config.noise_floor, "min_floor": config.min_floor, "shrink": config.floor_shrink}
        shown = input_alpha(truth.frames, made.bg, quiet, **floor) * off
        nearest = nearest_object(visible, ids)
        solo_alpha = np.stack([plain_start[k].alpha * off for k in ids])
        owners = {"to the nearest object": nearest, "to the solo showing most": largest(solo_alpha, nearest)}
        for i, k in enumerate(ids):
            add("visible mask as alpha (mask-alpha)", visible[k].astype(np.float64), layers[k])
            add("amodal mask as alpha (ground truth)", truth.masks[k].astype(np.float64), layers[k])
            for name, owner in owners.items():
                add(f"input over {args.method} bg, {name}", np.maximum(visible[k], shown * (owner == i)), layers[k])
            oracle = np.minimum(shown, layers[k] / 255.0)
            add(f"input over {args.method} bg, oracle division", np.maximum(visible[k], oracle), layers[k])
        over_method_bg = minimal_alpha(truth.frames / 255.0, made.bg / 255.0, 0.0)
        over_true_bg = minimal_alpha(truth.frames / 255.0, truth.bg / 255.0, 0.0)
        for k in ids:
            where = off & (layers[k] / 255.0 >= 0.3)
            strong_pixels += int(where.sum())
            for name, alpha in (("true layer", layers[k] / 255.0), ("start", starts[own][k].alpha),
                                (f"{args.method} solo over {args.method} bg",
                                 minimal_alpha(made.solos[k] / 255.0, made.bg / 255.0, 0.0)),
                                (f"input over {args.method} bg", over_method_bg), ("input over true bg", over_true_bg)):
                strong[name] = strong.get(name, 0.0) + float(alpha[where].sum())
        solo_only = gather(made.bg, {k: made.solos[k] for k in ids}, visible, None, **config.evidence_settings())
        shown_over_true = input_alpha(truth.frames, truth.bg, quiet, **floor)
        shown_over_true = attached(shown_over_true, ~off) if config.attached_only else shown_over_true
        for k in ids:  # which half binds: the start with the input's side made exact, the solos' left as they are
            add(f"{own}, the input's alpha over the true bg", np.where(
                off, np.minimum(solo_only[k].alpha, shown_over_true), solo_only[k].alpha), layers[k])
        for k in ids:
            truth_alpha, start = layers[k] / 255.0, np.round(starts[own][k].alpha * 255) / 255.0
            for name, mass in miss_causes(truth_alpha, start, solo_only[k].alpha, shown, off).items():
                misses[name] = misses.get(name, 0.0) + mass
        if args.figure:
            rows.append(_figure_row(truth, made.bg, layers, {k: starts[own][k].alpha for k in ids}, args.method))
        print(f"{scene.name}: {len(ids)} layer(s)", flush=True)
    if args.figure:
        from PIL import Image

        Image.fromarray(np.concatenate(rows)).quantize(256).save(args.figure, optimize=True)  # a third the size
        print(f"wrote {args.figure}")
    print(f"\nstarting alpha IoU on {data.name} ({layer_count} layers):")
    for name, values in scores.items():
        print(f"  {name:64s} {np.mean(values):.3f}")
    print(f"\nmean alpha where the true layer's is at least 0.3 off the objects ({strong_pixels} pixels):")
    for name, total in strong.items():
        print(f"  {name:64s} {total / max(strong_pixels, 1):.3f}")
    missed = misses[MISSED]
    print("\noff the objects, the start's alpha against the true layers' (alpha mass, pixels x alpha):")
    for name, total in misses.items():
        share = f"  ({100 * total / missed:.0f}%)" if name.startswith("  ") and missed > 0 else ""
        print(f"  {name:64s} {total:9.0f}{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
