"""One scene end to end: sample -> build in Blender -> simulate -> render variants -> exact GT -> Scene.

`SceneMaker(settings, options)` is the picklable per-scene task the runner (local pool or
Ray) calls with an index; `scene_id(settings, index)` names its folder. Frames depend only on
(settings, index) and the device kind (`render.device` in `meta.json`); what describes the run
(seconds, threads) and may differ between runs goes to `run.json`, never into `meta.json`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from genbench import contract
from genbench.generators.kubric.counterfactual import (
    changed_region,
    physics_paths,
    physics_samples,
    physics_trimasks,
    physics_worlds,
)
from genbench.generators.kubric.exact import ExactParams, effect_mask, make_exact
from genbench.generators.kubric.plan import RenderJob, plan_renders, scene_variants, variant_windows
from genbench.generators.kubric.region import ADAPTIVE_MARGIN, EffectBounds
from genbench.generators.kubric.settings import RenderSettings
from genbench.generators.kubric.simulate import Trajectory
from genbench.records import Instance, SampleSpec, SceneMeta
from genbench.scene import Scene

GENERATOR = "kubric"
POSE_DECIMALS = 6  # poses are rounded once, so meta.json holds exactly what was rendered
LOOKS_STREAM = 1  # spawn key of the random stream that worlds and surfaces beyond v1 draw from


@dataclass(frozen=True)
class RenderOptions:
    """How to render, not what: none of these changes a pixel except `device` (CPU vs GPU bytes).

    threads: Cycles threads per process (0 = all cores). naive: the reference pipeline of
    perf/render.py: a fresh Blender scene for every variant, no persistent data, every
    (variant, frame) rendered whole even when an identical one was already rendered.
    crop: render minus_k/solo_k/bg only in the window their effects can reach (`region.py`).
    kinds: also render the light passes of full and minus_k and split each object's effect mask into
    kinds (`kinds.py`: masks/effects/<k>/<kind>/, meta.json `effects`); the RGB bytes are the same either way.
    Runs with the v1 looks only (the v1 benchmark recipes) never measure kinds: they write what they always
    wrote, file for file (`measures_kinds`).
    """

    device: str = "auto"
    threads: int = 0
    naive: bool = False
    crop: bool = True
    kinds: bool = True


def measures_kinds(settings: RenderSettings, options: RenderOptions) -> bool:
    """Whether scenes of `settings` get effect kinds: asked for, and looks beyond v1 are on."""
    from genbench.generators.kubric.realism import realism_on

    return options.kinds and realism_on(settings)


def scene_id(settings: RenderSettings, index: int) -> str:
    return f"{GENERATOR}-s{settings.seed}-{index:06d}"


def sample_spec(settings: RenderSettings, index: int) -> dict[str, Any]:
    """The spec of scene `index`: a fixed function of (settings, index), the asset list and the HDRI and
    texture files.

    The v1 scene draws from ``SeedSequence((seed, index))``; the looks beyond v1 (`realism.dress_scene`)
    from its own stream, ``SeedSequence((seed, index), spawn_key=(LOOKS_STREAM,))``, so turning them on
    changes the world and surfaces only: objects, their motion, the camera and the lights stay.
    """
    from genbench.generators.kubric import media
    from genbench.generators.kubric.assets import list_assets
    from genbench.generators.kubric.realism import dress_scene, realism_on
    from genbench.generators.kubric.spec import sample_scene

    assets = list_assets(Path(settings.assets)) if settings.assets else []
    rng = np.random.default_rng(np.random.SeedSequence((settings.seed, index)))
    spec = sample_scene(settings, index, rng=rng, assets=assets)
    if not realism_on(settings):
        return spec
    looks = np.random.default_rng(np.random.SeedSequence((settings.seed, index), spawn_key=(LOOKS_STREAM,)))
    hdris = media.hdris(settings.hdri) if "hdri" in settings.worlds else ()
    textures = media.textures(settings.textures) if "photo" in settings.surfaces else ()
    return dress_scene(spec, settings, rng=looks, hdris=hdris, textures=textures)


@dataclass
class Renders:
    """Raw renders: video name -> (T, H, W, 3) uint8, index passes name -> (T, H, W) uint8, counters."""

    rgb: dict[str, np.ndarray]
    index: dict[str, np.ndarray]
    rendered: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T, H, W) bool: pixels rendered
    passes: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # name -> light pass -> (T, H, W) f16
    renders: int = 0
    pixels: float = 0.0  # rendered area in whole frames
    render_seconds: float = 0.0
    build_seconds: float = 0.0


def _run_jobs(blender: Any, jobs: list[RenderJob], camera: tuple[np.ndarray, np.ndarray],
              scene_poses: dict[int, tuple[np.ndarray, np.ndarray]], out: Renders,
              worlds: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] | None = None) -> None:
    size = blender.settings.resolution
    for job in jobs:
        t = job.frame
        poses = scene_poses if job.world is None else (worlds or {})[job.world]
        covered = np.zeros((size, size), bool)
        for rect in [] if job.windows is None else job.windows:
            covered[rect.y0:rect.y1, rect.x0:rect.x1] = True
        for name, frame in job.uses:
            out.rendered.setdefault(name, np.zeros((len(camera[0]), size, size), bool))[frame] = (
                True if job.windows is None else covered)
        if job.windows == []:
            continue  # nothing of these variants can differ from their reference here: filled below
        blender.pose((camera[0][t], camera[1][t]), {k: (poses[k][0][t], poses[k][1][t]) for k in job.visible})
        blender.show_only(job.visible)
        rgb = np.zeros((size, size, 3), np.uint8)
        ids = np.zeros((size, size), np.uint8) if job.index else None
        want = any(name in out.passes for name, _ in job.uses)
        passes: dict[str, np.ndarray] = {}
        for rect in [None] if job.windows is None else job.windows:
            part, part_ids, seconds = blender.render(index=job.index, rect=rect, passes=want)
            box = (slice(None), slice(None)) if rect is None else (slice(rect.y0, rect.y1), slice(rect.x0, rect.x1))
            rgb[box] = part[box]
            if ids is not None and part_ids is not None:
                ids[box] = part_ids[box]
            for pass_name, values in blender.last_passes.items():
                passes.setdefault(pass_name, np.zeros((size, size), np.float16))[box] = values[box]
            out.renders += 1
            out.pixels += 1.0 if rect is None else rect.area / size / size
            out.render_seconds += seconds
        for name, frame in job.uses:
            out.rgb[name][frame] = rgb
            if name in out.index and ids is not None:
                out.index[name][frame] = ids
            for pass_name, values in passes.items() if name in out.passes else ():
                out.passes[name][pass_name][frame] = values


def _fill_outside(jobs: list[RenderJob], out: Renders) -> None:
    """Outside a job's windows bg and minus_k equal full, and solo_k equals bg (the windows bound every change)."""
    for source in (contract.FULL, contract.BG):  # bg first: solo_k is filled from the filled bg
        reference = out.rgb[source]
        for job in jobs:
            if job.windows is None:
                continue
            inside = np.zeros(reference.shape[1:3], dtype=bool)
            for r in job.windows:
                inside[r.y0:r.y1, r.x0:r.x1] = True
            for name, frame in job.uses:
                if name == contract.FULL or (source == contract.BG) != name.startswith("solo_"):
                    continue
                out.rgb[name][frame][~inside] = reference[frame][~inside]
    full = out.passes.get(contract.FULL, {})
    for name, passes in out.passes.items():  # minus_k's light passes outside its windows: full's
        if name != contract.FULL and name in out.rendered:
            for pass_name, values in passes.items():
                values[~out.rendered[name]] = full[pass_name][~out.rendered[name]]


