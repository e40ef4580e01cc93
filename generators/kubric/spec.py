"""Sample a scene description: pure numpy, no bpy, no pybullet.

`sample_scene(settings, index, rng=...)` returns a JSON-native dict holding every random
value of the scene (floor, walls, world light, sun, extra lights, objects with their
materials and initial motion, camera path with its shake). Simulation and rendering read
it and never draw random numbers themselves, so (seed, index) fixes the scene and the
spec written to meta.json is enough to reproduce it.

Coordinates: metres, z up, the floor is z = 0, objects start near the origin.
Quaternions are (w, x, y, z) as in Blender and Kubric.
"""

from __future__ import annotations

import colorsys
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from genbench.generators.kubric.geometry import BUILTIN_SHAPES, sample_shape_params
from genbench.generators.kubric.settings import RenderSettings

# Scene-level probabilities, from the Generative Omnimatte paper's Kubric data where it says.
P_MIRROR_FLOOR = 0.5
P_WALLS = 0.25
P_LOW_SUN = 0.5
P_EXTRA_LIGHTS = 0.3
P_STATIC_SCENE = 0.5  # every object rests; otherwise objects are dropped, thrown, slid (or some rest)
P_STATIC_IN_DYNAMIC = 0.25
P_SKY = 0.6  # procedural sky; otherwise a two-colour gradient
P_ASSET = 0.5  # an object is a user asset when --assets gives any
CAMERA_MOTIONS = ("static", "linear", "orbit")
CAMERA_MOTION_P = (0.4, 0.3, 0.3)
TEXTURES = ("checker", "noise", "voronoi", "wave", "magic", "brick")
SENSOR_WIDTH = 32.0  # mm, Kubric's default
PLACEMENT_RADIUS = 2.0  # objects start within this distance of the origin (m)


def random_colour(rng: np.random.Generator, saturation: tuple[float, float] = (0.3, 1.0),
            value: tuple[float, float] = (0.3, 1.0)) -> list[float]:
    """An sRGB colour in [0, 1]^3 sampled in HSV."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return [round(c, 4) for c in rgb]


def _texture(rng: np.random.Generator, p: float) -> dict[str, Any] | None:
    if rng.random() >= p:
        return None
    return pattern_texture(rng=rng)


def pattern_texture(*, rng: np.random.Generator) -> dict[str, Any]:
    """A two-colour pattern (`TEXTURES`) in object coordinates: the v1 surface texture."""
    return {"kind": str(rng.choice(TEXTURES)), "scale": round(float(rng.uniform(0.8, 6.0)), 3),
            "color2": random_colour(rng), "detail": round(float(rng.uniform(0.0, 4.0)), 3)}


def sample_object_material(*, rng: np.random.Generator) -> dict[str, Any]:
    """Principled-BSDF parameters: colour, roughness, metallic, sometimes transmissive; maybe a texture."""
    kind = rng.choice(["plastic", "metal", "glass", "rubber"], p=[0.5, 0.25, 0.1, 0.15])
    material = {
        "kind": str(kind),
        "color": random_colour(rng),
        "roughness": round(float(rng.uniform(0.05, 0.5) if kind != "rubber" else rng.uniform(0.6, 1.0)), 4),
        "metallic": 1.0 if kind == "metal" else 0.0,
        "transmission": 1.0 if kind == "glass" else 0.0,
        "ior": round(float(rng.uniform(1.3, 1.6)), 4),
        "texture": _texture(rng, 0.3 if kind != "glass" else 0.0),
    }
    return material


def _floor(rng: np.random.Generator) -> dict[str, Any]:
    if rng.random() < P_MIRROR_FLOOR:
        finish, roughness, metallic = "mirror", float(rng.uniform(0.0, 0.08)), float(rng.uniform(0.3, 1.0))
    elif rng.random() < 0.5:
        finish, roughness, metallic = "glossy", float(rng.uniform(0.15, 0.4)), 0.0
    else:
        finish, roughness, metallic = "diffuse", 1.0, 0.0
    return {"finish": finish, "color": random_colour(rng, (0.0, 0.6), (0.35, 0.9)), "roughness": round(roughness, 4),
            "metallic": round(metallic, 4), "texture": _texture(rng, 0.6)}


def _walls(rng: np.random.Generator) -> dict[str, Any] | None:
    if rng.random() >= P_WALLS:
        return None
    return {"count": int(rng.integers(1, 3)), "distance": round(float(rng.uniform(3.5, 6.0)), 3),
            "color": random_colour(rng, (0.0, 0.5), (0.4, 0.95)), "roughness": round(float(rng.uniform(0.3, 1.0)), 4),
            "texture": _texture(rng, 0.4)}


def _sun(rng: np.random.Generator) -> dict[str, Any]:
    low = bool(rng.random() < P_LOW_SUN)
    elevation = rng.uniform(6.0, 20.0) if low else rng.uniform(25.0, 70.0)
    warm = random_colour(rng, (0.0, 0.25), (1.0, 1.0)) if low else [1.0, 1.0, 1.0]
    return {"low": low, "elevation_deg": round(float(elevation), 3),
            "azimuth_deg": round(float(rng.uniform(0, 360)), 3),
            "strength": round(float(rng.uniform(2.5, 4.5)), 3),
            "angle_deg": round(float(rng.uniform(0.5, 3.0)), 3), "color": warm}


def _world(rng: np.random.Generator) -> dict[str, Any]:
    return sky_world(rng=rng) if rng.random() < P_SKY else gradient_world(rng=rng)


def sky_world(*, rng: np.random.Generator) -> dict[str, Any]:
    """A Nishita sky lit like the scene's sun."""
    return {"kind": "sky", "air": round(float(rng.uniform(0.5, 2.0)), 3),
            "dust": round(float(rng.uniform(0.0, 3.0)), 3), "strength": round(float(rng.uniform(0.15, 0.35)), 3)}


