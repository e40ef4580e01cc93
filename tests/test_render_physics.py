"""Physics counterfactuals (`--counterfactual physics`): minus_k re-simulated without k, on tiny real renders.

The scene: cube 1 slides into cube 2 (struck between frames 1 and 2); cube 3 rests out of reach.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from genbench import contract
from genbench.benchmark.regions import removal_regions
from genbench.cli import build_parser
from genbench.commands.render import settings_from_args
from genbench.dataset import finalize, read_manifest
from genbench.errors import GenbenchError
from genbench.generators.kubric import plan
from genbench.generators.kubric.counterfactual import departs, world_without
from genbench.generators.kubric.exact import violations
from genbench.generators.kubric.make import RenderOptions, make_scene, sample_spec
from genbench.generators.kubric.region import EffectBounds, project
from genbench.generators.kubric.settings import RenderSettings, resolve_settings
from genbench.generators.kubric.spec import camera_path
from genbench.pixels import max_abs_diff
from genbench.samples import load_removal
from genbench.scene import read_scene, write_scene
from genbench.trimask import dilate
from genbench.validate import validate_dataset

SETTINGS = resolve_settings("tiny", resolution=40, frames=4, samples=8)
PHYSICS = replace(SETTINGS, counterfactual="physics")


def _spec(slide: float) -> dict:
    """Cube 1 slides along x at `slide` m/s from 0.8 m left of cube 2 (which it strikes when `slide` > 0);
    cube 3 rests 1.9 m away. Static camera looking along +y, sun 50 degrees high behind the cubes."""
    spec = sample_spec(SETTINGS, 0)
    plastic = {"kind": "plastic", "roughness": 0.5, "metallic": 0.0, "transmission": 0.0, "ior": 1.45, "texture": None}
    still = {"motion": "static", "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0, 0.0], "params": {},
             "angular_velocity": [0.0, 0.0, 0.0], "density": 1.0, "friction": 0.5, "restitution": 0.2,
             "shape": "cube", "asset_id": "builtin/cube"}
    spec.update(
        world={"kind": "gradient", "horizon": [0.8, 0.85, 0.9], "zenith": [0.4, 0.5, 0.8], "strength": 0.5},
        floor={"finish": "diffuse", "color": [0.75, 0.75, 0.75], "roughness": 1.0, "metallic": 0.0, "texture": None},
        walls=None, lights=[], scene_motion="dynamic", targets=[1, 2, 3],
        sun={"low": False, "elevation_deg": 50.0, "azimuth_deg": 90.0, "strength": 4.0, "angle_deg": 1.0,
             "color": [1.0, 1.0, 1.0]},
        objects=[{**still, "id": 1, "scale": 0.6, "position": [-1.1, 0, 0], "motion": "sliding", "friction": 0.1,
                  "velocity": [slide, 0.0, 0.0], "material": {**plastic, "color": [0.8, 0.2, 0.2]}},
                 {**still, "id": 2, "scale": 0.5, "position": [0.0, 0, 0], "density": 0.5,
                  "material": {**plastic, "color": [0.2, 0.8, 0.2]}},
                 {**still, "id": 3, "scale": 0.6, "position": [1.9, 0.6, 0],
                  "material": {**plastic, "color": [0.2, 0.4, 0.8]}}],
    )
    spec["camera"].update(motion="static", distance=6.5, elevation_deg=35.0, azimuth_deg=-90.0, look_at=[0, 0.3, 0.3],
                          focal_length=35.0, orbit_deg_per_s=0.0, velocity=[0.0, 0.0, 0.0], shake=None)
    return copy.deepcopy(spec)


@pytest.fixture(scope="module")
def struck() -> tuple:
    """The contact scene under both counterfactuals."""
    options = RenderOptions(threads=2)
    return make_scene(PHYSICS, 0, options, spec=_spec(5.0)), make_scene(SETTINGS, 0, options, spec=_spec(5.0))


def test_the_counterfactual_is_a_setting_recorded_only_when_physics() -> None:
    assert "counterfactual" not in SETTINGS.to_dict()  # v1 recipes write the meta.json they always wrote
    assert PHYSICS.to_dict()["counterfactual"] == "physics"
    assert RenderSettings.from_dict(PHYSICS.to_dict()) == PHYSICS
    with pytest.raises(GenbenchError, match="--counterfactual must be one of visual, physics"):
        replace(SETTINGS, counterfactual="optical")
    args = build_parser().parse_args(["render", "--scenes", "1", "--out", "x", "--counterfactual", "physics"])
    assert settings_from_args(args).counterfactual == "physics"
    assert settings_from_args(build_parser().parse_args(["render", "--scenes", "1", "--out", "x"])).counterfactual \
        == "visual"


def test_only_objects_that_depart_from_the_full_path_are_affected() -> None:
    t = 5
    still = (np.zeros((t, 3)), np.tile([1.0, 0.0, 0.0, 0.0], (t, 1)))
    pushed = (still[0].copy(), still[1].copy())
    pushed[0][3:, 0] = [0.05, 0.2]  # struck at frame 3
    turned = (still[0].copy(), still[1].copy())
    turned[1][2:] = [np.cos(0.001), 0.0, 0.0, np.sin(0.001)]  # 2 mrad about z from frame 2: beyond 1 mrad
    nudged = (still[0] + 1e-4, still[1])  # under the tolerance: keeps the full path
    assert departs(still, pushed).tolist() == [False, False, False, True, True]
    assert departs(still, turned).tolist() == [False, False, True, True, True]
    world = world_without(1, {2: still, 3: still, 4: still}, {2: pushed, 3: nudged, 4: turned})
    assert world.affected == (2, 4)
    assert world.poses[3] is not nudged and np.array_equal(world.poses[3][0], still[0])
    np.testing.assert_array_equal(world.poses[2][0], pushed[0])
    assert [world.moved({2: still, 3: still, 4: still}, f) for f in range(t)] == [[], [], [4], [2, 4], [2, 4]]


def test_a_physics_counterfactual_moves_a_struck_object_and_leaves_a_static_one_untouched(struck: tuple) -> None:
    physics, visual = struck
    samples = {s.remove: s for s in physics.meta.samples}
    assert samples[(1,)].affected == (2,) and samples[(2,)].affected == (1,) and samples[(3,)].affected == ()
    assert physics.meta.changed == [1, 2] and all(not s.affected for s in visual.meta.samples)
    paths = {inst.id: inst.extra for inst in physics.meta.instances}  # what minus_k rendered, in meta.json
    assert sorted(paths[2]["without"]) == ["1"] and sorted(paths[1]["without"]) == ["2"] and "without" not in paths[3]
    rest = np.asarray(paths[2]["without"]["1"]["positions"])
    assert (rest == rest[0]).all() and np.linalg.norm(np.asarray(paths[2]["positions"])[-1] - rest[-1]) > 0.2
    visible, full = physics.visible, physics.rgb[contract.FULL]
    # where 2 was struck to: gone from minus_1 under physics, still there under visual
    struck_to = (visible[-1] == 2) & (visible[0] != 2) & ~dilate(visible[-1] == 1, 2)
    assert struck_to.sum() >= 4
    assert max_abs_diff(physics.rgb[contract.minus_video(1)][-1], full[-1])[struck_to].mean() > 30
    assert max_abs_diff(visual.rgb[contract.minus_video(1)][-1], full[-1])[struck_to].mean() < 5
    # where 2 rested (and 1 is at the last frame, or nothing): under physics 2 still rests there
    rested = (visible[0] == 2) & (visible[-1] != 2)
    assert rested.sum() >= 4
    assert max_abs_diff(full[-1], full[0])[rested].mean() > 30
    assert max_abs_diff(physics.rgb[contract.minus_video(1)][-1], full[0])[rested].mean() < 5
    # the changed region holds 2 in both worlds and is uncertain in the stored trimask; 3 is untouched
    changed = physics.changed[1] > 0
    assert not changed[:2].any() and changed[-1][struck_to | rested].all()
    sid = contract.sample_id(physics.meta.scene_id, (1,))
    tri = physics.trimasks[sid]
    kept = (struck_to | rested) & ~dilate(visible[-1] == 1, 2)  # 1's remove region (0) wins over the rest
    assert kept.sum() >= 4 and (tri[-1][kept] == contract.TRIMASK_UNCERTAIN).all()
    three = visible == 3
    assert not (changed & dilate(three, 2)).any() and (tri[three] == contract.TRIMASK_PRESERVE).all()
    assert three.sum() >= 40 and max_abs_diff(physics.rgb[contract.minus_video(1)], full)[three].mean() < 1
    assert set(physics.trimasks) == {sid, contract.sample_id(physics.meta.scene_id, (2,))}
    # what 3's removal leaves, and every other video, is the same under both counterfactuals
    for name in (contract.FULL, contract.BG, contract.minus_video(3), *(contract.solo_video(k) for k in (1, 2, 3))):
        np.testing.assert_array_equal(physics.rgb[name], visual.rgb[name], err_msg=name)
    for k in (1, 2, 3):  # exactness holds for everything that did not move: recomputed from the pixels
        quality = physics.meta.quality["objects"][str(k)]
        own = (physics.amodal[k] > 0) | (visible == k) | (physics.changed[k] > 0 if k in physics.changed else False)
        share = violations(full, physics.rgb[contract.minus_video(k)], physics.layers[k][..., 3], own)
        assert share == pytest.approx(quality["violations"], abs=1e-6) and share < 0.002, f"object {k}: {share:.2%}"


def test_minus_windows_grow_over_what_moves_differently_in_both_worlds() -> None:
    spec = _spec(5.0)
    camera = camera_path(spec["camera"], 2, 12.0)
    bounds = EffectBounds(spec, {k: (np.full(3, -0.25), np.full(3, 0.25)) for k in (1, 2, 3)})
    still = np.array([1.0, 0.0, 0.0, 0.0])
    at = {1: [-1.1, 0.0, 0.25], 2: [0.0, 0.0, 0.25], 3: [1.9, 0.6, 0.25]}
    full = {k: (np.array([p, p]), np.array([still, still])) for k, p in at.items()}
    away = np.array([[0.0, 0.0, 0.25], [-1.6, -1.8, 0.25]])  # without 1, object 2 is elsewhere at frame 1
    world = {2: (away, full[2][1]), 3: full[3]}
    variants = plan.scene_variants([1, 2, 3], [1])
    kw = {"focal_mm": spec["camera"]["focal_length"], "sensor_mm": spec["camera"]["sensor_width"], "size": 64,
          "margin": 2}
    visual = plan.variant_windows(variants, bounds, camera, full, **kw)
    physics = plan.variant_windows(variants, bounds, camera, full, worlds={"minus_1": world}, **kw)
    x, y = project(away[1:], camera[0][1], camera[1][1], kw["focal_mm"], kw["sensor_mm"], 64)[0].astype(int)

    def covers(rects: list | None) -> bool:
        return rects is None or any(r.y0 <= y < r.y1 and r.x0 <= x < r.x1 for r in rects)

    assert physics[("minus_1", 0)] == visual[("minus_1", 0)]  # nothing moved differently yet
    assert not covers(visual[("minus_1", 1)]) and covers(physics[("minus_1", 1)])
    assert physics[("solo_1", 1)] == visual[("solo_1", 1)] and physics[("bg", 1)] == visual[("bg", 1)]


def test_cropped_physics_renders_equal_whole_frames(struck: tuple) -> None:
    """minus_k with a world of its own, rendered in windows (index pass included): same bytes as whole frames."""
    physics, _ = struck
    whole = make_scene(PHYSICS, 0, RenderOptions(threads=2, crop=False), spec=_spec(5.0))
    assert physics.meta.render["rendered_frames"] < whole.meta.render["rendered_frames"]
    for name in whole.rgb:
        np.testing.assert_array_equal(physics.rgb[name], whole.rgb[name], err_msg=name)
    for k in whole.changed:
        np.testing.assert_array_equal(physics.changed[k], whole.changed[k], err_msg=str(k))
    assert physics.trimasks.keys() == whole.trimasks.keys()


def test_physics_samples_validate_and_load_their_stored_trimask(struck: tuple, tmp_path: Path) -> None:
    physics, _ = struck
    root = tmp_path / "physics"
    write_scene(root, physics)
    finalize(root, name="physics", generator="kubric", settings=PHYSICS.to_dict())
    report = validate_dataset(root)
    assert report.ok, [str(p) for p in report.problems]
    again = read_scene(root, physics.meta.scene_id)
    np.testing.assert_array_equal(again.changed[1], physics.changed[1])
    rows = {s.remove: s for s in read_manifest(root)}
    assert rows[(1,)].trimask_stored and not rows[(3,)].trimask_stored
    item = load_removal(root, rows[(1,)], None)
    np.testing.assert_array_equal(item.trimask, physics.trimasks[rows[(1,)].sample_id])
    # the benchmark scores the changed region apart: it is neither effect nor preserve
    np.testing.assert_array_equal(item.dynamics, physics.changed[1] > 0)
    regions = removal_regions(item.frames, item.target, item.trimask, item.tolerance, item.effects, item.dynamics)
    assert regions["dynamics"].any() and not (regions["dynamics"] & (regions["effect"] | regions["preserve"])).any()
    assert load_removal(root, rows[(3,)], None).dynamics is None

    meta_path = root / contract.SCENES_DIR / physics.meta.scene_id / contract.META_FILE
    meta = json.loads(meta_path.read_text())
    meta["samples"][0]["affected"] = [1, 9]  # the removed object itself and no instance
    meta["changed"] = [2]
    meta_path.write_text(json.dumps(meta))
    messages = [str(p) for p in validate_dataset(root).errors]
    assert any("affected objects [1, 9] are not kept instances" in m for m in messages), messages
    assert any("changed-region mask" in m for m in messages), messages
    assert any("masks/changed/1: folder not listed" in m for m in messages), messages


def test_a_scene_without_contacts_renders_the_same_bytes_under_both_counterfactuals() -> None:
    settings = replace(SETTINGS, frames=3)
    options = RenderOptions(threads=2)
    physics = make_scene(replace(settings, counterfactual="physics"), 0, options, spec=_spec(-5.0))
    visual = make_scene(settings, 0, options, spec=_spec(-5.0))
    assert not physics.changed and not physics.trimasks
    for name in visual.rgb:
        np.testing.assert_array_equal(physics.rgb[name], visual.rgb[name], err_msg=name)
    for k in visual.layers:
        np.testing.assert_array_equal(physics.layers[k], visual.layers[k])
    np.testing.assert_array_equal(physics.visible, visual.visible)
    a, b = physics.meta.to_dict(), visual.meta.to_dict()
    assert a.pop("settings") == {**b.pop("settings"), "counterfactual": "physics"}
    assert a == b
