"""Effect kinds measured from Cycles light passes, on tiny real renders: a plain object under the sun casts a
`shadow`, an object seen through glass has a `refraction` mask, an emissive object a `light` mask, a glossy floor
a `reflection`; kinds that cannot occur (no glass, nothing glowing, an object out of sight) have no mask. The passes
leave the RGB bytes unchanged, pairs stay exact, and `genbench render` writes kinds that `validate` accepts."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from genbench import contract
from genbench.cli import build_parser
from genbench.commands.render import run, settings_from_args
from genbench.generators.kubric import media
from genbench.generators.kubric.exact import ExactParams, effect_mask, violations
from genbench.generators.kubric.make import RenderOptions, make_scene, sample_spec
from genbench.generators.kubric.realism import hdri_world
from genbench.generators.kubric.region import Rect
from genbench.generators.kubric.settings import resolve_settings
from genbench.generators.kubric.spec import camera_path
from genbench.records import SceneMeta
from genbench.scene import list_scene_ids, read_scene
from genbench.trimask import dilate
from genbench.validate import validate_dataset

pytestmark = pytest.mark.slow
SETTINGS = replace(resolve_settings("tiny", resolution=40, frames=2, samples=16), adaptive_threshold=0.0)
PLAIN = {"kind": "rubber", "roughness": 0.9, "metallic": 0.0, "transmission": 0.0, "ior": 1.45, "texture": None}
GLASS = {**PLAIN, "kind": "glass", "roughness": 0.02, "transmission": 1.0, "ior": 1.5, "color": [0.95, 0.95, 0.95]}
GLOW = {**PLAIN, "kind": "emissive", "color": [0.9, 0.8, 0.6], "emission": {"color": [1.0, 0.8, 0.5], "strength": 12.0}}
STILL = {"motion": "static", "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0, 0.0],
         "angular_velocity": [0.0, 0.0, 0.0], "density": 1.0, "friction": 0.5, "restitution": 0.2, "params": {}}


def _object(k: int, shape: str, scale: float, position: list[float], material: dict) -> dict:
    return {**copy.deepcopy(STILL), "id": k, "shape": shape, "asset_id": f"builtin/{shape}", "scale": scale,
            "position": position, "material": copy.deepcopy(material)}


def _spec(floor: dict, objects: list[dict]) -> dict:
    """The forest HDRI (its sun lamp lit) over `floor`, a static camera looking down at the scene centre."""
    chosen = next(h for h in media.hdris() if h.name == "forest.exr")
    sun = {"low": True, "elevation_deg": 35.0, "azimuth_deg": 0.0, "strength": 3.0, "angle_deg": 1.0,
           "color": [1.0, 1.0, 1.0]}
    world, sun = hdri_world(sun, chosen, rotation_deg=60.0, strength=0.8, lamp=True)
    spec = sample_spec(replace(SETTINGS, worlds=("gradient",), surfaces=("plain",)), 0)
    spec.update(world=world, sun=sun, walls=None, lights=[], scene_motion="static", floor=floor, objects=objects,
                targets=[o["id"] for o in objects])
    spec["camera"].update(motion="static", distance=6.0, elevation_deg=30.0, azimuth_deg=-90.0, look_at=[0, 0, 0.3],
                          focal_length=45.0, orbit_deg_per_s=0.0, velocity=[0.0, 0.0, 0.0], shake=None)
    return spec


def _photo_floor() -> dict:
    brick = next(t for t in media.textures() if t.name == "brick.png")
    return {"finish": "diffuse", "color": [0.7, 0.7, 0.7], "roughness": 1.0, "metallic": 0.0,
            "texture": {"kind": "photo", **brick.entry(), "grey": True, "scale": 0.15, "rotation_deg": 20.0}}


GLOSSY_FLOOR = {"finish": "glossy", "color": [0.6, 0.6, 0.65], "roughness": 0.15, "metallic": 0.0, "texture": None}


def plain_spec() -> dict:
    """Two plain objects on a photo-textured diffuse floor, and a third far behind the camera (out of sight)."""
    return _spec(_photo_floor(), [_object(1, "cube", 0.8, [-1.0, 0.0, 0.0], {**PLAIN, "color": [0.8, 0.3, 0.2]}),
                                  _object(2, "sphere", 0.8, [1.0, 0.3, 0.0], {**PLAIN, "color": [0.2, 0.5, 0.8]}),
                                  _object(3, "cube", 0.5, [0.0, -30.0, 0.0], {**PLAIN, "color": [0.5, 0.5, 0.5]})])


def glass_spec() -> dict:
    """A glass sphere in front of a red cube, and a glowing cube, on a glossy floor."""
    return _spec(GLOSSY_FLOOR, [_object(1, "cube", 0.7, [-0.5, 1.0, 0.0], {**PLAIN, "color": [0.9, 0.15, 0.1]}),
                                _object(2, "sphere", 1.2, [-0.5, -0.6, 0.0], GLASS),
                                _object(3, "cube", 0.6, [1.6, 0.5, 0.0], GLOW)])


@pytest.fixture(scope="module")
def plain() -> object:
    return make_scene(SETTINGS, 0, RenderOptions(threads=2), spec=plain_spec())


@pytest.fixture(scope="module")
def glassy() -> object:
    """At 32 spp: at 16, single firefly pixels of the glass over the glossy floor (up to 24 levels, unblurred
    effect masks miss them) reach 0.25% of the frame."""
    return make_scene(replace(SETTINGS, samples=32), 0, RenderOptions(threads=2), spec=glass_spec())


def _area(scene: object, k: int, kind: str) -> int:
    return int((scene.effects.get(k, {}).get(kind, np.zeros(1)) > 0).sum())


def test_a_plain_object_under_the_sun_casts_a_shadow_and_nothing_it_cannot(plain: object) -> None:
    for k in (1, 2):
        assert _area(plain, k, "shadow") > 20, f"object {k}: no shadow mask under the sun"
        assert "refraction" not in plain.meta.effects.get(k, []), f"object {k}: refraction without any glass"
        assert "light" not in plain.meta.effects.get(k, []), f"object {k}: light from a non-emissive object"
    assert 3 not in plain.meta.effects, "an object out of sight, casting nothing into view, got effect masks"


def test_glass_refracts_glow_lights_and_a_glossy_floor_reflects(glassy: object) -> None:
    assert _area(glassy, 1, "refraction") > 10, "the cube seen through the glass sphere has no refraction mask"
    assert _area(glassy, 3, "light") > 50, "the emissive cube has no light mask"
    assert _area(glassy, 2, "reflection") > 10, "the sphere on a glossy floor has no reflection mask"
    for k in (1, 2):
        assert "light" not in glassy.meta.effects.get(k, []), f"object {k} emits nothing"


@pytest.mark.parametrize("which", ["plain", "glassy"])
def test_kind_masks_lie_in_the_effect_mask_and_pairs_stay_exact(which: str, request: pytest.FixtureRequest) -> None:
    scene = request.getfixturevalue(which)
    meta: SceneMeta = scene.meta
    params = ExactParams(**{k: meta.quality["params"][v] for k, v in (
        ("tolerance", "effect_tolerance"), ("blur", "effect_blur"), ("dilation", "mask_dilation"),
        ("feather", "feather"))})
    full = scene.rgb[contract.FULL]
    for k, kinds in scene.effects.items():
        minus = scene.rgb[contract.minus_video(k)]
        own = (scene.amodal[k] > 0) | (scene.visible == k)
        region = dilate(effect_mask(full, minus, params) | own, params.dilation + 1)
        stats = meta.quality["objects"][str(k)]["kinds"]
        for kind, mask in kinds.items():
            assert set(np.unique(mask)) <= {0, 255}
            assert not (mask > 0)[~region].any(), f"object {k}: {kind} mask outside its effect mask"
            assert not (mask > 0)[scene.visible == k].any(), f"object {k}: {kind} mask on the object itself"
            assert stats["areas"][kind] == pytest.approx(float(np.mean(mask > 0)), abs=1e-6)
    for k in meta.layers:
        # k's solo layer cannot hold effects that need another object (k seen through the glass, k's shadow in
        # the glowing cube's light): its kind masks must hold those
        kinds = np.zeros(scene.visible.shape, bool)
        for mask in scene.effects.get(k, {}).values():
            kinds |= mask > 0
        own = (scene.amodal[k] > 0) | (scene.visible == k)
        share = violations(full, scene.rgb[contract.minus_video(k)], scene.layers[k][..., 3], own | kinds)
        assert share < 0.002, f"object {k}: {share:.3%} of pixels change without layer, mask or kind mask"
        if which == "plain":
            assert meta.quality["objects"][str(k)]["violations"] < 0.002


def test_light_passes_leave_the_rgb_bytes_unchanged() -> None:
    """Every material kind, a whole frame and a crop window, rendered with and without the light passes."""
    from genbench.generators.kubric.blender import LIGHT_PASSES, BlenderScene

    spec = glass_spec()
    frames = {}
    for passes in (True, False):
        blender = BlenderScene(copy.deepcopy(spec), SETTINGS, threads=2, light_passes=passes)
        try:
            position, quaternion = camera_path(spec["camera"], 1, SETTINGS.fps)
            poses = {o["id"]: (np.asarray(o["position"]) + np.array([0.0, 0.0, 0.4]), np.array([1.0, 0, 0, 0]))
                     for o in spec["objects"]}
            blender.pose((position[0], quaternion[0]), poses)
            blender.show_only(frozenset(poses))
            whole = blender.render(index=True, passes=passes)
            if passes:
                assert set(blender.last_passes) == set(LIGHT_PASSES)
                assert blender.last_passes["transmission"].max() > 0, "the glass sphere shows no transmission"
            window = blender.render(index=False, rect=Rect(8, 30, 4, 24), passes=passes)
            frames[passes] = (whole[0], whole[1], window[0])
        finally:
            blender.close()
    for a, b in zip(frames[True], frames[False], strict=True):
        np.testing.assert_array_equal(a, b)


def test_render_writes_effect_kinds_that_validate_accepts(tmp_path: Path) -> None:
    """A `genbench render` scene with an emissive object: meta.json effects, per-kind masks, manifest kinds."""
    args = ["render", "--preset", "tiny", "--frames", "2"]
    settings = settings_from_args(build_parser().parse_args([*args, "--scenes", "1", "--out", "unused"]))
    seed = next(s for s in range(300) if any(o["material"].get("emission")
                                              for o in sample_spec(replace(settings, seed=s), 0)["objects"]))
    out = tmp_path / "out"
    assert run(build_parser().parse_args([*args, "--scenes", "1", "--seed", str(seed), "--out", str(out)])) == 0
    report = validate_dataset(out)
    assert report.ok, [str(p) for p in report.problems]
    scene = read_scene(out, list_scene_ids(out)[0])
    glowing = [o["id"] for o in scene.meta.spec["objects"] if o["material"].get("emission")]
    assert any("light" in scene.meta.effects.get(k, []) for k in glowing), scene.meta.effects
    for k, kinds in scene.meta.effects.items():
        assert sorted(scene.effects[k]) == kinds and all(scene.effects[k][kind].any() for kind in kinds)


def test_kind_rules_on_synthetic_passes() -> None:
    """Without Blender: a darker diffuse-direct patch is a shadow, a brighter one light, a changed transmission patch
    refraction; noise of every pass alone (10% relative, zero mean) and changes below the tolerance make no mask."""
    from genbench.generators.kubric.kinds import PASSES, KindParams, kind_masks

    rng = np.random.default_rng(0)
    shape = (2, 48, 48)
    base = {name: np.full(shape, 1.0, np.float32) for name in PASSES}
    base["transmission"][:] = 0.0
    full = {name: v + rng.normal(0, 0.1, shape).astype(np.float32) * (v > 0) for name, v in base.items()}
    minus = {name: v + rng.normal(0, 0.1, shape).astype(np.float32) * (v > 0) for name, v in base.items()}
    patch = (slice(None), slice(10, 20), slice(10, 20))
    far = (slice(None), slice(30, 40), slice(30, 40))
    full["diffuse_direct"][patch] -= 0.6  # k's shadow
    full["diffuse_indirect"][far] += 0.6  # k's light
    full["transmission"][far] += 0.4  # k seen through glass
    image = np.full((*shape, 3), 120, np.uint8)
    minus_image = image.copy()
    minus_image[patch] += 30
    minus_image[far] -= 30
    own = np.zeros(shape, bool)
    own[:, 22:26, 22:26] = True
    region = np.ones(shape, bool)
    result = kind_masks(image, minus_image, full, minus, own, region, KindParams())
    assert set(result.masks) == {"shadow", "light", "refraction"}
    assert result.masks["shadow"][patch].mean() > 0.9 and not result.masks["shadow"][far].any()
    assert result.masks["light"][far].mean() > 0.9 and not result.masks["light"][patch].any()
    assert not any(m[own].any() for m in result.masks.values())
    quiet = kind_masks(image, image + 1, full, minus, own, region, KindParams())  # passes noisy, image unchanged
    assert quiet.masks == {}
    noisy = [{name: v + rng.normal(0, 0.1, shape).astype(np.float32) * (v > 0) for name, v in base.items()}
             for _ in range(2)]
    noise_only = kind_masks(image, minus_image, *noisy, own, region, KindParams())
    assert noise_only.masks == {}, "passes that changed by noise alone made a kind"


def test_v1_looks_runs_write_no_kinds() -> None:
    """The v1 benchmark recipes (v1 looks) write what they always wrote: no light passes, no kind masks, no new
    meta.json fields; the same scene with the looks beyond v1 gets its shadow."""
    from genbench.generators.kubric.settings import V1_LOOKS

    spec = plain_spec()
    spec.update(objects=spec["objects"][:1], targets=[1])
    v1 = make_scene(replace(SETTINGS, frames=1, **V1_LOOKS), 0, RenderOptions(threads=2), spec=copy.deepcopy(spec))
    assert v1.effects == {} and "effects" not in v1.meta.to_dict()
    assert "kinds" not in v1.meta.quality and "kinds" not in v1.meta.quality["objects"]["1"]
    assert "kinds" not in v1.meta.run["timings"]
    now = make_scene(replace(SETTINGS, frames=1), 0, RenderOptions(threads=2), spec=spec)
    assert "shadow" in now.meta.effects[1]
    np.testing.assert_array_equal(v1.rgb[contract.FULL], now.rgb[contract.FULL])