def gradient_world(*, rng: np.random.Generator) -> dict[str, Any]:
    """A two-colour gradient from the horizon up."""
    return {"kind": "gradient", "horizon": random_colour(rng, (0.0, 0.4), (0.6, 1.0)),
            "zenith": random_colour(rng, (0.2, 0.8), (0.3, 0.9)), "strength": round(float(rng.uniform(0.4, 1.0)), 3)}


def _lights(rng: np.random.Generator) -> list[dict[str, Any]]:
    if rng.random() >= P_EXTRA_LIGHTS:
        return []
    lights = []
    for _ in range(int(rng.integers(1, 3))):
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 5.0)
        lights.append({"kind": str(rng.choice(["point", "area"])),
                       "position": [round(float(dist * np.cos(angle)), 3), round(float(dist * np.sin(angle)), 3),
                                    round(float(rng.uniform(1.5, 4.0)), 3)],
                       "power": round(float(rng.uniform(150, 700)), 2), "size": round(float(rng.uniform(0.2, 1.0)), 3),
                       "color": random_colour(rng, (0.0, 0.4), (1.0, 1.0))})
    return lights


def _random_quaternion(rng: np.random.Generator) -> list[float]:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return [round(float(v), 6) for v in q * np.sign(q[0] or 1.0)]


def _yaw_quaternion(rng: np.random.Generator) -> list[float]:
    yaw = rng.uniform(0, 2 * np.pi)
    return [round(float(np.cos(yaw / 2)), 6), 0.0, 0.0, round(float(np.sin(yaw / 2)), 6)]


def _place(rng: np.random.Generator, radii: Sequence[float]) -> list[tuple[float, float]]:
    """Non-overlapping (x, y) positions for objects with the given bounding radii."""
    placed: list[tuple[float, float, float]] = []
    for r in radii:
        for _attempt in range(200):
            angle, dist = rng.uniform(0, 2 * np.pi), PLACEMENT_RADIUS * np.sqrt(rng.uniform(0, 1))
            x, y = dist * np.cos(angle), dist * np.sin(angle)
            if all((x - px) ** 2 + (y - py) ** 2 > (r + pr + 0.05) ** 2 for px, py, pr in placed):
                break
        placed.append((float(x), float(y), r))
    return [(round(x, 4), round(y, 4)) for x, y, _ in placed]


