"""Tiny real renders (bpy + Cycles + pybullet): a valid dataset, same seed same bytes, resume after kill -9,
exact pairs (a low sun's shadow is in the pair and in the layer), the fast path equals the naive reference."""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from genbench import contract
from genbench.cli import build_parser
from genbench.commands.render import run
from genbench.errors import GenbenchError
from genbench.generators.kubric.exact import violations
from genbench.generators.kubric.make import RenderOptions, make_scene, sample_spec
from genbench.generators.kubric.preview import PREVIEW_FILE
from genbench.generators.kubric.settings import resolve_settings
from genbench.pixels import max_abs_diff
from genbench.scene import list_scene_ids, read_scene
from genbench.trimask import dilate
from genbench.validate import validate_dataset

pytestmark = pytest.mark.slow
SCENES = 4
RENDER = [sys.executable, "-c", "import sys; from genbench.cli import build_parser; "
          "from genbench.commands.render import run; sys.exit(run(build_parser().parse_args(sys.argv[1:])))"]


def render(out: Path, *extra: str) -> int:
    return run(build_parser().parse_args(["render", "--scenes", str(SCENES), "--out", str(out), "--preset", "tiny",
                                          "--seed", "3", *extra]))


def digest(root: Path) -> dict[str, str]:
    """sha256 of every file under scenes/ but run.json (seconds, threads: they may differ between runs while
    every frame and meta.json are identical), and the manifest."""
    out = {}
    for path in sorted((root / contract.SCENES_DIR).rglob("*")):
        if path.is_file() and path.name != contract.RUN_FILE:
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    out[contract.MANIFEST_FILE] = hashlib.sha256((root / contract.MANIFEST_FILE).read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "reference"
    assert render(out) == 0
    return out


def test_render_writes_a_valid_dataset_with_previews(reference: Path) -> None:
    report = validate_dataset(reference)
    assert report.ok, [str(p) for p in report.problems]
    ids = list_scene_ids(reference)
    assert len(ids) == SCENES
    for sid in ids:
        scene = read_scene(reference, sid)
        meta = scene.meta
        assert (reference / contract.SCENES_DIR / sid / PREVIEW_FILE).stat().st_size > 0
        assert meta.spec["targets"] == meta.layers == meta.amodal
        assert {inst["id"] for inst in [i.to_dict() for i in meta.instances]} == set(meta.object_ids)
        first = meta.instances[0].to_dict()
        assert np.asarray(first["positions"]).shape == (meta.num_frames, 3)
        assert np.asarray(first["bboxes_3d"]).shape == (meta.num_frames, 8, 3)
        assert np.asarray(meta.camera["quaternions"]).shape == (meta.num_frames, 4)
        assert meta.quality["params"]["effect_tolerance"] == 3 and meta.run["timings"]["total"] > 0
        for k in meta.layers:
            assert scene.amodal[k].any(), "a target object never shows in its solo render"
            assert (scene.layers[k][..., 3][scene.amodal[k] > 0] == 255).all()
    assert set(np.unique(scene.visible)) <= {0, *meta.object_ids}


def test_a_tiny_render_pastes(reference: Path, tmp_path: Path) -> None:
    """`genbench paste` takes a 3-frame `--preset tiny` render as its source and targets."""
    from genbench.commands.paste import run as paste

    out = tmp_path / "pasted"
    args = build_parser().parse_args(["paste", "--source", str(reference), "--targets", str(reference), "--count", "2",
                                      "--out", str(out), "--shadow"])
    assert paste(args) == 0
    assert validate_dataset(out).ok and len(list_scene_ids(out)) == 2


def test_same_seed_same_bytes_in_parallel_and_resume_after_kill_9(reference: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    subprocess.run([*RENDER, "render", "--scenes", str(SCENES), "--out", str(again), "--preset", "tiny", "--seed", "3",
                    "--workers", "2"], check=True, capture_output=True)
    assert digest(again) == digest(reference)

    killed = tmp_path / "killed"
    proc = subprocess.Popen([*RENDER, "render", "--scenes", str(SCENES), "--out", str(killed), "--preset", "tiny",
                             "--seed", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list_scene_ids(killed) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = list_scene_ids(killed)
    assert 1 <= len(done) < SCENES, "the run must be killed mid-way"
    assert render(killed) == 0
    assert digest(killed) == digest(reference)
    assert validate_dataset(killed).ok


def _low_sun_spec(settings: object) -> dict:
    """Two objects on a plain floor, static camera looking along +y, a sun 12 degrees high in the west."""
    spec = sample_spec(settings, 0)
    material = {"kind": "plastic", "roughness": 0.5, "metallic": 0.0, "transmission": 0.0, "ior": 1.45, "texture": None}
    still = {"motion": "static", "rotation": [1.0, 0.0, 0.0, 0.0], "velocity": [0.0, 0.0, 0.0],
             "angular_velocity": [0.0, 0.0, 0.0], "density": 1.0, "friction": 0.5, "restitution": 0.2, "params": {}}
    spec.update(
        world={"kind": "gradient", "horizon": [0.8, 0.85, 0.9], "zenith": [0.4, 0.5, 0.8], "strength": 0.5},
        floor={"finish": "diffuse", "color": [0.75, 0.75, 0.75], "roughness": 1.0, "metallic": 0.0, "texture": None},
        walls=None, lights=[], scene_motion="static", targets=[1, 2],
        sun={"low": True, "elevation_deg": 12.0, "azimuth_deg": 180.0, "strength": 4.0, "angle_deg": 1.0,
             "color": [1.0, 1.0, 1.0]},
        objects=[{**still, "id": 1, "shape": "cube", "asset_id": "builtin/cube", "scale": 0.8, "position": [-1.2, 0, 0],
                  "material": {**material, "color": [0.8, 0.2, 0.2]}},
                 {**still, "id": 2, "shape": "sphere", "asset_id": "builtin/sphere", "scale": 0.7,
                  "position": [0.9, 1.4, 0], "material": {**material, "color": [0.2, 0.4, 0.8]}}],
    )
    spec["camera"].update(motion="static", distance=6.5, elevation_deg=35.0, azimuth_deg=-90.0, look_at=[0, 0.3, 0.3],
                          focal_length=35.0, orbit_deg_per_s=0.0, velocity=[0.0, 0.0, 0.0], shake=None)
    return copy.deepcopy(spec)


def test_pairs_are_exact_and_a_low_sun_shadow_is_the_effect() -> None:
    settings = resolve_settings("tiny", resolution=48, frames=2, samples=16)
    scene = make_scene(settings, 0, RenderOptions(threads=2), spec=_low_sun_spec(settings))
    full = scene.rgb[contract.FULL]
    for k in (1, 2):
        minus, alpha = scene.rgb[contract.minus_video(k)], scene.layers[k][..., 3]
        own = (scene.amodal[k] > 0) | (scene.visible == k)
        share = violations(full, minus, alpha, own)
        assert share < 0.005, f"object {k}: {share:.2%} of pixels change without layer or mask"
        assert scene.meta.quality["objects"][str(k)]["violations"] == pytest.approx(share, abs=1e-6)
    own = dilate((scene.amodal[1] > 0) | (scene.visible == 1), 2)
    shadow = (max_abs_diff(full, scene.rgb[contract.minus_video(1)]) > 2) & ~own
    assert shadow.sum() >= 40, "the low sun's shadow must differ between full and minus_1"
    darker = full.astype(int).sum(-1) - scene.rgb[contract.minus_video(1)].astype(int).sum(-1)
    assert darker[shadow].mean() < -20  # full is darker there: it is a shadow
    assert (scene.layers[1][..., 3][shadow] > 0).mean() > 0.9  # and layer 1 carries it


def test_fast_path_equals_the_naive_reference_byte_for_byte() -> None:
    """Persistent data, rendering identical pairs once and crop windows change no pixel (fixed samples)."""
    settings = replace(resolve_settings("tiny", resolution=40, frames=2), adaptive_threshold=0.0)
    spec = _low_sun_spec(settings)
    spec["floor"].update(finish="mirror", roughness=0.02, metallic=0.8)
    spec["objects"][1].update(motion="dropped", position=[0.9, 1.4, 0.8])
    fast = make_scene(settings, 0, RenderOptions(threads=2), spec=copy.deepcopy(spec))
    naive = make_scene(settings, 0, RenderOptions(threads=2, naive=True, crop=False), spec=spec)
    assert fast.meta.render["rendered_frames"] < naive.meta.render["rendered_frames"]
    for name in naive.rgb:
        np.testing.assert_array_equal(fast.rgb[name], naive.rgb[name], err_msg=name)
    for k in naive.layers:
        np.testing.assert_array_equal(fast.layers[k], naive.layers[k])
    np.testing.assert_array_equal(fast.visible, naive.visible)


CUBE_OBJ = """o box
v -1 -1 0
v 1 -1 0
v 1 1 0
v -1 1 0
v -1 -1 3
v 1 -1 3
v 1 1 3
v -1 1 3
f 1 4 3 2
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
"""


def test_user_assets_are_imported_normalised_and_rendered(tmp_path: Path) -> None:
    import bpy

    from genbench.generators.kubric.assets import assets_digest, list_assets

    folder = tmp_path / "assets"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "tall_box.obj").write_text(CUBE_OBJ)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cylinder_add(radius=1.0, depth=3.0)
    bpy.ops.export_scene.gltf(filepath=str(folder / "tall_cylinder.glb"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cone_add(radius1=1.0, depth=3.0)
    bpy.ops.wm.ply_export(filepath=str(folder / "tall_cone.ply"))
    names = list_assets(folder)
    assert names == ["sub/tall_box.obj", "tall_cone.ply", "tall_cylinder.glb"]
    settings = resolve_settings("tiny", resolution=40, frames=2, assets=str(folder),
                                assets_digest=assets_digest(folder, names))
    for name in names:
        index = next(i for i in range(100) if sample_spec(settings, i)["objects"][0]["asset_id"] == f"assets/{name}")
        scene = make_scene(settings, index, RenderOptions(threads=2))
        first = scene.meta.instances[0].to_dict()
        corners = np.asarray(first["bboxes_3d"][0])  # box corners: x varies slowest, z fastest
        edges = sorted(np.linalg.norm(corners[j] - corners[0]) for j in (4, 2, 1))
        np.testing.assert_allclose(edges, [2 / 3 * first["scale"]] * 2 + [first["scale"]], rtol=1e-3)
        assert (scene.amodal[1] > 0).any(), f"{name} does not show in its solo render"
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenbenchError, match="files found"):
        list_assets(tmp_path / "empty")


def test_device_gpu_without_a_gpu_is_one_error_before_anything_is_written(tmp_path: Path) -> None:
    from genbench.generators.kubric.blender import select_device

    if select_device("auto") != "CPU":
        pytest.skip("Cycles finds a GPU on this machine")
    with pytest.raises(GenbenchError, match="--device gpu: Cycles found no OptiX/CUDA/HIP/oneAPI/Metal device"):
        render(tmp_path / "d", "--device", "gpu")
    assert not (tmp_path / "d").exists()