def render_variants(blender: Any, spec: dict[str, Any], settings: RenderSettings, camera: tuple[np.ndarray, np.ndarray],
                    poses: dict[int, tuple[np.ndarray, np.ndarray]], options: RenderOptions,
                    assets_root: Path | None, worlds: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] | None = None
                    ) -> Renders:
    """Render every variant of the scene with `blender` (a built BlenderScene).

    worlds: variant name -> the poses it renders instead of `poses` (minus_k of a physics counterfactual
    where k changes how others move; such a variant gets an index pass too).
    """
    from genbench.generators.kubric.blender import LIGHT_PASSES, BlenderScene

    ids = [o["id"] for o in spec["objects"]]
    worlds = worlds or {}
    variants = scene_variants(ids, spec["targets"],
                              frozenset(k for k in spec["targets"] if contract.minus_video(k) in worlds))
    t, size = settings.frames, settings.resolution
    out = Renders(rgb={v.name: np.zeros((t, size, size, 3), np.uint8) for v in variants},
                  index={v.name: np.zeros((t, size, size), np.uint8) for v in variants if v.index})
    if options.kinds:
        out.passes = {v.name: {p: np.zeros((t, size, size), np.float16) for p in LIGHT_PASSES}
                      for v in variants if v.kind in ("full", "minus")}
    if not options.naive:
        windows = None
        if options.crop:
            bounds = EffectBounds(spec, {k: (v.min(axis=0), v.max(axis=0)) for k, v in blender.vertices.items()})
            margin = settings.effect_blur // 2 + settings.mask_dilation + settings.feather + 1
            margin += ADAPTIVE_MARGIN if settings.adaptive_threshold > 0 else 0
            windows = variant_windows(variants, bounds, camera, poses, focal_mm=spec["camera"]["focal_length"],
                                      sensor_mm=spec["camera"]["sensor_width"], size=size, margin=margin,
                                      worlds=worlds)
        jobs = plan_renders(variants, camera, poses, dedupe=True, windows=windows, size=size, worlds=worlds)
        _run_jobs(blender, jobs, camera, poses, out, worlds)
        _fill_outside(jobs, out)
        return out
    for i, variant in enumerate(variants):  # the reference: rebuild the scene from scratch for every variant
        if i > 0:
            start = time.perf_counter()
            blender.close()
            blender = BlenderScene(spec, settings, assets_root=assets_root, device=options.device,
                                   threads=options.threads, persistent=False, light_passes=options.kinds)
            out.build_seconds += time.perf_counter() - start
        _run_jobs(blender, plan_renders([variant], camera, poses, dedupe=False, worlds=worlds), camera, poses, out,
                  worlds)
    blender.close()
    return out