def _motion(rng: np.random.Generator, kind: str, xy: tuple[float, float]) -> dict[str, Any]:
    """Initial pose and velocity. z is the height of the object's lowest point above the floor."""
    x, y = xy
    if kind == "static":
        return {"motion": kind, "position": [x, y, 0.0], "rotation": _yaw_quaternion(rng),
                "velocity": [0.0, 0.0, 0.0], "angular_velocity": [0.0, 0.0, 0.0]}
    if kind == "dropped":
        return {"motion": kind, "position": [x, y, round(float(rng.uniform(0.6, 2.2)), 4)],
                "rotation": _random_quaternion(rng), "velocity": [0.0, 0.0, 0.0],
                "angular_velocity": rng.normal(0, 1.5, size=3).round(4).tolist()}
    if kind == "thrown":
        angle = rng.uniform(0, 2 * np.pi)
        start = np.array([x, y]) + 1.8 * np.array([np.cos(angle), np.sin(angle)])
        speed = rng.uniform(2.0, 4.0)
        heading = -np.array([np.cos(angle), np.sin(angle)]) * speed
        return {"motion": kind, "position": [round(float(start[0]), 4), round(float(start[1]), 4),
                                             round(float(rng.uniform(0.4, 1.4)), 4)],
                "rotation": _random_quaternion(rng),
                "velocity": [round(float(heading[0]), 4), round(float(heading[1]), 4),
                             round(float(rng.uniform(1.0, 3.0)), 4)],
                "angular_velocity": rng.normal(0, 3.0, size=3).round(4).tolist()}
    angle, speed = rng.uniform(0, 2 * np.pi), rng.uniform(1.5, 3.5)
    return {"motion": "sliding", "position": [x, y, 0.0], "rotation": _yaw_quaternion(rng),
            "velocity": [round(float(np.cos(angle) * speed), 4), round(float(np.sin(angle) * speed), 4), 0.0],
            "angular_velocity": [0.0, 0.0, round(float(rng.normal(0, 2.0)), 4)]}


def _objects(settings: RenderSettings, rng: np.random.Generator, assets: Sequence[str],
             static: bool) -> list[dict[str, Any]]:
    count = int(rng.integers(settings.min_objects, settings.max_objects + 1))
    scales = rng.uniform(0.55, 1.3, size=count)
    positions = _place(rng, [0.55 * s for s in scales])
    objects = []
    for k in range(count):
        if assets and rng.random() < P_ASSET:
            shape, params = "asset", {"path": str(rng.choice(list(assets)))}
            asset_id = f"assets/{params['path']}"
        else:
            shape = str(rng.choice(BUILTIN_SHAPES))
            params, asset_id = sample_shape_params(shape, rng=rng), f"builtin/{shape}"
        if static or rng.random() < P_STATIC_IN_DYNAMIC:
            motion = "static"
        else:
            motion = str(rng.choice(["dropped", "thrown", "sliding"]))
        objects.append({
            "id": k + 1, "shape": shape, "asset_id": asset_id, "params": params,
            "scale": round(float(scales[k]), 4), "material": sample_object_material(rng=rng),
            "density": round(float(rng.uniform(0.5, 2.0)), 4),
            "friction": round(float(rng.uniform(0.2, 0.8) if motion != "sliding" else rng.uniform(0.05, 0.2)), 4),
            "restitution": round(float(rng.uniform(0.1, 0.6)), 4),
            **_motion(rng, motion, positions[k]),
        })
    return objects


