"""Tiny real renders of the looks beyond v1: an HDRI lights the scene and is its backdrop, turned as the spec
says; photo and procedural textures show on the floor; pairs stay exact (the fast path equals the naive
reference); `genbench render` with the user's own HDRIs and textures writes a valid dataset."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from genbench.cli import build_parser
from genbench.commands.render import run, settings_from_args
from genbench.generators.kubric import media
from genbench.generators.kubric.make import RenderOptions, make_scene, sample_spec
from genbench.generators.kubric.realism import hdri_world
from genbench.generators.kubric.settings import resolve_settings
from genbench.generators.kubric.spec import camera_path, look_at_quaternion
from genbench.scene import list_scene_ids, read_meta
from genbench.validate import validate_dataset

pytestmark = pytest.mark.slow
SETTINGS = replace(resolve_settings("tiny", resolution=40, frames=2, samples=16), adaptive_threshold=0.0)
PLAIN = {"kind": "plastic", "roughness": 0.5, "metallic": 0.0, "transmission": 0.0, "ior": 1.45, "texture": None}
STILL = {"motion": "static", "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0, 0.0],
         "angular_velocity": [0.0, 0.0, 0.0], "density": 1.0, "friction": 0.5, "restitution": 0.2, "params": {}}


def _hdri(name: str, rotation: float, lamp: bool = True) -> tuple[dict, dict]:
    """(world, sun) of the bundled HDRI `name` turned by `rotation` degrees."""
    chosen = next(h for h in media.hdris() if h.name == name)
    sun = {"low": True, "elevation_deg": 30.0, "azimuth_deg": 0.0, "strength": 3.0, "angle_deg": 1.0,
           "color": [1.0, 1.0, 1.0]}
    return hdri_world(sun, chosen, rotation_deg=rotation, strength=0.8, lamp=lamp)


def _scene(world: dict, sun: dict, floor_texture: dict | None = None) -> dict:
    """One cube and one dropped sphere on a diffuse floor; a static camera low enough to see the horizon."""
    spec = sample_spec(replace(SETTINGS, worlds=("gradient",), surfaces=("plain",)), 0)
    spec.update(
        world=world, sun=sun, walls=None, lights=[], scene_motion="dynamic", targets=[1, 2],
        floor={"finish": "diffuse", "color": [0.7, 0.7, 0.7], "roughness": 1.0, "metallic": 0.0,
               "texture": floor_texture},
        objects=[{**STILL, "id": 1, "shape": "cube", "asset_id": "builtin/cube", "scale": 0.8,
                  "position": [-0.9, 0.0, 0.0], "material": {**PLAIN, "color": [0.8, 0.2, 0.2]}},
                 {**STILL, "id": 2, "shape": "sphere", "asset_id": "builtin/sphere", "scale": 0.7,
                  "motion": "dropped", "position": [0.9, 0.8, 0.6], "material": {**PLAIN, "color": [0.2, 0.4, 0.8]}}],
    )
    spec["camera"].update(motion="static", distance=6.5, elevation_deg=9.0, azimuth_deg=-90.0, look_at=[0, 0, 0.8],
                          focal_length=30.0, orbit_deg_per_s=0.0, velocity=[0.0, 0.0, 0.0], shake=None)
    return copy.deepcopy(spec)


def _bg(spec: dict, settings: object = SETTINGS) -> np.ndarray:
    """The empty scene's first frame, (H, W, 3) uint8."""
    from genbench.generators.kubric.blender import BlenderScene

    blender = BlenderScene(spec, settings, threads=2)
    try:
        position, quaternion = camera_path(spec["camera"], 1, 12.0)
        blender.pose((position[0], quaternion[0]), {})
        blender.show_only(frozenset())
        return blender.render(index=False)[0]
    finally:
        blender.close()


def _texture(kind: str) -> dict:
    if kind == "photo":
        brick = next(t for t in media.textures() if t.name == "brick.png")
        return {"kind": "photo", **brick.entry(), "grey": True, "scale": 0.12, "rotation_deg": 30.0}
    return {"kind": "procedural", "pattern": "checker", "color1": [0.9, 0.9, 0.9], "color2": [0.1, 0.1, 0.1],
            "scale": 1.5, "rotation_deg": 30.0, "detail": 2.0, "distortion": 4.0}


