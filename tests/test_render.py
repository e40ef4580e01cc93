"""The renderer's pure parts, no Blender: scene sampling, meshes, physics, render planning, crop windows, exact GT."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from genbench import contract
from genbench.errors import GenbenchError
from genbench.generators.kubric import exact, geometry, plan, region
from genbench.generators.kubric.make import sample_spec
from genbench.generators.kubric.settings import PRESETS, resolve_settings
from genbench.generators.kubric.simulate import quat_to_matrix, simulate
from genbench.generators.kubric.spec import camera_path, look_at_quaternion, sample_scene

SETTINGS = PRESETS["default"]


def _spec(index: int, seed: int = 0, **overrides: object) -> dict:
    settings = resolve_settings("default", seed=seed, **overrides)
    return sample_scene(settings, index, rng=np.random.default_rng(np.random.SeedSequence((seed, index))))


def test_spec_is_a_pure_function_of_seed_and_index_and_loads_no_renderer() -> None:
    code = (
        "import sys, json, numpy as np\n"
        "from genbench.generators.kubric.make import sample_spec\n"
        "from genbench.generators.kubric.settings import PRESETS\n"
        "print(json.dumps([sample_spec(PRESETS['default'], i) for i in range(3)]))\n"
        "assert not {'bpy', 'pybullet'} & set(sys.modules), 'sampling imported a renderer'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [sample_spec(PRESETS["default"], i) for i in range(3)]
    assert _spec(0) != _spec(1) and _spec(0) != _spec(0, seed=1)


def test_spec_is_json_native_and_covers_the_issue_distribution() -> None:
    specs = [_spec(i) for i in range(200)]
    assert all(json.loads(json.dumps(s)) == s for s in specs[:5])
    share = lambda f: np.mean([f(s) for s in specs])  # noqa: E731
    assert 0.35 < share(lambda s: s["floor"]["finish"] == "mirror") < 0.65
    assert 0.15 < share(lambda s: s["walls"] is not None) < 0.35
    assert 0.35 < share(lambda s: s["sun"]["low"]) < 0.65
    assert 0.35 < share(lambda s: s["scene_motion"] == "static") < 0.65
    counts = {len(s["objects"]) for s in specs}
    assert counts == {1, 2, 3, 4, 5}
    shapes = {o["shape"] for s in specs for o in s["objects"]}
    assert shapes == set(geometry.BUILTIN_SHAPES)
    motions = {s["camera"]["motion"] for s in specs}
    assert motions == {"static", "linear", "orbit"}
    assert {s["split"] for s in specs} == {"train", "val"}
    assert any(o["material"]["transmission"] > 0 for s in specs for o in s["objects"])


def test_targets_pick_a_subset_and_assets_are_used() -> None:
    spec = _spec(3, targets=1)
    assert len(spec["targets"]) == 1 and spec["targets"][0] in [o["id"] for o in spec["objects"]]
    rng = np.random.default_rng(0)
    with_assets = [sample_scene(SETTINGS, i, rng=rng, assets=["gso/mug.obj"]) for i in range(20)]
    assert any(o["asset_id"] == "assets/gso/mug.obj" for s in with_assets for o in s["objects"])


def test_settings_validate_user_input() -> None:
    with pytest.raises(GenbenchError, match="unknown --preset"):
        resolve_settings("huge")
    with pytest.raises(GenbenchError, match="--frames"):
        resolve_settings("tiny", frames=0)
    assert resolve_settings("paper").resolution == 256 and resolve_settings("paper").frames == 80
    assert resolve_settings("default", frames=5).frames == 5


@pytest.mark.parametrize("shape", [s for s in geometry.BUILTIN_SHAPES if s != "suzanne"])
def test_builtin_meshes_are_centred_and_scaled(shape: str) -> None:
    params = geometry.sample_shape_params(shape, rng=np.random.default_rng(1))
    verts, faces = geometry.builtin_mesh(shape, params, 0.8)
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-9)
    assert (hi - lo).max() == pytest.approx(0.8)
    assert all(max(f) < len(verts) for f in faces) and len(faces) >= 4


def test_camera_path_looks_at_its_target() -> None:
    spec = _spec(5)
    positions, quaternions = camera_path(spec["camera"], 6, 12.0)
    assert positions.shape == (6, 3) and quaternions.shape == (6, 4)
    forward = -quat_to_matrix(quaternions[0])[:, 2]
    to_target = np.asarray(spec["camera"]["look_at"]) - positions[0]
    assert np.dot(forward, to_target / np.linalg.norm(to_target)) > 0.99
    q = look_at_quaternion(np.array([0.0, -5.0, 0.0]), np.zeros(3))  # looking along +y, up stays +z
    np.testing.assert_allclose(quat_to_matrix(q) @ [0, 0, -1], [0, 1, 0], atol=1e-9)
    np.testing.assert_allclose(quat_to_matrix(q) @ [0, 1, 0], [0, 0, 1], atol=1e-9)


def test_a_longer_video_extends_a_shorter_one() -> None:
    short, long = _spec(4, frames=4), _spec(4, frames=12)
    assert {k: v for k, v in short.items() if k != "camera"} == {k: v for k, v in long.items() if k != "camera"}
    a, b = camera_path(short["camera"], 4, 12.0), camera_path(long["camera"], 12, 12.0)
    np.testing.assert_allclose(a[0], b[0][:4])
    np.testing.assert_allclose(a[1], b[1][:4])


def _meshes(spec: dict) -> dict[int, np.ndarray]:
    return {o["id"]: geometry.builtin_mesh(o["shape"] if o["shape"] in geometry.PRIMITIVES + geometry.PROCEDURAL
                                           else "cube", o["params"], o["scale"])[0] for o in spec["objects"]}


def test_simulation_is_deterministic_and_objects_land_on_the_floor() -> None:
    spec = next(s for s in (_spec(i) for i in range(50))
                if any(o["motion"] == "dropped" for o in s["objects"]) and len(s["objects"]) >= 2)
    meshes = _meshes(spec)
    a = simulate(spec, meshes, frames=36, fps=12.0)
    b = simulate(spec, meshes, frames=36, fps=12.0)
    for k in a:
        np.testing.assert_array_equal(a[k].positions, b[k].positions)
        assert a[k].bboxes_3d.shape == (36, 8, 3)
        lowest = (meshes[k] @ quat_to_matrix(a[k].quaternions[-1]).T + a[k].positions[-1])[:, 2].min()
        assert lowest > -0.02  # nothing sinks through the floor
    dropped = next(o["id"] for o in spec["objects"] if o["motion"] == "dropped")
    assert a[dropped].positions[-1][2] < a[dropped].positions[0][2]


def test_a_static_scene_does_not_move() -> None:
    spec = next(s for s in (_spec(i) for i in range(50)) if s["scene_motion"] == "static" and
                all(o["shape"] in ("cube", "cylinder", "star", "twisted") for o in s["objects"]))
    for tr in simulate(spec, _meshes(spec), frames=8, fps=12.0).values():
        assert (tr.positions == tr.positions[0]).all() and (tr.quaternions == tr.quaternions[0]).all()


def test_plan_renders_identical_pairs_once() -> None:
    frames = 4
    still = (np.zeros((frames, 3)), np.tile([1.0, 0, 0, 0], (frames, 1)))
    moving = (np.arange(frames * 3, dtype=float).reshape(frames, 3), np.tile([1.0, 0, 0, 0], (frames, 1)))
    variants = plan.scene_variants([1, 2], [1, 2])
    jobs = plan.plan_renders(variants, still, {1: moving, 2: still})
    uses = {use: job for job in jobs for use in job.uses}
    assert len(uses) == len(variants) * frames
    assert len({id(uses[(contract.BG, t)]) for t in range(frames)}) == 1  # static camera: bg rendered once
    assert uses[(contract.minus_video(1), 2)] is uses[(contract.solo_video(2), 0)]  # both show object 2 alone
    assert len({id(uses[(contract.FULL, t)]) for t in range(frames)}) == frames  # object 1 moves
    assert all(j.index for j in jobs if any(n in (contract.FULL, contract.solo_video(2)) for n, _ in j.uses))
    naive = plan.plan_renders(variants, still, {1: moving, 2: still}, dedupe=False)
    assert len(naive) == len(variants) * frames


def test_projection_and_window_merging() -> None:
    cam = np.array([0.0, -6.0, 0.0])
    q = look_at_quaternion(cam, np.zeros(3))
    pixels = region.project(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, -7.0, 0.0]])[:2], cam, q, 32.0, 32.0,
                            100)
    np.testing.assert_allclose(pixels[0], [50, 50])
    assert pixels[1][0] > 50 and pixels[1][1] == pytest.approx(50)
    assert region.project(np.array([[0.0, -7.0, 0.0]]), cam, q, 32.0, 32.0, 100) is None  # behind: whole frame
    a, b, far = region.Rect(0, 10, 0, 10), region.Rect(5, 15, 5, 15), region.Rect(80, 90, 80, 90)
    assert region.merge([a, b, far], slack=100) == [region.Rect(0, 15, 0, 15), far]


def test_effect_windows_cover_the_object_its_floor_shadow_and_reflection() -> None:
    spec = _spec(0)
    spec["sun"].update(elevation_deg=15.0, azimuth_deg=0.0, angle_deg=1.0)
    spec["lights"], spec["walls"] = [], None
    spec["floor"]["finish"] = "mirror"
    bounds = region.EffectBounds(spec, {1: (np.full(3, -0.5), np.full(3, 0.5))})
    pose = {1: (np.array([0.0, 0.0, 0.5]), np.array([1.0, 0.0, 0.0, 0.0]))}
    parts = bounds.components(1, pose)
    points = np.concatenate(parts)
    shadow_tip = np.array([-1.0 / np.tan(np.radians(15.0)), 0.0, 0.0])  # the top edge's shadow on the floor
    assert points[:, 0].min() <= shadow_tip[0] + 0.5
    assert points[:, 2].min() <= -1.0  # the mirror image reaches below the floor
    spec["lights"] = [{"kind": "point", "position": [0.0, 2.0, 0.8], "power": 100.0, "size": 0.2,
                       "color": [1, 1, 1]}]
    assert region.EffectBounds(spec, {1: (np.full(3, -0.5), np.full(3, 0.5))}).components(1, pose) is None


def _noisy(shape: tuple[int, ...], rng: np.random.Generator, base: int = 120) -> np.ndarray:
    return np.clip(base + rng.integers(-1, 2, size=shape), 0, 255).astype(np.uint8)


def test_exact_pairs_keep_the_shadow_and_drop_the_noise() -> None:
    rng = np.random.default_rng(0)
    t, h, w = 2, 40, 40
    bg = _noisy((t, h, w, 3), rng)
    obj = np.zeros((t, h, w), bool)
    obj[:, 10:16, 10:16] = True
    shadow = np.zeros((t, h, w), bool)
    shadow[:, 16:22, 16:30] = True
    full = _noisy((t, h, w, 3), rng)  # same scene, other noise
    full[shadow] = (full[shadow] * 0.6).astype(np.uint8)
    full[obj] = (200, 30, 30)
    solo = full.copy()
    visible = np.where(obj, 1, 0).astype(np.uint8)
    raw = {contract.FULL: full, contract.BG: bg, "minus_1": _noisy((t, h, w, 3), rng), "solo_1": solo}
    result = exact.make_exact(raw, visible, {1: obj}, [1], exact.ExactParams())
    minus, layer = result.rgb["minus_1"], result.layers[1]
    far = np.zeros((t, h, w), bool)
    far[:, 32:, :8] = True
    np.testing.assert_array_equal(minus[far], full[far])  # noise is not an effect: the input is the answer there
    assert exact.max_abs_diff(minus, full)[shadow].mean() > 20  # the shadow is removed
    assert (layer[..., 3][obj] == 255).all() and (layer[..., 3][shadow] > 60).all()
    np.testing.assert_array_equal(exact.over(layer, result.rgb[contract.BG]), result.rgb["solo_1"])
    assert exact.violations(full, minus, layer[..., 3], obj) == 0.0
    stats = result.quality["objects"]["1"]
    assert stats["violations"] == 0.0 and stats["effect_fraction"] > 0.05 and stats["noise_floor_psnr"] > 40


def test_difference_matte_is_minimal_and_recomposes() -> None:
    rng = np.random.default_rng(3)
    bg = rng.integers(0, 256, size=(1, 16, 16, 3), dtype=np.uint8)
    solo = rng.integers(0, 256, size=(1, 16, 16, 3), dtype=np.uint8)
    support = np.ones((1, 16, 16), bool)
    layer = exact.difference_matte(solo, bg, support, np.zeros_like(support))
    np.testing.assert_allclose(exact.over(layer, bg).astype(int), solo.astype(int), atol=1)
    same = exact.difference_matte(bg, bg, support, np.zeros_like(support))
    assert (same[..., 3] == 0).all()