def _camera(settings: RenderSettings, rng: np.random.Generator) -> dict[str, Any]:
    motion = str(rng.choice(CAMERA_MOTIONS, p=CAMERA_MOTION_P))
    distance = rng.uniform(5.5, 8.0)
    elevation = np.radians(rng.uniform(12.0, 40.0))
    azimuth = rng.uniform(0, 2 * np.pi)
    camera: dict[str, Any] = {
        "motion": motion, "focal_length": round(float(rng.uniform(32.0, 45.0)), 3), "sensor_width": SENSOR_WIDTH,
        "distance": round(float(distance), 4), "elevation_deg": round(float(np.degrees(elevation)), 3),
        "azimuth_deg": round(float(np.degrees(azimuth)), 3),
        "look_at": [round(float(v), 4) for v in (*rng.normal(0, 0.3, size=2), rng.uniform(0.2, 0.6))],
        "orbit_deg_per_s": 0.0, "velocity": [0.0, 0.0, 0.0], "shake": None,
    }
    if motion == "orbit":
        camera["orbit_deg_per_s"] = round(float(rng.choice([-1, 1]) * rng.uniform(5.0, 20.0)), 3)
    elif motion == "linear":
        direction = rng.normal(size=3) * np.array([1.0, 1.0, 0.3])
        camera["velocity"] = (direction / np.linalg.norm(direction) * rng.uniform(0.4, 1.0)).round(4).tolist()
    if motion != "static":  # a little handheld shake: smoothed noise on position and aim
        amplitude = rng.uniform(0.005, 0.03)
        noise = rng.normal(0, 1, size=(settings.frames + 4, 6))
        smooth = np.stack([np.convolve(noise[:, c], np.ones(5) / 5, mode="valid") for c in range(6)], axis=1)
        camera["shake"] = {"amplitude": round(float(amplitude), 5),
                           "offsets": (smooth[: settings.frames] * amplitude).round(5).tolist()}
    return camera


def sample_scene(settings: RenderSettings, index: int, *, rng: np.random.Generator,
                 assets: Sequence[str] = ()) -> dict[str, Any]:
    """Draw scene `index` from `rng`: a JSON-native dict (see the module docstring).

    assets: relative paths of user models (from `genbench.generators.kubric.assets`), may be empty.
    """
    static = bool(rng.random() < P_STATIC_SCENE)
    objects = _objects(settings, rng, assets, static)
    ids = [o["id"] for o in objects]
    if settings.targets is None or settings.targets >= len(ids):
        targets = ids
    else:
        targets = sorted(int(k) for k in rng.choice(ids, size=settings.targets, replace=False))
    spec = {
        "index": index,
        "split": "val" if rng.random() < settings.val_fraction else "train",
        "cycles_seed": int(rng.integers(0, 2**31 - 1)),
        "scene_motion": "static" if static else "dynamic",
        "world": _world(rng),
        "floor": _floor(rng),
        "walls": _walls(rng),
        "sun": _sun(rng),
        "lights": _lights(rng),
        "objects": objects,
        "targets": targets,
        "camera": _camera(settings, rng),
    }
    return json.loads(json.dumps(spec))  # tuples -> lists: the spec equals itself read back from meta.json


def look_at_quaternion(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(w, x, y, z) rotation of a Blender camera (looking down its -Z, up +Y) at `position` aiming at `target`."""
    forward = target - position
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right = right / np.linalg.norm(right)
    up = np.cross(right, forward)
    m = np.stack([right, up, -forward], axis=1)  # columns: camera x, y, z axes in world coordinates
    return matrix_to_quaternion(m)


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """(w, x, y, z) unit quaternion with w >= 0 of a 3x3 rotation matrix."""
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    q = np.asarray(q)
    q = q / np.linalg.norm(q)
    return q if q[0] >= 0 else -q


def camera_path(camera: dict[str, Any], frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame camera positions (T, 3) and quaternions (T, 4) (w, x, y, z) of a sampled camera.

    Motion is per second from the sampled start, so a longer video extends a shorter one.
    """
    t = np.arange(frames) / fps
    azimuth = np.radians(camera["azimuth_deg"] + camera["orbit_deg_per_s"] * t)
    elevation, distance = np.radians(camera["elevation_deg"]), camera["distance"]
    look_at = np.asarray(camera["look_at"], dtype=np.float64)
    positions = look_at + distance * np.stack([np.cos(azimuth) * np.cos(elevation),
                                               np.sin(azimuth) * np.cos(elevation),
                                               np.full_like(azimuth, np.sin(elevation))], axis=1)
    positions = positions + np.outer(t, camera["velocity"])
    targets = np.repeat(look_at[None], frames, axis=0)
    if camera["shake"] is not None:
        offsets = np.asarray(camera["shake"]["offsets"], dtype=np.float64)
        positions, targets = positions + offsets[:, :3], targets + offsets[:, 3:] * 2.0
    quaternions = np.stack([look_at_quaternion(p, q) for p, q in zip(positions, targets, strict=True)])
    return positions, quaternions
