"""The object-paste generator on small synthetic inputs made here, in every supported layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from genbench import contract
from genbench.commands.paste import run
from genbench.errors import DatasetError, GenbenchError
from genbench.frames import read_video
from genbench.generators.paste.sources import find_sources, find_targets, load_ids
from genbench.generators.video_io import read_frames, read_mask_folder, read_mask_ids
from genbench.scene import list_scene_ids, read_scene
from genbench.trimask import trimask
from genbench.validate import validate_dataset

H, W, T = 48, 64, 12


def _texture(rng: np.random.Generator, h: int = H, w: int = W) -> np.ndarray:
    """A smooth random colour texture, (h, w, 3) uint8."""
    small = rng.integers(40, 220, size=(h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _source_clip(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W, 3) frames and (T, H, W) ids: object 1 a moving ellipse, object 2 a small square."""
    rng = np.random.default_rng(seed)
    frames = np.repeat(_texture(rng)[None], T, axis=0)
    ids = np.zeros((T, H, W), dtype=np.uint8)
    for t in range(T):
        cv2.ellipse(ids[t], (20 + t, 24), (9, 14), 0, 0, 360, 1, -1)
        ids[t, 5:13, 44 + t // 3:52 + t // 3] = 2
        frames[t][ids[t] == 1] = (220, 40, 30)
        frames[t][ids[t] == 2] = (30, 200, 60)
    return frames, ids


def _palette_png(path: Path, ids: np.ndarray) -> None:
    img = Image.fromarray(ids)  # putpalette turns an L image into P
    img.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9))
    img.save(path)


def make_davis(root: Path, clips: int = 2) -> Path:
    for c in range(clips):
        frames, ids = _source_clip(c)
        (root / "JPEGImages" / "480p" / f"clip{c}").mkdir(parents=True)
        (root / "Annotations" / "480p" / f"clip{c}").mkdir(parents=True)
        for t in range(T):
            Image.fromarray(frames[t]).save(root / "JPEGImages" / "480p" / f"clip{c}" / f"{t:05d}.jpg", quality=95)
            _palette_png(root / "Annotations" / "480p" / f"clip{c}" / f"{t:05d}.png", ids[t])
    return root


def _write_mp4(path: Path, frames: np.ndarray, fps: float = 12.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frames.shape[2], frames.shape[1]))
    assert writer.isOpened()
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()


def make_targets(root: Path, count: int = 2) -> list[np.ndarray]:
    """Frame folders of PNGs (lossless, so `bg` can be compared byte for byte)."""
    clips = []
    for c in range(count):
        rng = np.random.default_rng(100 + c)
        clip = np.stack([np.roll(_texture(rng), t, axis=1) for t in range(T + 2)])
        (root / f"target{c}").mkdir(parents=True)
        for t, frame in enumerate(clip):
            Image.fromarray(frame).save(root / f"target{c}" / f"{t:05d}.png")
        clips.append(clip)
    return clips


def check_pairs(out: Path) -> list[str]:
    """Validate `out` and check every scene's pair: full differs from bg only where the sample's
    trimask (derived or stored) is remove or uncertain, and the pasted object is instance 1."""
    report = validate_dataset(out)
    assert report.ok, report.problems
    ids = list_scene_ids(out)
    for sid in ids:
        scene = read_scene(out, sid)
        sample = scene.meta.samples[0]
        assert scene.meta.object_ids == [1] and sample.remove == (1,) and (scene.visible == 1).any()
        stored = scene.trimasks.get(contract.sample_id(sid, sample.remove))
        tri = stored if sample.trimask.stored else trimask(scene.visible, sample.remove, sample.trimask)
        changed = (scene.rgb["full"] != scene.rgb["bg"]).any(-1)
        assert changed.any() and not (changed & (tri == contract.TRIMASK_PRESERVE)).any()
    return ids


def _args(**kw: object) -> argparse.Namespace:
    base = {"seed": 0, "shadow": False, "count": 3}
    return argparse.Namespace(**{**base, **kw})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[np.ndarray]]:
    root = tmp_path_factory.mktemp("paste-inputs")
    davis = make_davis(root / "davis")
    targets = make_targets(root / "targets")
    return davis, root / "targets", targets


def test_mask_images_are_read_as_ids_or_as_binary(tmp_path: Path) -> None:
    """A grey id map (values below 128) keeps its ids; white-on-black masks and colour images are binary."""
    ids = np.array([[0, 1, 2], [3, 0, 1]], np.uint8)
    cases = {"ids.png": Image.fromarray(ids),  # mode L, genbench's own masks/visible
             "white.png": Image.fromarray((ids > 0).astype(np.uint8) * 255),
             "dark-colour.png": Image.fromarray(np.dstack([ids * 40] * 3))}
    for name, image in cases.items():
        image.save(tmp_path / name)
    np.testing.assert_array_equal(read_mask_ids(tmp_path / "ids.png"), ids)
    np.testing.assert_array_equal(read_mask_ids(tmp_path / "white.png"), (ids > 0).astype(np.uint8))
    np.testing.assert_array_equal(read_mask_ids(tmp_path / "dark-colour.png"), (ids * 40 >= 128).astype(np.uint8))


