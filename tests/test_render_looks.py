"""Worlds and surfaces beyond v1, no Blender: settings, HDRI analysis, the looks' own random stream, and the
v1 benchmark recipes planning exactly the scenes they always planned."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from genbench.benchmark.split import FULL_V1, MINI_V1, VALIDATION_V1
from genbench.cli import build_parser
from genbench.commands.render import settings_from_args
from genbench.errors import GenbenchError
from genbench.generators.kubric import hdri, media, region
from genbench.generators.kubric.make import sample_spec
from genbench.generators.kubric.settings import (
    LOOKS,
    SURFACES,
    V1_LOOKS,
    WORLDS,
    RenderSettings,
    parse_kinds,
    resolve_settings,
)

# sha256 of the planned scenes of each v1 recipe's two renders (its test scenes and its auxiliary render):
# json.dumps([{"settings": settings.to_dict(), "specs": [sample_spec(settings, i) for i in range(count)]}, ...],
# sort_keys=True, separators=(",", ":")), settings made by the recipe's `render_settings` (checked equal to what
# `genbench render` makes of the same options). Computed once with the code that built the v1 splits (commit
# 582970b, before worlds and surfaces beyond v1 existed), with its own venv: same recipe, same settings dicts,
# same specs.
V1_PLAN_DIGESTS = {
    "mini": "5a932dc435890186644458e5b3097d85de8e2b9b99c2378b9561a13a2775b789",
    "full": "9c0be5324784254d9d6e9afe1a1009063fecb3bb69c47741a7276b2acc78d3a3",
    "val": "7e6da4f284d32f66a214d1d541dbecf430a4226fd08c899805baf82223769be0",
}


def _render_args(*extra: str) -> RenderSettings:
    return settings_from_args(build_parser().parse_args(["render", "--scenes", "1", "--out", "unused", *extra]))


@pytest.mark.parametrize("recipe", [MINI_V1, FULL_V1, VALIDATION_V1], ids=lambda r: r.name)
def test_v1_recipes_plan_the_scenes_they_always_planned(recipe: object) -> None:
    plans = []
    for seed, count in ((recipe.kubric_seed, recipe.kubric_scenes), (recipe.aux_seed, recipe.aux_scenes)):
        settings = recipe.render_settings(seed)
        # what the builds call is what `genbench render` makes of the same options
        looks = ["--worlds", "sky,gradient", "--surfaces", "plain,pattern"] if recipe.version == "1" else []
        assert settings == _render_args("--seed", str(seed), "--resolution", str(recipe.resolution), "--frames",
                                        str(recipe.frames), "--samples", str(recipe.samples), *looks)
        assert settings.to_dict().keys().isdisjoint(V1_LOOKS)  # meta.json's settings, byte for byte as in v1
        plans.append({"settings": settings.to_dict(), "specs": [sample_spec(settings, i) for i in range(count)]})
    text = json.dumps(plans, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == V1_PLAN_DIGESTS[recipe.name]


def test_looks_settings_parse_validate_and_stay_out_of_v1_records() -> None:
    assert parse_kinds("hdri, sky", WORLDS, "--worlds") == ("sky", "hdri")  # canonical order: one settings dict
    with pytest.raises(GenbenchError, match="--worlds: unknown kind 'moon'"):
        parse_kinds("sky,moon", WORLDS, "--worlds")
    with pytest.raises(GenbenchError, match="--surfaces needs distinct kinds"):
        parse_kinds(",", SURFACES, "--surfaces")
    with pytest.raises(GenbenchError, match="add hdri to --worlds"):
        RenderSettings(hdri="/somewhere")
    default = resolve_settings("default")
    assert (default.worlds, default.surfaces) == (LOOKS["worlds"], LOOKS["surfaces"])
    assert RenderSettings.from_dict(default.to_dict()) == default
    v1 = replace(default, **V1_LOOKS)
    assert v1.to_dict().keys().isdisjoint(V1_LOOKS) and RenderSettings.from_dict(v1.to_dict()) == v1
    assert _render_args("--worlds", "sky,gradient", "--surfaces", "pattern,plain") == v1


def test_bundled_hdris_and_textures_are_found_without_loading_bpy() -> None:
    hdris = media.hdris()
    assert [h.name for h in hdris] == sorted(["city.exr", "courtyard.exr", "forest.exr", "interior.exr",
                                              "night.exr", "studio.exr", "sunrise.exr", "sunset.exr"])
    assert (hdris[0].path.parent / "license.txt").read_text().startswith("All HDRIs are licensed as CC0")
    assert [t.name for t in media.textures()] == list(media.BUNDLED_TEXTURES)
    for f in (*hdris, *media.textures()):
        assert f.sha256 == hashlib.sha256(f.path.read_bytes()).hexdigest()
    for h in hdris:
        light = hdri.analyse(h.path, h.sha256)
        shares = [s.share for s in light.sources]
        assert shares == sorted(shares, reverse=True) and shares[0] >= hdri.MIN_SHARE
        assert all(0 < s.elevation_deg <= 90 for s in light.sources) and light.radiance > 0


def _spot_hdri(path: Path, elevation: float, azimuth: float, size: tuple[int, int] = (128, 256)) -> Path:
    """A dim grey sky with a small bright sun at (elevation, azimuth) in degrees, as a Radiance .hdr."""
    h, w = size
    image = np.full((h, w, 3), 0.2, np.float32)
    row = round((0.5 - elevation / 180.0) * h - 0.5)
    col = round((0.5 - azimuth / 360.0) * w - 0.5) % w
    image[row - 1:row + 2, col - 1:col + 2] = (500.0, 400.0, 300.0)  # warm: red > green > blue
    assert cv2.imwrite(str(path), image[..., ::-1])
    return path


def test_hdri_sources_are_where_the_light_is(tmp_path: Path) -> None:
    path = _spot_hdri(tmp_path / "spot.hdr", elevation=30.0, azimuth=250.0)
    light = hdri.analyse(path, media.sha256(path))
    key = light.sources[0]
    assert key.elevation_deg == pytest.approx(30.0, abs=2.0) and key.azimuth_deg == pytest.approx(250.0, abs=2.0)
    assert key.share > 0.5 and key.angle_deg < 10.0 and key.color[0] == pytest.approx(1.0)
    assert key.color[0] > key.color[1] > key.color[2]
    assert hdri.world_azimuth(250.0, 100.0) == 150.0 and hdri.world_azimuth(10.0, 30.0) == 340.0


def test_looks_draw_from_their_own_stream() -> None:
    """Turning the looks on changes worlds and surfaces only: objects, motion, camera and lights stay."""
    looks = resolve_settings("default", seed=5)
    v1 = replace(looks, **V1_LOOKS)
    specs = [(sample_spec(v1, i), sample_spec(looks, i)) for i in range(60)]
    for old, new in specs:
        for key in ("objects", "camera", "lights", "targets", "split", "cycles_seed", "walls"):
            if key == "objects":
                for a, b in zip(old[key], new[key], strict=True):
                    assert {k: v for k, v in a.items() if k != "material"} == {k: v for k, v in b.items()
                                                                            if k != "material"}
            elif key != "walls" or old[key] is None:
                assert old[key] == new[key], key
    news = [new for _, new in specs]
    worlds = [s["world"]["kind"] for s in news]
    assert 0.5 < worlds.count("hdri") / len(worlds) < 0.9 and {"sky", "gradient"} <= set(worlds)
    textures = [t for s in news for t in [s["floor"]["texture"]] + [o["material"]["texture"] for o in s["objects"]]]
    kinds = {t["kind"] if t else "plain" for t in textures}
    assert {"plain", "procedural", "photo"} <= kinds
    assert {t["pattern"] for t in textures if t and t["kind"] == "procedural"} == {"noise", "wood", "tile", "checker"}
    bundled = {f.name: f.sha256 for f in (*media.hdris(), *media.textures())}
    for s in news:
        if s["world"]["kind"] == "hdri":
            w = s["world"]
            assert bundled[w["file"]] == w["sha256"] and 0 <= w["rotation_deg"] < 360 and w["strength"] > 0
            key = w["sources"][0]
            assert (s["sun"]["elevation_deg"], s["sun"]["azimuth_deg"]) == (key["elevation_deg"], key["azimuth_deg"])
    for t in textures:
        if t and t["kind"] == "photo":
            assert bundled[t["file"]] == t["sha256"] and 0 <= t["rotation_deg"] < 360
    assert sample_spec(looks, 3) == sample_spec(looks, 3)  # same seed, same scene


def test_only_the_kinds_asked_for_are_drawn() -> None:
    for worlds, surfaces in ((("hdri",), ("photo",)), (("sky",), ("plain",)), (("gradient",), ("pattern",))):
        settings = resolve_settings("default", seed=2, worlds=worlds, surfaces=surfaces)
        for i in range(15):
            spec = sample_spec(settings, i)
            assert spec["world"]["kind"] in worlds
            floor = spec["floor"]["texture"]
            assert ("plain" if floor is None else "pattern" if floor["kind"] not in ("procedural", "photo")
                    else floor["kind"]) in surfaces


def test_user_hdris_and_textures_join_the_bundled_ones(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "sky").mkdir(parents=True)
    _spot_hdri(folder / "sky" / "spot.hdr", 40.0, 90.0)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / "wood.png")
    settings = _render_args("--worlds", "hdri", "--surfaces", "photo", "--hdri", str(folder),
                            "--textures", str(folder))
    assert settings.hdri == str(folder.resolve()) and settings.hdri_digest and settings.textures_digest
    specs = [sample_spec(settings, i) for i in range(40)]
    mine = [s["world"] for s in specs if s["world"]["source"] == "user"]
    assert mine and mine[0]["file"] == "sky/spot.hdr" and mine[0]["sha256"] == media.sha256(folder / "sky/spot.hdr")
    floors = [s["floor"]["texture"] for s in specs]
    assert any(t["source"] == "user" and t["file"] == "wood.png" for t in floors)
    path = media.resolve(mine[0], bundled=media.bundled_hdri_dir(), user=settings.hdri, flag="--hdri")
    assert path == folder.resolve() / "sky" / "spot.hdr"
    (folder / "wood.png").write_bytes(b"not the same image")
    entry = next(t for t in floors if t["file"] == "wood.png")
    with pytest.raises(GenbenchError, match="changed since the scene was planned"):
        media.resolve(entry, bundled=media.bundled_texture_dir(), user=settings.textures, flag="--textures")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenbenchError, match=r"--hdri .*no \.exr/\.hdr files found"):
        _render_args("--worlds", "hdri", "--hdri", str(tmp_path / "empty"))


def test_shadow_windows_follow_every_bright_source_of_an_hdri() -> None:
    spec = sample_spec(replace(resolve_settings("default"), worlds=("gradient",)), 0)
    spec["lights"], spec["walls"] = [], None
    spec["sun"].update(elevation_deg=60.0, azimuth_deg=0.0, angle_deg=1.0)
    box = {1: (np.full(3, -0.5), np.full(3, 0.5))}
    pose = {1: (np.array([0.0, 0.0, 0.5]), np.array([1.0, 0.0, 0.0, 0.0]))}
    before = np.concatenate(region.EffectBounds(spec, box).components(1, pose))
    spec["world"] = {"kind": "hdri", "sources": [{"elevation_deg": 20.0, "azimuth_deg": 90.0, "angle_deg": 4.0,
                                                  "share": 0.2}]}
    after = np.concatenate(region.EffectBounds(spec, box).components(1, pose))
    tip = -1.0 / np.tan(np.radians(20.0))  # the top's shadow from a source in the +y direction lies along -y
    assert before[:, 1].min() > tip + 0.5 and after[:, 1].min() <= tip