def test_an_hdri_is_the_backdrop_turned_as_the_spec_says() -> None:
    sky = {"kind": "sky", "air": 1.0, "dust": 1.0, "strength": 0.25}
    world, sun = _hdri("forest.exr", rotation=0.0)
    with_sky, with_hdri = _bg(_scene(sky, sun)), _bg(_scene(world, sun))
    turned = _bg(_scene(*_hdri("forest.exr", rotation=180.0)))
    top = slice(0, SETTINGS.resolution // 4)  # above the horizon: the backdrop
    differ = lambda a, b: float(np.abs(a[top].astype(int) - b[top].astype(int)).mean())  # noqa: E731
    assert differ(with_hdri, with_sky) > 15, "the HDRI backdrop looks like the sky"
    assert differ(with_hdri, turned) > 8, "turning the HDRI does not move the backdrop"


def test_the_sun_lamp_points_where_the_hdri_is_brightest() -> None:
    """A camera looking along the matched sun direction sees the HDRI's sun in the middle of the frame."""
    world, sun = _hdri("city.exr", rotation=100.0)
    spec = _scene(world, sun)
    e, a = np.radians(sun["elevation_deg"]), np.radians(sun["azimuth_deg"])
    toward = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
    spec["objects"] = spec["objects"][:1]
    spec["objects"][0]["position"] = list((-10.0 * toward * [1, 1, 0]).round(3))  # behind the camera
    from genbench.generators.kubric.blender import BlenderScene

    blender = BlenderScene(spec, replace(SETTINGS, resolution=32), threads=2)
    try:
        eye = np.array([0.0, 0.0, 1.0])
        blender.pose((eye, look_at_quaternion(eye, eye + toward)), {})
        blender.show_only(frozenset())
        rgb = blender.render(index=False)[0].astype(float).sum(axis=-1)
    finally:
        blender.close()
    y, x = np.unravel_index(int(np.argmax(cv2.GaussianBlur(rgb, (0, 0), 1.0))), rgb.shape)
    assert abs(y - 16) <= 3 and abs(x - 16) <= 3, f"the brightest pixel is at ({y}, {x}), not the middle"


def test_photo_and_procedural_textures_show_on_the_floor() -> None:
    """Each texture changes the floor far beyond render noise, and turning it changes the floor again."""
    world, sun = _hdri("courtyard.exr", rotation=40.0)
    settings = replace(SETTINGS, samples=64)
    floor = slice(SETTINGS.resolution * 5 // 8, None)  # below the horizon
    plain = _scene(world, sun)
    reseeded = {**copy.deepcopy(plain), "cycles_seed": plain["cycles_seed"] + 1}
    first = _bg(plain, settings)[floor].astype(int)
    noise = float(np.abs(first - _bg(reseeded, settings)[floor]).mean())
    for kind in ("photo", "procedural"):
        texture = _texture(kind)
        textured = _bg(_scene(world, sun, texture), settings)[floor].astype(int)
        turned = _bg(_scene(world, sun, {**texture, "rotation_deg": texture["rotation_deg"] + 45.0}), settings)[floor]
        assert np.abs(textured - first).mean() > 3 * noise, f"the {kind} texture does not show on the floor"
        assert np.abs(textured - turned).mean() > 1.5 * noise, f"turning the {kind} texture changes nothing"


def test_pairs_stay_exact_with_an_hdri_and_textures() -> None:
    """The studio HDRI has four softboxes: each one's shadow must fall inside the crop windows."""
    world, sun = _hdri("studio.exr", rotation=70.0)
    spec = _scene(world, sun, _texture("photo"))
    spec["objects"][0]["material"]["texture"] = _texture("procedural")
    fast = make_scene(SETTINGS, 0, RenderOptions(threads=2), spec=copy.deepcopy(spec))
    naive = make_scene(SETTINGS, 0, RenderOptions(threads=2, naive=True, crop=False), spec=spec)
    for name in naive.rgb:
        np.testing.assert_array_equal(fast.rgb[name], naive.rgb[name], err_msg=name)
    for k in naive.layers:
        np.testing.assert_array_equal(fast.layers[k], naive.layers[k])
    for k, stats in fast.meta.quality["objects"].items():
        assert stats["violations"] < 0.005, f"object {k}: {stats['violations']:.2%} of pixels change unexplained"


def test_render_with_the_users_hdris_and_textures_is_valid(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    sky = np.full((64, 128, 3), 0.3, np.float32)
    sky[10:14, 40:44] = (400.0, 380.0, 300.0)
    assert cv2.imwrite(str(mine / "sunny.hdr"), sky[..., ::-1])
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, ::8] = (230, 200, 40)
    assert cv2.imwrite(str(mine / "stripes.png"), stripes)
    args = ["render", "--preset", "tiny", "--resolution", "24", "--frames", "2", "--worlds", "hdri", "--surfaces",
            "photo", "--hdri", str(mine), "--textures", str(mine)]
    settings = settings_from_args(build_parser().parse_args([*args, "--scenes", "1", "--out", "unused"]))
    seed = next(s for s in range(200) if sample_spec(replace(settings, seed=s), 0)["world"]["source"] == "user")
    out = tmp_path / "out"
    assert run(build_parser().parse_args([*args, "--scenes", "1", "--seed", str(seed), "--out", str(out)])) == 0
    report = validate_dataset(out)
    assert report.ok, [str(p) for p in report.problems]
    meta = read_meta(out, list_scene_ids(out)[0])
    world = meta.spec["world"]
    assert world["file"] == "sunny.hdr" and world["sha256"] == media.sha256(mine / "sunny.hdr")
    assert meta.settings["worlds"] == ["hdri"] and meta.settings["hdri"] == str(mine.resolve())