def test_layout_detection_and_palette_ids(inputs: tuple[Path, Path, list[np.ndarray]]) -> None:
    davis, targets, _ = inputs
    layout, sources = find_sources(davis)
    assert layout == "davis" and [s.name for s in sources] == ["clip0", "clip1"]
    _, ids = _source_clip(0)
    np.testing.assert_array_equal(load_ids(sources[0], max_size=None), ids)
    kind, clips = find_targets(targets)
    assert kind == "folder" and [c.name for c in clips] == ["target0", "target1"]
    with pytest.raises(GenbenchError, match="no known layout"):
        find_sources(targets)


def test_paste_is_deterministic_bg_exact_and_valid(inputs: tuple[Path, Path, list[np.ndarray]],
                                                   tmp_path: Path) -> None:
    davis, targets, clips = inputs
    for name in ("a", "b"):
        assert run(_args(source=str(davis), targets=str(targets), out=str(tmp_path / name))) == 0
    ids = check_pairs(tmp_path / "a")
    assert ids == ["paste-s0-000000", "paste-s0-000001", "paste-s0-000002"] == list_scene_ids(tmp_path / "b")
    for sid in ids:
        a, b = read_scene(tmp_path / "a", sid), read_scene(tmp_path / "b", sid)
        np.testing.assert_array_equal(a.rgb["full"], b.rgb["full"])
        np.testing.assert_array_equal(a.visible, b.visible)
        assert a.meta.spec == b.meta.spec
        # bg is the target clip, byte for byte, over the sampled window
        spec = a.meta.spec
        clip = clips[int(spec["target"]["name"][-1])]
        start = spec["target"]["start"]
        np.testing.assert_array_equal(a.rgb["bg"], clip[start:start + a.meta.num_frames])
        # without a shadow the derived trimask covers every changed pixel: nothing is stored
        assert spec["trimask"]["band_value"] in (0, 128) and not a.meta.samples[0].trimask.stored
    # scene indices draw different pastes
    specs = [read_scene(tmp_path / "a", sid).meta.spec for sid in ids]
    assert specs[0]["motion"] != specs[1]["motion"]


def test_shadow_lies_in_the_uncertain_or_remove_region(inputs: tuple[Path, Path, list[np.ndarray]],
                                                       tmp_path: Path) -> None:
    davis, targets, _ = inputs
    out = tmp_path / "shadow"
    assert run(_args(source=str(davis), targets=str(targets), out=str(out), shadow=True, count=4)) == 0
    outside = 0
    for sid in check_pairs(out):
        scene = read_scene(out, sid)
        sample = scene.meta.samples[0]
        sample_id = contract.sample_id(sid, sample.remove)
        tri = scene.trimasks[sample_id] if sample.trimask.stored else trimask(scene.visible, [1], sample.trimask)
        changed = (scene.rgb["full"] != scene.rgb["bg"]).any(-1)
        shadow_only = changed & (scene.visible == 0)
        outside += int(shadow_only.sum())
        assert scene.meta.spec["look"]["shadow"] is not None
        band = scene.meta.spec["trimask"]["band_value"]
        assert set(np.unique(tri[shadow_only]).tolist()) <= {band, contract.TRIMASK_REMOVE}
    assert outside > 100, "the synthetic shadow darkens pixels outside the object"


def test_resume_skips_and_other_settings_are_refused(inputs: tuple[Path, Path, list[np.ndarray]],
                                                    tmp_path: Path) -> None:
    davis, targets, _ = inputs
    out = tmp_path / "resume"
    assert run(_args(source=str(davis), targets=str(targets), out=str(out), count=2)) == 0
    first = (out / "scenes" / "paste-s0-000000" / "rgb" / "full" / "00000.png").stat().st_mtime_ns
    assert run(_args(source=str(davis), targets=str(targets), out=str(out), count=3)) == 0
    assert (out / "scenes" / "paste-s0-000000" / "rgb" / "full" / "00000.png").stat().st_mtime_ns == first
    assert len(check_pairs(out)) == 3
    with pytest.raises(DatasetError, match="other settings"):
        run(_args(source=str(davis), targets=str(targets), out=str(out), count=3, seed=1))


