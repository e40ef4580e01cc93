"""World and surface looks beyond the v1 scenes: HDRI light and backdrops, procedural and photo textures.

`dress_scene(spec, settings, rng=..., hdris=..., textures=...)` takes a spec sampled by
`spec.sample_scene` (the v1 draws, untouched) and redraws its world and surface textures from a
separate random stream, as far as `settings.worlds` and `settings.surfaces` ask:

- world: with `hdri` allowed, an HDRI with probability `P_HDRI` (always when it is the only kind):
  a random file, rotation about z and strength (normalised by the HDRI's mean sky radiance). The
  world records the HDRI's bright sources in world directions (`hdri.analyse`), which the shadow
  bounds of `region.py` follow; the sun moves to the strongest source and takes its colour, and
  its lamp is lit (v1's strength and angle) with probability `P_HDRI_SUN`, else strength 0.
  Otherwise the v1 world stays when its kind is allowed, else the other v1 kind is drawn.
- each surface (floor, walls, each built-in opaque object): a `procedural` or `photo` texture
  replaces the v1 draw with probability `P_NEW[surface]`; else the v1 texture stays when its kind
  (`plain`: none, `pattern`) is allowed, else the other v1 kind is drawn. Transmissive objects and
  user assets (which bring their own materials) keep theirs.
- after those draws (so they stay what they were): walls turn glossy (low roughness: they reflect
  the objects) with probability `P_GLOSSY_WALLS`, and each built-in opaque object glows with
  probability `P_EMISSIVE` (material kind `emissive`: an emission colour and strength on top of its
  surface; Cycles samples it as a light, so it lights its surroundings).

With the v1 kinds only, nothing is drawn and the spec is returned unchanged. Pure numpy, no bpy.
"""

from __future__ import annotations

import colorsys
import copy
from typing import Any

import numpy as np

from genbench.generators.kubric.hdri import analyse, world_azimuth
from genbench.generators.kubric.media import MediaFile
from genbench.generators.kubric.settings import V1_SURFACES, V1_WORLDS, RenderSettings
from genbench.generators.kubric.spec import gradient_world, pattern_texture, random_colour, sky_world

P_HDRI = 0.7  # an HDRI world when sky or gradient are allowed too
P_HDRI_SUN = 0.5  # a sun lamp along the HDRI's key light
HDRI_STRENGTH = (0.6, 1.4)  # times 1 / the HDRI's mean sky radiance (clipped to RADIANCE_RANGE)
RADIANCE_RANGE = (0.3, 3.0)
MIN_SUN_ELEVATION = 1.0  # degrees: a key light at the horizon still lights the floor
P_NEW = {"floor": 0.8, "walls": 0.8, "object": 0.5}  # a procedural or photo texture replaces the v1 draw
PATTERNS = ("noise", "wood", "tile", "checker")
# Texture repeats per metre: surfaces of metres (floor, walls) and of about one metre (objects).
PHOTO_SCALE = {"floor": (0.1, 0.4), "walls": (0.1, 0.4), "object": (0.4, 1.2)}  # a 512-px image: 2.5-10 m
PATTERN_SCALE = {"floor": (0.3, 2.5), "walls": (0.3, 2.5), "object": (0.8, 4.0)}
WOOD = ((0.05, 0.11), (0.45, 0.8), (0.25, 0.75))  # hue, saturation, value ranges of wood colours
P_GLOSSY_WALLS = 0.4
GLOSSY_WALL_ROUGHNESS = (0.02, 0.25)
P_EMISSIVE = 0.1
EMISSION_STRENGTH = (2.0, 12.0)  # Principled BSDF emission strength (1: the colour's own radiance)
EMISSION_TEMPERATURE = (0.0, 1.0)  # 0: warm (tungsten-like) .. 1: cool (daylight-like) emission colour


def realism_on(settings: RenderSettings) -> bool:
    """Whether scenes draw anything beyond the v1 looks (any world or surface kind set but v1's)."""
    return set(settings.worlds) != set(V1_WORLDS) or set(settings.surfaces) != set(V1_SURFACES)


def dress_scene(spec: dict[str, Any], settings: RenderSettings, *, rng: np.random.Generator,
                hdris: tuple[MediaFile, ...], textures: tuple[MediaFile, ...]) -> dict[str, Any]:
    """A copy of `spec` with its world and surfaces drawn from `rng` (see the module docstring).

    hdris, textures: the files to draw from (`media.hdris`, `media.textures`).
    """
    spec = copy.deepcopy(spec)
    spec["world"], spec["sun"] = _world(spec["world"], spec["sun"], settings.worlds, rng, hdris)
    floor = spec["floor"]
    floor["texture"] = _surface(floor["texture"], floor["color"], "floor", settings.surfaces, rng, textures)
    walls = spec["walls"]
    if walls is not None:
        walls["texture"] = _surface(walls["texture"], walls["color"], "walls", settings.surfaces, rng, textures)
    for obj in spec["objects"]:
        material = obj["material"]
        if obj["shape"] != "asset" and material["transmission"] == 0:
            material["texture"] = _surface(material["texture"], material["color"], "object", settings.surfaces, rng,
                                           textures)
    if walls is not None and rng.random() < P_GLOSSY_WALLS:
        walls.update(finish="glossy", roughness=round(float(rng.uniform(*GLOSSY_WALL_ROUGHNESS)), 4))
    for obj in spec["objects"]:
        if obj["shape"] != "asset" and obj["material"]["transmission"] == 0 and rng.random() < P_EMISSIVE:
            obj["material"].update(kind="emissive", emission=emission(rng))
    return spec


