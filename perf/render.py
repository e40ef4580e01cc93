"""Throughput of `genbench render` next to a naive reference, in one command.

    .venv/bin/python perf/render.py                       # ~3 minutes on 2 cores: 2 scenes x 4 frames
    .venv/bin/python perf/render.py --scenes 8 --frames 24 --naive-frames 4  # the preset's 24 frames
    .venv/bin/python perf/render.py --threads-vs-processes  # also: 1 process x 2 threads vs 2 x 1
    .venv/bin/python perf/render.py --looks-cost --frames 24  # instead: seconds per frame, v1 looks vs HDRIs/textures
    .venv/bin/python perf/render.py --kinds-cost --frames 8   # instead: seconds per frame with and without kinds
    .venv/bin/python perf/render.py --profile --scenes 4      # instead: scenes/hour/core at 1 and 2 workers, overheads

Three pipelines render the same scenes (seed, index), interleaved scene by scene so a busy
machine slows them alike:

- naive: what the public Generative Omnimatte generator does: every variant (full, bg,
  minus_k, solo_k) rendered from scratch (a fresh Blender scene, no persistent data), every
  frame, whole, at fixed samples;
- fast, fixed samples: this generator's path (persistent data, identical renders done once,
  crop windows) at the naive's fixed samples. Its frames, layers and masks are compared
  pixel by pixel with the naive's: equal bytes mean equal ground-truth exactness (a crop
  window can only make a difference where the naive's effect mask caught a render-noise
  blob outside every bound of the object's effects);
- fast, preset: the preset as `genbench render` runs it (adaptive sampling); its pairs are
  exact by the same construction, and its noise floor and violation rate are printed beside
  the naive's (skipped when the preset renders at fixed samples, as `default` does).

Rates are scene pairs (samples: one per target object, plus "remove all") per hour, from
wall time and from this process's CPU time (less sensitive to other jobs on the machine).

`--looks-cost` measures something else instead: what the looks beyond v1 cost. The fast path
renders the same scenes twice, with the v1 looks (`--worlds sky,gradient --surfaces plain,pattern`)
and with the preset's (HDRI worlds, procedural and photo textures); a scene keeps its objects,
motion and camera in both (the looks draw from their own random stream). It prints seconds per
frame of each and their ratio (the goal: at most 1.5x at the default preset's 64 spp).

`--kinds-cost` measures what the effect kinds cost: the fast path renders the same scenes with
and without the light passes (`RenderOptions(kinds=...)`, interleaved in this process), checks
that their RGB videos are byte-identical, and prints seconds per frame of each, their ratio and
the seconds the kind analysis itself took.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from genbench.generators.kubric.make import RenderOptions, make_scene
from genbench.generators.kubric.settings import V1_LOOKS, RenderSettings, resolve_settings
from genbench.scene import Scene


@dataclass
class Tally:
    name: str
    wall: float = 0.0
    cpu: float = 0.0
    scenes: int = 0
    pairs: int = 0
    renders: int = 0
    frames_rendered: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    noise_floor: list[float] = field(default_factory=list)
    violations: list[float] = field(default_factory=list)

    def add(self, scene: Scene, wall: float, cpu: float, scale: float = 1.0) -> None:
        """Count one scene; `scale` > 1 extrapolates its rendering time to more frames (build time stays)."""
        meta = scene.meta
        timings = meta.run.get("timings", {})
        build = timings.get("build", 0.0)
        self.wall += build + (wall - build) * scale
        self.cpu += build + (cpu - build) * scale
        self.scenes += 1
        self.pairs += len(meta.samples)
        self.renders += round(meta.render["renders"] * scale)
        self.frames_rendered += meta.render["rendered_frames"] * scale
        for key, value in timings.items():
            self.timings[key] = self.timings.get(key, 0.0) + value
        for stats in meta.quality["objects"].values():
            if stats["noise_floor_psnr"] is not None:
                self.noise_floor.append(stats["noise_floor_psnr"])
            self.violations.append(stats["violations"])

    def rate(self, seconds: float) -> float:
        return self.pairs / seconds * 3600 if seconds > 0 else float("nan")


def timed(settings: RenderSettings, index: int, options: RenderOptions) -> tuple[Scene, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    scene = make_scene(settings, index, options)
    return scene, time.perf_counter() - wall, time.process_time() - cpu


def differing(a: Scene, b: Scene) -> tuple[int, int, int]:
    """(pixels that differ, pixels compared, largest difference in levels) over every video, layer and mask
    of `a` against the same frames of `b` (b may have more frames)."""
    t = a.meta.num_frames
    pairs = [(a.rgb[n], b.rgb[n][:t]) for n in a.rgb] + [(a.layers[k], b.layers[k][:t]) for k in a.layers]
    pairs.append((a.visible[..., None], b.visible[:t, ..., None]))
    count = total = largest = 0
    for x, y in pairs:
        diff = np.abs(x.astype(np.int16) - y.astype(np.int16)).max(axis=-1)
        count, total, largest = count + int((diff > 0).sum()), total + diff.size, max(largest, int(diff.max()))
    return count, total, largest


def write_picture(scene: Scene | None, path: str) -> None:
    """Frames 0 and T/2 of full | minus_k | layer k | bg | trimask for the scene's first target k."""
    from PIL import Image

    from genbench import contract
    from genbench.preview import strip
    from genbench.trimask import trimask

    if scene is None:
        return
    k = scene.meta.layers[0]
    frames = strip([scene.rgb[contract.FULL], scene.rgb[contract.minus_video(k)], scene.layers[k],
                    scene.rgb[contract.BG], trimask(scene.visible, [k])],
                   ["full", contract.minus_video(k), f"layer {k}", "bg", "trimask"])
    Image.fromarray(np.concatenate([frames[0], frames[len(frames) // 2]], axis=0)).save(path)


def paired_cost(runs: dict[str, tuple[RenderSettings, RenderOptions]], indices: list[int],
                describe: Any = None) -> tuple[dict[str, Any], dict[str, dict[int, Scene]]]:
    """Seconds per frame (wall and CPU) of two pipelines (base first) on `indices`, interleaved scene by
    scene, their ratios (second / first), and the scenes. describe(scene) -> a line's words about it."""
    seconds = {name: [0.0, 0.0] for name in runs}
    scenes: dict[str, dict[int, Scene]] = {name: {} for name in runs}
    for i in indices:
        for name, (s, options) in runs.items():
            scene, wall, cpu = timed(s, i, options)
            seconds[name][0] += wall
            seconds[name][1] += cpu
            scenes[name][i] = scene
            words = describe(scene) if describe else ""
            print(f"  scene {i}, {name}: {words}{scene.meta.render['rendered_frames']:.1f} frames' pixels rendered, "
                  f"{wall:.1f} s", flush=True)
    frames = next(iter(runs.values()))[0].frames * len(indices)
    out: dict[str, Any] = {name: {"s_per_frame_wall": round(w / frames, 3), "s_per_frame_cpu": round(c / frames, 3)}
                           for name, (w, c) in seconds.items()}
    base, other = seconds.values()
    out["ratio_wall"], out["ratio_cpu"] = round(other[0] / base[0], 3), round(other[1] / base[1], 3)
    return out, scenes


def looks_cost(settings: RenderSettings, indices: list[int], threads: int) -> dict[str, Any]:
    """Seconds per frame (wall and CPU) of the fast path on `indices` with the v1 looks and with `settings`'
    own, interleaved scene by scene, and their ratios."""
    def describe(scene: Scene) -> str:
        world, floor = scene.meta.spec["world"], scene.meta.spec["floor"]["texture"]
        return f"world {world['kind']} {world.get('file', '')}, floor {floor['kind'] if floor else 'plain'}, "

    options = RenderOptions(threads=threads)
    runs = {"v1 looks": (replace(settings, **V1_LOOKS), options), "preset looks": (settings, options)}
    return paired_cost(runs, indices, describe)[0]


def kinds_cost(settings: RenderSettings, indices: list[int], threads: int) -> dict[str, Any]:
    """Seconds per frame of the fast path on `indices` without and with the effect kinds (light passes and
    their analysis), interleaved scene by scene; their ratios; the analysis' own seconds per frame; and
    whether every RGB video came out byte-identical."""
    def describe(scene: Scene) -> str:
        return f"kinds {scene.meta.effects or '-'}, " if scene.meta.effects else ""

    runs = {"without kinds": (settings, RenderOptions(threads=threads, kinds=False)),
            "with kinds": (settings, RenderOptions(threads=threads, kinds=True))}
    out, scenes = paired_cost(runs, indices, describe)
    without, with_kinds = scenes["without kinds"], scenes["with kinds"]
    out["rgb_identical"] = all(np.array_equal(without[i].rgb[name], with_kinds[i].rgb[name])
                               for i in indices for name in without[i].rgb)
    analysis = sum(s.meta.run["timings"].get("kinds", 0.0) for s in with_kinds.values())
    out["analysis_s_per_frame"] = round(analysis / (settings.frames * len(indices)), 4)
    out["extra_s_per_frame_wall"] = round(out["with kinds"]["s_per_frame_wall"]
                                          - out["without kinds"]["s_per_frame_wall"], 3)
    return out


def threads_vs_processes(settings: RenderSettings, indices: list[int]) -> dict[str, float]:
    """Seconds to render `indices` one at a time with 2 threads, and two at a time with 1 thread each."""
    start = time.perf_counter()
    for i in indices:
        make_scene(settings, i, RenderOptions(threads=2))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:  # bpy is loaded here
        list(pool.map(make_scene, [settings] * len(indices), indices, [RenderOptions(threads=1)] * len(indices)))
    return {"1 process x 2 threads": serial, "2 processes x 1 thread": time.perf_counter() - start}


PAIRED_COSTS = {  # --looks-cost / --kinds-cost: the function, its two pipelines' names, the summary's wording
    "looks": (looks_cost, ("v1 looks", "preset looks"), "preset looks / v1 looks"),
    "kinds": (kinds_cost, ("without kinds", "with kinds"), "with / without kinds"),
}


def report_paired_cost(what: str, preset: RenderSettings, args: argparse.Namespace) -> int:
    """Run one of `PAIRED_COSTS` on the chosen scenes and print (and optionally write) its figures."""
    function, names, ratio = PAIRED_COSTS[what]
    indices = list(range(args.first, args.first + args.scenes))
    print(f"{what} cost, preset {preset.preset}: {preset.resolution}x{preset.resolution}, {preset.frames} frames, "
          f"{preset.samples} spp; scenes {indices}; threads {args.threads or 'all'}", flush=True)
    cost = function(preset, indices, args.threads)
    for name in names:
        print(f"{name:13s} {cost[name]['s_per_frame_wall']:7.3f} s/frame wall {cost[name]['s_per_frame_cpu']:7.3f} "
              "s/frame CPU")
    line = f"{ratio}: {cost['ratio_wall']:.2f}x wall, {cost['ratio_cpu']:.2f}x CPU"
    if what == "kinds":
        line += (f", {cost['extra_s_per_frame_wall']:+.3f} s/frame wall (of which the kind analysis "
                 f"{cost['analysis_s_per_frame']:.3f}); RGB byte-identical: {cost['rgb_identical']}")
    print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": preset.to_dict(), "scenes": indices, f"{what}_cost": cost}, f, indent=2)
    return 0 if cost.get("rgb_identical", True) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--scenes", type=int, default=2, help="scenes per pipeline (default 2)")
    parser.add_argument("--first", type=int, default=0, help="first scene index (default 0)")
    parser.add_argument("--frames", type=int, default=4, help="frames per scene (default 4; the preset has more)")
    parser.add_argument("--naive-frames", type=int, help="render only this many frames with the naive reference and "
                        "scale its rendering time to --frames (it renders every frame alike); default: --frames")
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="Cycles threads (default: all cores)")
    parser.add_argument("--threads-vs-processes", action="store_true")
    parser.add_argument("--looks-cost", action="store_true", help="instead: seconds per frame with the v1 looks "
                        "and with the preset's HDRIs and textures (fast path, same scenes)")
    parser.add_argument("--kinds-cost", action="store_true", help="instead: seconds per frame with and without the "
                        "effect kinds (light passes and their analysis; fast path, same scenes, same RGB bytes)")
    parser.add_argument("--profile", action="store_true", help="instead: `genbench render` with 1 and 2 worker "
                        "processes, scenes per hour per core and the per-scene overhead (perf/render_profile.py)")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--preview", help="also write a PNG of the first scene (full, minus_k, layer, bg, trimask)")
    args = parser.parse_args(argv)

    preset = resolve_settings(args.preset, seed=args.seed, frames=args.frames, resolution=args.resolution,
                              samples=args.samples)
    fixed = replace(preset, adaptive_threshold=0.0)
    if args.profile:
        from render_profile import print_profile, profile  # perf/ is this script's folder

        print(f"profile, preset {preset.preset}: {preset.resolution}x{preset.resolution}, {preset.frames} frames, "
              f"{preset.samples} spp; {args.scenes} scenes per worker count", flush=True)
        result = profile(preset, args.scenes)
        print_profile(result)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"settings": preset.to_dict(), "profile": result}, f, indent=2)
        return 0
    if args.looks_cost or args.kinds_cost:
        return report_paired_cost("looks" if args.looks_cost else "kinds", preset, args)
    naive_frames = min(args.naive_frames or preset.frames, preset.frames)
    naive_settings = replace(fixed, frames=naive_frames)
    scale = preset.frames / naive_frames
    tallies = {"naive": Tally("naive: from scratch per variant, fixed samples"),
               "fixed": Tally("fast, fixed samples (same bytes as naive)"),
               "fast": Tally(f"fast, preset '{preset.preset}' (adaptive {preset.adaptive_threshold})")}
    if preset == fixed:  # the preset renders at fixed samples: "fast, fixed" is the preset
        del tallies["fast"]
    diffs = []
    indices = list(range(args.first, args.first + args.scenes))
    print(f"preset {preset.preset}: {preset.resolution}x{preset.resolution}, {preset.frames} frames, "
          f"{preset.samples} spp; scenes {indices}; threads {args.threads or 'all'}", flush=True)
    first: Scene | None = None
    for i in indices:
        naive, wall, cpu = timed(naive_settings, i, RenderOptions(threads=args.threads, naive=True, crop=False))
        tallies["naive"].add(naive, wall, cpu, scale)
        fast_fixed, wall, cpu = timed(fixed, i, RenderOptions(threads=args.threads))
        tallies["fixed"].add(fast_fixed, wall, cpu)
        diffs.append(differing(naive, fast_fixed))
        first = first or fast_fixed
        if "fast" in tallies:
            fast, wall, cpu = timed(preset, i, RenderOptions(threads=args.threads))
            tallies["fast"].add(fast, wall, cpu)
        so_far = ", ".join(f"{k} {t.wall:.0f} s" for k, t in tallies.items())
        print(f"  scene {i}: {len(naive.meta.object_ids)} objects, {len(naive.meta.samples)} pairs, camera "
              f"{naive.meta.spec['camera']['motion']}, objects {naive.meta.spec['scene_motion']}: {so_far} so far; "
              f"fast (fixed) vs naive: {diffs[-1][0]} of {diffs[-1][1]} pixels differ, by at most {diffs[-1][2]} "
              "levels", flush=True)

    base = tallies["naive"]
    rows = []
    print(f"\n{'pipeline':58s} {'pairs/h wall':>12s} {'pairs/h cpu':>11s} {'x naive':>8s} {'renders':>8s} "
          f"{'frames':>7s} {'noise dB':>9s} {'violations':>10s}")
    for t in tallies.values():
        row = {"pipeline": t.name, "scenes": t.scenes, "pairs": t.pairs, "wall_s": round(t.wall, 2),
               "cpu_s": round(t.cpu, 2), "pairs_per_hour_wall": round(t.rate(t.wall), 1),
               "pairs_per_hour_cpu": round(t.rate(t.cpu), 1), "speedup_wall": round(base.wall / t.wall, 2),
               "speedup_cpu": round(base.cpu / t.cpu, 2), "renders": t.renders,
               "frames_rendered": round(t.frames_rendered, 2),
               "noise_floor_psnr": round(float(np.mean(t.noise_floor)), 2) if t.noise_floor else None,
               "violations": round(float(np.mean(t.violations)), 6) if t.violations else 0.0,
               "timings": {k: round(v, 2) for k, v in t.timings.items()}}
        rows.append(row)
        print(f"{t.name:58s} {row['pairs_per_hour_wall']:12.0f} {row['pairs_per_hour_cpu']:11.0f} "
              f"{row['speedup_wall']:7.2f}x {t.renders:8d} {t.frames_rendered:7.1f} "
              f"{row['noise_floor_psnr'] or float('nan'):9.2f} {row['violations']:10.5f}")
    changed, compared = sum(d[0] for d in diffs), sum(d[1] for d in diffs)
    print(f"\nfast (fixed samples) vs naive, every video, layer and mask pixel of {naive_frames} frames: {changed} of "
          f"{compared} differ ({changed / max(compared, 1):.2e}), by at most {max(d[2] for d in diffs)} levels")
    if scale != 1:
        print(f"naive: {naive_frames} of {preset.frames} frames rendered, rendering time scaled x{scale:.2f}")
    print("time split (s): " + "; ".join(f"{t.name.split(':')[0].split(',')[0]} {key}: "
                                         + ", ".join(f"{k} {v:.1f}" for k, v in t.timings.items() if k != "total")
                                         for key, t in tallies.items()))
    result: dict[str, Any] = {"settings": preset.to_dict(), "scenes": indices, "pipelines": rows,
                              "naive_frames": naive_frames, "fixed_vs_naive_differing_pixels": changed,
                              "compared_pixels": compared}
    if args.threads_vs_processes:
        result["threads_vs_processes_s"] = split = threads_vs_processes(preset, indices[:2] or [0, 1])
        print("threads vs processes (s): " + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))
    if args.preview:
        write_picture(first, args.preview)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