def test_mp4_layout_and_genbench_dataset_source_and_target(toy_dataset: Path, tmp_path: Path) -> None:
    src = tmp_path / "omni"
    (src / "videos").mkdir(parents=True)
    (src / "masks").mkdir()
    frames, ids = _source_clip(3)
    _write_mp4(src / "videos" / "walk.mp4", frames)
    _write_mp4(src / "masks" / "walk.mp4", np.repeat(np.where(ids == 1, 255, 0).astype(np.uint8)[..., None], 3, -1))
    layout, sources = find_sources(src)
    assert layout == "videos" and [s.name for s in sources] == ["walk"]
    decoded = load_ids(sources[0], max_size=None)
    assert decoded.shape == (T, H, W) and np.mean(decoded == (ids == 1)) > 0.98  # lossy mask, thresholded at 128

    out = tmp_path / "from-mp4"
    assert run(_args(source=str(src), targets=str(toy_dataset), out=str(out), count=2)) == 0
    check_pairs(out)
    scene = read_scene(out, "paste-s0-000000")
    target = scene.meta.spec["target"]
    toy_bg = read_video(toy_dataset / "scenes" / target["name"] / "rgb" / "bg")
    np.testing.assert_array_equal(scene.rgb["bg"], toy_bg[target["start"]:target["start"] + scene.meta.num_frames])

    out2 = tmp_path / "from-genbench"
    targets = tmp_path / "t"
    make_targets(targets, count=1)
    assert run(_args(source=str(toy_dataset), targets=str(targets), out=str(out2), count=2, frames=4)) == 0
    check_pairs(out2)
    meta = json.loads((out2 / "scenes" / "paste-s0-000000" / "meta.json").read_text())
    assert meta["spec"]["source"]["layout"] == "genbench"
    assert meta["instances"][0]["asset_id"].startswith("genbench:toy-")


def test_video_target_and_max_size_downscale(inputs: tuple[Path, Path, list[np.ndarray]], tmp_path: Path) -> None:
    davis, _, clips = inputs
    big = np.stack([cv2.resize(f, (2 * W, 2 * H), interpolation=cv2.INTER_CUBIC) for f in clips[0]])
    _write_mp4(tmp_path / "street.mp4", big)
    out = tmp_path / "out"
    assert run(_args(source=str(davis), targets=str(tmp_path / "street.mp4"), out=str(out), count=2,
                     max_size=W)) == 0
    check_pairs(out)
    scene = read_scene(out, "paste-s0-000000")
    assert (scene.meta.height, scene.meta.width) == (H, W) and scene.meta.settings["max_size"] == W
    assert scene.meta.fps == 12.0  # from the video file
    decoded = read_frames(tmp_path / "street.mp4", max_size=W)
    start = scene.meta.spec["target"]["start"]
    np.testing.assert_array_equal(scene.rgb["bg"], decoded[start:start + scene.meta.num_frames])


def test_a_folder_of_frame_folders_is_named_in_the_error(tmp_path: Path) -> None:
    """A scene's rgb/ (frame folders, no frames of its own) is a common wrong path: the error names the folders."""
    for name in ("bg", "full"):
        (tmp_path / "rgb" / name).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "rgb" / name / "00000.png"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(GenbenchError, match=r"rgb: no frames in range 0\.\.end; its folders bg, full hold frames: "
                                            r"pass one of them, e\.g\. .*rgb/full$"):
        read_frames(tmp_path / "rgb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenbenchError, match=r"empty: no frames in range 0\.\.end$"):
        read_frames(tmp_path / "empty")


def test_masks_are_resized_to_the_frames_but_not_to_another_aspect_ratio(tmp_path: Path) -> None:
    ids = np.zeros((40, 60), np.uint8)
    ids[10:20, 30:45] = 2
    cv2.imwrite(str(tmp_path / "00000.png"), ids)
    np.testing.assert_array_equal(read_mask_folder(tmp_path, size=(20, 30)), ids[None, ::2, ::2])
    assert read_mask_folder(tmp_path, size=(27, 40)).shape == (1, 27, 40)  # 26.7 rounded: the same video
    with pytest.raises(GenbenchError, match=r"00000\.png: a 40x60 mask for 30x30 frames, another aspect ratio"):
        read_mask_folder(tmp_path, size=(30, 30))


def test_short_clips_paste_with_the_minimum_following_their_length(tmp_path: Path) -> None:
    """A genbench render as short as `--preset tiny` (3 frames) is a paste source and target."""
    from dataclasses import replace

    from tests.conftest import TOY, make_toy_dataset

    short = make_toy_dataset(tmp_path / "short", count=3, settings=replace(TOY, frames=3))
    out = tmp_path / "pasted"
    assert run(_args(source=str(short), targets=str(short), out=str(out), count=2)) == 0
    for sid in check_pairs(out):
        assert read_scene(out, sid).meta.num_frames == 3
