"""Toy scenes: flat shapes with drop shadows over a textured background, composited in numpy.

Not a renderer and not training data: it exists so the data contract, the trimask, the
validator and the demo can be exercised in milliseconds without Blender. Its pairs are
exact by construction (every video is a composite of the same RGBA layers), which makes
it a convenient fixture for metric and method tests too.

Sampling is a pure function of an explicit `rng` (`sample_toy_scene`), compositing a pure
function of the sampled spec (`build_toy_scene`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from genbench import contract
from genbench.pixels import over
from genbench.records import Instance, SampleSpec, SceneMeta, TrimaskSpec
from genbench.scene import Scene

GENERATOR = "toy"


@dataclass(frozen=True)
class ToySettings:
    """Everything that shapes a toy dataset besides the scene index."""

    seed: int = 0
    resolution: int = 64
    frames: int = 8
    max_objects: int = 3
    val_fraction: float = 0.25


@dataclass(frozen=True)
class ToyObject:
    id: int
    shape: str  # "disc" or "square"
    color: tuple[int, int, int]
    radius: float
    start: tuple[float, float]  # (y, x) pixels at frame 0
    velocity: tuple[float, float]  # pixels per frame
    shadow_offset: tuple[float, float]
    shadow_strength: float  # alpha of the black shadow


def scene_id(settings: ToySettings, index: int) -> str:
    return f"{GENERATOR}-s{settings.seed}-{index:06d}"


def sample_toy_scene(settings: ToySettings, index: int, *, rng: np.random.Generator) -> dict:
    """Draw a toy scene description (JSON-serialisable) from `rng`."""
    size = settings.resolution
    count = int(rng.integers(1, settings.max_objects + 1))
    objects = []
    for k in range(1, count + 1):
        radius = float(rng.uniform(0.08, 0.16) * size)
        objects.append(ToyObject(
            id=k,
            shape=str(rng.choice(["disc", "square"])),
            color=tuple(int(c) for c in rng.integers(40, 256, size=3)),
            radius=radius,
            start=(float(rng.uniform(0.25, 0.75) * size), float(rng.uniform(0.2, 0.8) * size)),
            velocity=(float(rng.uniform(-0.6, 0.6)), float(rng.uniform(-1.5, 1.5))),
            shadow_offset=(float(rng.uniform(0.3, 0.6) * radius), float(rng.uniform(0.3, 0.8) * radius)),
            shadow_strength=float(rng.uniform(0.35, 0.65)),
        ))
    spec = {
        "background": {"colors": rng.integers(60, 200, size=(2, 3)).tolist(),
                       "stripes": int(rng.integers(3, 9))},
        "objects": [asdict(o) for o in objects],
        "split": "val" if rng.random() < settings.val_fraction else "train",
    }
    return json.loads(json.dumps(spec))  # tuples -> lists: the spec equals itself read back from meta.json


def _shape_mask(shape: str, center: tuple[float, float], radius: float, size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size].astype(np.float32) + 0.5
    dy, dx = yy - center[0], xx - center[1]
    if shape == "disc":
        return dy * dy + dx * dx <= radius * radius
    return (np.abs(dy) <= radius) & (np.abs(dx) <= radius)


def _background(spec: dict, size: int, frames: int) -> np.ndarray:
    c0, c1 = (np.array(c, dtype=np.float32) for c in spec["background"]["colors"])
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    image = c0 * (1 - ramp) + c1 * ramp
    stripes = (np.arange(size) * spec["background"]["stripes"] // size) % 2 == 0
    image = image * np.where(stripes[None, :, None], 1.0, 0.85)
    image = np.broadcast_to(image, (size, size, 3))
    return np.repeat(np.round(image).astype(np.uint8)[None], frames, axis=0)


def _layer(obj: ToyObject, size: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """RGBA layer (object opaque, shadow black at its strength) and the object's silhouette."""
    layer = np.zeros((frames, size, size, 4), dtype=np.uint8)
    silhouette = np.zeros((frames, size, size), dtype=bool)
    for t in range(frames):
        center = (obj.start[0] + obj.velocity[0] * t, obj.start[1] + obj.velocity[1] * t)
        shadow_center = (center[0] + obj.shadow_offset[0], center[1] + obj.shadow_offset[1])
        body = _shape_mask(obj.shape, center, obj.radius, size)
        shadow = _shape_mask(obj.shape, shadow_center, obj.radius * 1.05, size) & ~body
        layer[t][shadow] = (0, 0, 0, round(255 * obj.shadow_strength))
        layer[t][body] = (*obj.color, 255)
        silhouette[t] = body
    return layer, silhouette


def build_toy_scene(settings: ToySettings, index: int, spec: dict) -> Scene:
    """Composite every video of the contract from the layers of a sampled spec."""
    size, frames = settings.resolution, settings.frames
    objects = [ToyObject(**{**o, "color": tuple(o["color"]), "start": tuple(o["start"]),
                            "velocity": tuple(o["velocity"]), "shadow_offset": tuple(o["shadow_offset"])})
               for o in spec["objects"]]
    bg = _background(spec, size, frames)
    layers, silhouettes = {}, {}
    for obj in objects:
        layers[obj.id], silhouettes[obj.id] = _layer(obj, size, frames)

    def composite(ids: list[int]) -> np.ndarray:
        out = bg
        for k in ids:  # id order is depth order: 1 is at the back
            out = over(layers[k], out)
        return out

    ids = [o.id for o in objects]
    rgb = {contract.FULL: composite(ids), contract.BG: bg}
    for k in ids:
        rgb[contract.minus_video(k)] = composite([j for j in ids if j != k])
        rgb[contract.solo_video(k)] = composite([k])
    visible = np.zeros((frames, size, size), dtype=np.uint8)
    for k in ids:
        visible[silhouettes[k]] = k
    samples = [SampleSpec(remove=(k,)) for k in ids]
    if len(ids) > 1:
        samples.append(SampleSpec(remove=tuple(ids), trimask=TrimaskSpec()))
    meta = SceneMeta(
        scene_id=scene_id(settings, index),
        generator=GENERATOR,
        seed=settings.seed,
        index=index,
        num_frames=frames,
        height=size,
        width=size,
        split=spec["split"],
        instances=[Instance(id=o.id, asset_id=f"toy/{o.shape}", kind=o.shape,
                            material={"color": list(o.color)},
                            extra={"shadow_strength": o.shadow_strength})
                   for o in objects],
        videos=list(rgb),
        layers=ids,
        amodal=ids,
        effects={k: ["shadow"] for k in ids},
        samples=samples,
        settings=asdict(settings),
        spec=spec,
    )
    amodal = {k: np.where(silhouettes[k], 255, 0).astype(np.uint8) for k in ids}
    # the shadow: the layer's partly transparent pixels (the body is opaque)
    effects = {k: {"shadow": np.where((layers[k][..., 3] > 0) & (layers[k][..., 3] < 255), 255, 0).astype(np.uint8)}
               for k in ids}
    return Scene(meta=meta, rgb=rgb, visible=visible, layers=layers, amodal=amodal, effects=effects)


def make_toy_scene(settings: ToySettings, index: int) -> Scene:
    """Scene `index` of a toy dataset: a fixed function of (settings.seed, index)."""
    rng = np.random.default_rng(np.random.SeedSequence((settings.seed, index)))
    return build_toy_scene(settings, index, sample_toy_scene(settings, index, rng=rng))