def _round(a: np.ndarray) -> np.ndarray:
    return np.round(a, POSE_DECIMALS)


class SceneMaker:
    """Picklable task: `maker(index) -> Scene` for one run's settings and render options."""

    def __init__(self, settings: RenderSettings, options: RenderOptions | None = None) -> None:
        self.settings = settings
        self.options = options or RenderOptions()

    def scene_id(self, index: int) -> str:
        return scene_id(self.settings, index)

    def __call__(self, index: int) -> Scene:
        return make_scene(self.settings, index, self.options)


def make_scene(settings: RenderSettings, index: int, options: RenderOptions | None = None, *,
               spec: dict[str, Any] | None = None) -> Scene:
    """Scene `index` of a render run, every video, mask and layer of the data contract.

    spec: render this description instead of sampling one (e.g. a `meta.json` spec, or a test's).
    """
    from genbench.generators.kubric.blender import BlenderScene
    from genbench.generators.kubric.simulate import simulate
    from genbench.generators.kubric.spec import camera_path

    options = options or RenderOptions()
    options = replace(options, kinds=measures_kinds(settings, options))
    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 4)
        clock = now

    spec = sample_spec(settings, index) if spec is None else spec
    lap("sample")
    assets_root = Path(settings.assets) if settings.assets else None
    blender = BlenderScene(spec, settings, assets_root=assets_root, device=options.device, threads=options.threads,
                           persistent=not options.naive, light_passes=options.kinds)
    lap("build")
    trajectories = simulate(spec, blender.vertices, frames=settings.frames, fps=settings.fps)
    for tr in trajectories.values():
        tr.positions, tr.quaternions = _round(tr.positions), _round(tr.quaternions)
    cam_positions, cam_quaternions = camera_path(spec["camera"], settings.frames, settings.fps)
    camera = (_round(cam_positions), _round(cam_quaternions))
    poses = {k: (tr.positions, tr.quaternions) for k, tr in trajectories.items()}
    worlds = (physics_worlds(spec, blender.vertices, poses, frames=settings.frames, fps=settings.fps,
                             decimals=POSE_DECIMALS) if settings.counterfactual == "physics" else {})
    lap("simulate")
    device = blender.device
    try:
        renders = render_variants(blender, spec, settings, camera, poses, options, assets_root,
                                  {contract.minus_video(k): w.poses for k, w in worlds.items() if w.affected})
    finally:
        blender.close()
    lap("render")
    timings["build"] = round(timings["build"] + renders.build_seconds, 4)
    timings["render"] = round(timings["render"] - renders.build_seconds, 4)

    targets = spec["targets"]
    visible = renders.index[contract.FULL]
    amodal = {k: renders.index[contract.solo_video(k)] == k for k in targets}
    params = ExactParams(settings.effect_tolerance, settings.effect_blur, settings.mask_dilation, settings.feather)
    changed = {k: changed_region(w, poses, visible, renders.index[contract.minus_video(k)],
                                 effect_mask(renders.rgb[contract.FULL], renders.rgb[contract.minus_video(k)], params),
                                 params.dilation) for k, w in worlds.items() if w.affected}
    exact = make_exact(renders.rgb, visible, amodal, targets, params, rendered=renders.rendered, changed=changed)
    lap("exact")
    effects: dict[int, dict[str, np.ndarray]] = {}
    if options.kinds:
        effects = _effect_kinds(renders, visible, amodal, targets, params, exact.quality, changed)
        lap("kinds")
    timings["total"] = round(time.perf_counter() - start, 4)

    meta = _meta(settings, index, spec, trajectories, camera, visible, device, options, renders, timings,
                 exact.quality)
    meta.samples, meta.changed = physics_samples(meta.samples, worlds), sorted(changed)
    meta.instances = physics_paths(meta.instances, worlds)
    meta.effects = {k: sorted(kinds) for k, kinds in effects.items() if kinds}
    return Scene(meta=meta, rgb=exact.rgb, visible=visible, layers=exact.layers,
                 amodal={k: np.where(amodal[k], 255, 0).astype(np.uint8) for k in targets},
                 trimasks=physics_trimasks(meta.scene_id, meta.samples, visible, changed),
                 changed={k: np.where(m, 255, 0).astype(np.uint8) for k, m in changed.items()},
                 effects={k: {kind: np.where(m, 255, 0).astype(np.uint8) for kind, m in kinds.items()}
                          for k, kinds in effects.items() if kinds})