def emission(rng: np.random.Generator) -> dict[str, Any]:
    """An emission colour between warm and cool white and a strength (`EMISSION_STRENGTH`)."""
    cool = float(rng.uniform(*EMISSION_TEMPERATURE))
    color = [1.0, round(0.62 + 0.33 * cool, 4), round(0.3 + 0.65 * cool, 4)]
    return {"color": color, "strength": round(float(rng.uniform(*EMISSION_STRENGTH)), 3)}


def _world(world: dict[str, Any], sun: dict[str, Any], worlds: tuple[str, ...], rng: np.random.Generator,
           hdris: tuple[MediaFile, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    others = [k for k in ("sky", "gradient") if k in worlds]
    if "hdri" in worlds and (not others or rng.random() < P_HDRI):
        return _hdri_world(sun, rng, hdris)
    if world["kind"] in worlds:
        return world, sun
    return (sky_world(rng=rng) if others[0] == "sky" else gradient_world(rng=rng)), sun


def _hdri_world(sun: dict[str, Any], rng: np.random.Generator,
                hdris: tuple[MediaFile, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    chosen = hdris[int(rng.integers(len(hdris)))]
    radiance = analyse(chosen.path, chosen.sha256).radiance
    rotation = float(rng.uniform(0.0, 360.0))
    strength = float(rng.uniform(*HDRI_STRENGTH)) / float(np.clip(radiance, *RADIANCE_RANGE))
    return hdri_world(sun, chosen, rotation_deg=rotation, strength=strength, lamp=bool(rng.random() < P_HDRI_SUN))


def hdri_world(sun: dict[str, Any], chosen: MediaFile, *, rotation_deg: float, strength: float,
               lamp: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (world, sun) of the HDRI `chosen` turned by `rotation_deg` about z: the world records the HDRI's
    bright sources in world directions; the sun moves to the strongest, takes its colour and keeps `sun`'s
    strength when `lamp`, else 0 (no lamp)."""
    light = analyse(chosen.path, chosen.sha256)
    sources = [{"elevation_deg": round(max(s.elevation_deg, MIN_SUN_ELEVATION), 3),
                "azimuth_deg": round(world_azimuth(s.azimuth_deg, rotation_deg), 3),
                "angle_deg": round(s.angle_deg, 3), "share": round(s.share, 4)} for s in light.sources]
    world = {"kind": "hdri", **chosen.entry(), "rotation_deg": round(rotation_deg, 3), "strength": round(strength, 3),
             "sources": sources}
    key = sources[0]
    matched = {**sun, "low": bool(key["elevation_deg"] < 20.0), "elevation_deg": key["elevation_deg"],
               "azimuth_deg": key["azimuth_deg"], "strength": sun["strength"] if lamp else 0.0,
               "color": [round(c, 4) for c in light.sources[0].color], "match": "hdri"}
    return world, matched


def _surface(texture: dict[str, Any] | None, color: list[float], surface: str, surfaces: tuple[str, ...],
             rng: np.random.Generator, textures: tuple[MediaFile, ...]) -> dict[str, Any] | None:
    photos = [t for t in textures if surface == "object" or t.role == "material"]
    new = [k for k in ("procedural", "photo") if k in surfaces and (k != "photo" or photos)]
    current = "plain" if texture is None else "pattern"
    if new and (current not in surfaces or rng.random() < P_NEW[surface]):
        if new[int(rng.integers(len(new)))] == "photo":
            return _photo(surface, rng, photos)
        return _procedural(color, surface, rng)
    if current in surfaces:
        return texture
    return None if "plain" in surfaces else pattern_texture(rng=rng)


def _procedural(color: list[float], surface: str, rng: np.random.Generator) -> dict[str, Any]:
    """noise, wood (rings), tile (bricks with mortar) or checker between two colours, scaled and rotated."""
    pattern = str(rng.choice(PATTERNS))
    if pattern == "wood":  # light and dark wood of one hue
        hue, saturation, value = (float(rng.uniform(*r)) for r in WOOD)
        colors = [_hsv(hue, saturation, value), _hsv(hue, min(1.0, saturation * 1.2), value * 0.55)]
    else:
        colors = [list(color), random_colour(rng)]
    return {"kind": "procedural", "pattern": pattern, "color1": colors[0], "color2": colors[1],
            "scale": round(float(rng.uniform(*PATTERN_SCALE[surface])), 3),
            "rotation_deg": round(float(rng.uniform(0.0, 360.0)), 3),
            "detail": round(float(rng.uniform(1.0, 6.0)), 3), "distortion": round(float(rng.uniform(2.0, 12.0)), 3)}


def _hsv(h: float, s: float, v: float) -> list[float]:
    return [round(c, 4) for c in colorsys.hsv_to_rgb(h, s, v)]


def _photo(surface: str, rng: np.random.Generator, photos: list[MediaFile]) -> dict[str, Any]:
    chosen = photos[int(rng.integers(len(photos)))]
    return {"kind": "photo", **chosen.entry(), "grey": chosen.grey,
            "scale": round(float(rng.uniform(*PHOTO_SCALE[surface])), 3),
            "rotation_deg": round(float(rng.uniform(0.0, 360.0)), 3)}