def _effect_kinds(renders: Renders, visible: np.ndarray, amodal: dict[int, np.ndarray], targets: list[int],
                  params: ExactParams, quality: dict[str, Any], changed: dict[int, np.ndarray]
                  ) -> dict[int, dict[str, np.ndarray]]:
    """Each target's effect mask split into kinds from the light passes of full and minus_k (`kinds.py`);
    the kinds' areas and the passes' noise floors go to quality.objects.<k>.kinds. A physics counterfactual's
    changed region (`changed`: k -> (T, H, W) bool) is other objects moving, not k's light: it gets no kind."""
    from genbench.generators.kubric.kinds import KindParams, kind_masks
    from genbench.trimask import dilate

    kind_params = KindParams(params.tolerance, params.blur, params.dilation)
    quality["kinds"] = kind_params.to_dict()
    full = renders.rgb[contract.FULL]
    out = {}
    for k in targets:
        name = contract.minus_video(k)
        own = visible == k
        region = dilate(effect_mask(full, renders.rgb[name], params) | amodal[k] | own, params.dilation)
        if k in changed:
            region &= ~changed[k]
        result = kind_masks(full, renders.rgb[name], renders.passes[contract.FULL], renders.passes[name], own,
                            region, kind_params)
        out[k] = result.masks
        quality["objects"][str(k)]["kinds"] = result.stats
    return out


def _meta(settings: RenderSettings, index: int, spec: dict[str, Any], trajectories: dict[int, Trajectory],
          camera: tuple[np.ndarray, np.ndarray], visible: np.ndarray, device: str, options: RenderOptions,
          renders: Renders, timings: dict[str, float], quality: dict[str, Any]) -> SceneMeta:
    import bpy

    from genbench.generators.kubric.blender import VIEW_TRANSFORM

    ids = [o["id"] for o in spec["objects"]]
    targets = spec["targets"]
    instances = []
    for obj in spec["objects"]:
        k = obj["id"]
        instances.append(Instance(
            id=k, asset_id=obj["asset_id"], kind=obj["shape"], material=obj["material"],
            extra={"scale": obj["scale"], "motion": obj["motion"], "is_target": k in targets,
                   "visibility": [int(v) for v in (visible == k).sum(axis=(1, 2))],
                   **trajectories[k].to_dict(POSE_DECIMALS)}))
    cam = spec["camera"]
    sensor, focal = cam["sensor_width"], cam["focal_length"]
    samples = [SampleSpec(remove=(k,)) for k in targets]
    if len(ids) > 1:
        samples.append(SampleSpec(remove=tuple(ids)))
    variants = len(scene_variants(ids, targets))
    return SceneMeta(
        scene_id=scene_id(settings, index), generator=GENERATOR, seed=settings.seed, index=index,
        num_frames=settings.frames, height=settings.resolution, width=settings.resolution, fps=settings.fps,
        split=spec["split"], instances=instances,
        videos=[contract.FULL, contract.BG] + [contract.minus_video(k) for k in targets]
        + [contract.solo_video(k) for k in targets],
        layers=list(targets), amodal=list(targets), samples=samples,
        settings=settings.to_dict(), spec=spec,
        camera={"focal_length": focal, "sensor_width": sensor,
                "field_of_view": 2 * float(np.arctan(sensor / 2 / focal)), "motion": cam["motion"],
                "positions": camera[0].tolist(), "quaternions": camera[1].tolist()},
        lights=[{"type": "sun", **spec["sun"]}] + [{"type": light["kind"], **light} for light in spec["lights"]],
        render={"engine": "CYCLES", "blender": bpy.app.version_string, "seed": spec["cycles_seed"],
                "samples": settings.samples, "adaptive_threshold": settings.adaptive_threshold,
                "denoise": settings.denoise, "view_transform": VIEW_TRANSFORM, "removal": "hide_render",
                "renders": renders.renders, "rendered_frames": round(renders.pixels, 3),
                "renders_naive": variants * settings.frames, "device": device},
        quality=quality, run={"timings": timings, "threads": options.threads, "naive": options.naive},
    )
