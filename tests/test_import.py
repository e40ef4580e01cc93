"""`genbench import`: each published layout on a tiny stand-in written in that layout, user pairs, and an
imported dataset scored end to end by `genbench eval --method external:...`.

The stand-ins are synthetic pairs with a known answer: a textured ground, a moving square object and its
shadow (the ground darkened to 60% beside it) in the input, the bare ground in the video without the object.
So the effect region the import measures from the pair can be checked against the shadow that was drawn.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from genbench import cli, contract
from genbench.benchmark.regions import removal_regions
from genbench.dataset import read_info, read_manifest
from genbench.errors import GenbenchError
from genbench.frames import write_video
from genbench.samples import load_removal
from genbench.scene import list_scene_ids, read_meta
from genbench.trimask import dilate
from genbench.validate import validate_dataset

T, H, W = 6, 48, 64


def standin(seed: int, *, kept: bool = False) -> dict[str, np.ndarray]:
    """One clip: with, without (T, H, W, 3) uint8; obj, shadow, kept (T, H, W) bool."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.uniform(60, 200, (H, W, 3)).astype(np.float32), (0, 0), 1.5)
    ground = np.clip(texture + np.linspace(0, 30, W, dtype=np.float32)[None, :, None], 0, 255)
    yy, xx = np.mgrid[:H, :W]
    obj, shadow, other = (np.zeros((T, H, W), bool) for _ in range(3))
    with_, without = [], []
    for t in range(T):
        x0, y0 = 8 + 4 * t, 14
        obj[t] = (yy >= y0) & (yy < y0 + 12) & (xx >= x0) & (xx < x0 + 10)
        shadow[t] = (yy >= y0 + 12) & (yy < y0 + 20) & (xx >= x0 + 3) & (xx < x0 + 13) & ~obj[t]
        if kept:
            other[t] = (yy >= 36) & (yy < 44) & (xx >= 48) & (xx < 58)
        bare = ground.copy()
        if kept:
            bare[other[t]] = (40, 200, 60)
        frame = bare.copy()
        frame[shadow[t]] *= 0.6
        frame[obj[t]] = (220, 40, 30)
        with_.append(frame)
        without.append(bare)
    u8 = lambda v: np.clip(np.round(np.stack(v)), 0, 255).astype(np.uint8)  # noqa: E731
    return {"with": u8(with_), "without": u8(without), "obj": obj, "shadow": shadow, "kept": other}


def write_mp4(path: Path, frames: np.ndarray, bpp: float = 4.0) -> None:
    """H.264 mp4 (yuv420p, one thread) at `bpp` bits per pixel per frame: lossy, as published videos are."""
    import imageio_ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    h, w = frames.shape[1:3]
    kbps = round(bpp * h * w * 16 / 1000)
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=16, codec="libx264", bitrate=f"{kbps}k",
                                         pix_fmt_out="yuv420p", macro_block_size=1, quality=None,
                                         output_params=["-threads", "1"], ffmpeg_log_level="error")
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def white(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 255, 0).astype(np.uint8)


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


def import_(source: str, src: Path, out: Path, *extra: str) -> Path:
    assert run_cli("import", source, str(src), "--out", str(out), *extra) == 0
    report = validate_dataset(out)
    assert report.ok, [str(p) for p in report.errors]
    return out


def effect_region(root: Path) -> tuple[np.ndarray, int]:
    """The benchmark's effect region of the dataset's only sample, and the tolerance it used."""
    (sample,) = read_manifest(root)
    item = load_removal(root, sample, None)
    return removal_regions(item.frames, item.target, item.trimask, item.tolerance)["effect"], item.tolerance


def test_pairs_of_frame_folders_measure_the_drawn_shadow(tmp_path: Path) -> None:
    clip = standin(0)
    src = tmp_path / "pairs"
    write_video(src / "with" / "walk", clip["with"])
    write_video(src / "without" / "walk", clip["without"])
    write_video(src / "masks" / "walk", white(clip["obj"]))
    out = import_("pairs", src, tmp_path / "ds")
    (sid,) = list_scene_ids(out)
    meta = read_meta(out, sid)
    assert sid == "pairs-walk" and meta.videos == ["bg", "full"] and meta.split == "test"
    assert meta.generator == "import:pairs" and "with/" in meta.settings["release"]
    assert set(meta.spec["files"]) == {"input", "without", "masks"} and len(meta.spec["files"]["input"]["sha256"]) == 64
    effect, tolerance = effect_region(out)
    # lossless pair: no noise, so the default tolerance; the effect region is exactly the drawn shadow outside the
    # removed object's dilated mask (the trimask's remove region)
    assert meta.quality["noise_sigma"] == 0 and tolerance == contract.DEFAULT_EFFECT_TOLERANCE
    assert np.array_equal(effect, clip["shadow"] & ~dilate(clip["obj"], 2))
    assert meta.quality["effect_fraction"] == round(float(effect.mean()), 5)
    assert meta.quality["shadow_fraction"] > 0.5 * effect.mean()  # the tripod classifier calls it shadow
    assert meta.quality["preserve_psnr"] is None or meta.quality["preserve_psnr"] > 60
    # the same files give the same bytes
    again = import_("pairs", src, tmp_path / "again")
    files = sorted(p.relative_to(out) for p in (out / "scenes").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in (again / "scenes").rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_pairs_trimask_modes_and_missing_ground_truth(tmp_path: Path) -> None:
    clip = standin(1)
    src = tmp_path / "pairs"
    for name in ("a", "b"):
        write_video(src / "with" / name, clip["with"])
        write_video(src / "masks" / name, white(clip["obj"]))
    write_video(src / "without" / "a", clip["without"])
    with pytest.raises(GenbenchError, match="b lacks without"):
        from genbench.importers.pairs import find

        find(src)
    write_video(src / "without" / "b", clip["without"])
    out = import_("pairs", src, tmp_path / "effect", "--trimask", "effect")
    sample = read_manifest(out)[0]
    tri = load_removal(out, sample, None).trimask
    assert sample.trimask_stored
    assert (tri[clip["obj"]] == 0).all() and (tri[clip["shadow"] & ~dilate(clip["obj"], 2)] == 128).all()
    far = ~dilate(clip["obj"] | clip["shadow"], 6)
    assert (tri[far] == 255).all()  # only the measured effect is uncertain
    # without ground truth: a scene with the input and masks, no removal sample, and eval says so
    bare = tmp_path / "bare"
    write_video(bare / "with" / "c", clip["with"])
    write_video(bare / "masks" / "c", white(clip["obj"]))
    out = import_("pairs", bare, tmp_path / "nogt")
    assert read_meta(out, "pairs-c").videos == ["full"] and read_manifest(out) == []
    assert run_cli("eval", "--method", "identity", "--data", str(out), "--out", str(tmp_path / "r")) == 1


def test_prove_m_standin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "PROVE-M"
    clips = {"case_01": standin(2), "case_02": standin(3)}
    for name, clip in clips.items():
        write_mp4(src / "raw" / f"{name}.mp4", clip["with"])
        write_mp4(src / "mask" / f"{name}.mp4", white(clip["obj"]))
        write_mp4(src / "gt" / f"{name}.mp4", clip["without"])
    (src / "raw" / "notes.txt").write_text("not a video")
    assert run_cli("import", "prove-m", str(src), "--out", str(tmp_path / "x")) == 1
    assert "not established" in capsys.readouterr().err and not (tmp_path / "x").exists()
    out = import_("prove-m", src, tmp_path / "ds", "--inputs", "raw", "--masks", "mask", "--gt", "gt")
    assert list_scene_ids(out) == ["prove-m-case_01", "prove-m-case_02"]
    meta = read_meta(out, "prove-m-case_01")
    assert meta.settings["max_frames"] == 81 and "xiaomi-research/prove@7ca299a" in meta.settings["release"]
    assert meta.num_frames == T and meta.videos == ["bg", "full"]
    # through a lossy codec: the tolerance rises above the codec's noise and the region still finds the shadow
    sample = read_manifest(out)[0]
    item = load_removal(out, sample, None)
    effect = removal_regions(item.frames, item.target, item.trimask, item.tolerance)["effect"]
    shadow = clips["case_01"]["shadow"] & ~dilate(clips["case_01"]["obj"], 2)
    assert item.tolerance >= contract.DEFAULT_EFFECT_TOLERANCE
    assert (effect & shadow).sum() >= 0.8 * shadow.sum()
    assert (effect & ~dilate(shadow | clips["case_01"]["obj"], 3)).mean() < 0.01


def test_rose_standin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ROSE"
    for env, seq in (("Env1", "CineCameraSequence_7"), ("Env2", "CineCameraSequence_58")):
        clip = standin(len(seq))
        write_mp4(src / env / f"{env}_Unedited" / f"{seq}.mp4", clip["with"])
        write_mp4(src / env / f"{env}_Edited" / f"{seq}.mp4", clip["without"])
        write_mp4(src / env / f"{env}_Masked" / f"{seq}.mp4", white(clip["obj"]))
    out = import_("rose-bench", src, tmp_path / "ds")
    assert list_scene_ids(out) == ["rose-bench-Env1-CineCameraSequence_7", "rose-bench-Env2-CineCameraSequence_58"]
    assert "Kunbyte/ROSE-Dataset" in read_info(out).settings["release"]
    assert all(s.target == "bg" and s.remove == (1,) for s in read_manifest(out))
    edges = read_meta(out, "rose-bench-Env1-CineCameraSequence_7").quality["mask_edges"]
    assert edges["input"] > 4 * edges["without"]  # the object's outline is in the input only
    assert run_cli("import", "rose-bench", str(tmp_path / "ds"), "--out", str(tmp_path / "y")) == 1
    assert "ROSE-Bench's own layout could not be established" in capsys.readouterr().err
    # were Edited the input after all, the import says so
    for part in ("Unedited", "Edited"):
        (src / "Env1" / f"Env1_{part}").rename(src / "Env1" / f"Env1_{part}.tmp")
    for old, new in (("Unedited", "Edited"), ("Edited", "Unedited")):
        (src / "Env1" / f"Env1_{old}.tmp").rename(src / "Env1" / f"Env1_{new}")
    import_("rose-bench", src / "Env1", tmp_path / "swapped")
    warning = " ".join(capsys.readouterr().err.split())
    assert "CineCameraSequence_7: the masks' outline shows more in the video without the object" in warning


def test_omnimatte_kubric_standin_png_and_mp4(tmp_path: Path) -> None:
    """The public generator's trimask mask: 0 removed objects, 128 background, 255 kept objects."""
    src = tmp_path / "kubric"
    clip = standin(4, kept=True)
    mask = np.full((T, H, W), 128, np.uint8)
    mask[clip["kept"]] = 255
    mask[clip["obj"]] = 0
    rgb_mask = np.repeat(mask[..., None], 3, axis=-1)
    write_video(src / "seq_png" / "rgb_full", clip["with"])  # --save_images: 00000.png ...
    write_video(src / "seq_png" / "rgb_removed", clip["without"])
    write_video(src / "seq_png" / "mask", rgb_mask)
    write_mp4(src / "seq_png" / "rgb_full.mp4", clip["with"])  # the PNGs win over the mp4s
    write_mp4(src / "seq_mp4" / "rgb_full.mp4", clip["with"])
    write_mp4(src / "seq_mp4" / "rgb_removed.mp4", clip["without"])
    write_mp4(src / "seq_mp4" / "mask.mp4", rgb_mask)
    out = import_("omnimatte-kubric", src, tmp_path / "ds")
    meta = read_meta(out, "omnimatte-kubric-seq_png")
    assert meta.object_ids == [1, 2] and meta.videos == ["full", "minus_1"]
    assert meta.spec["files"]["input"]["path"] == "rgb_full"
    samples = {s.scene_id: s for s in read_manifest(out)}
    assert samples["omnimatte-kubric-seq_png"].target == "minus_1"
    tri = load_removal(out, samples["omnimatte-kubric-seq_png"], None).trimask
    assert (tri == np.where(dilate(clip["obj"], 2), 0, mask)).all()  # the generator's own trimask, grown by 2
    assert read_meta(out, "omnimatte-kubric-seq_mp4").object_ids == [1, 2]


def test_davis_standin_has_no_removal_samples(tmp_path: Path) -> None:
    src = tmp_path / "DAVIS"
    clip = standin(5, kept=True)
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9)
    for t in range(T):
        frames = src / "JPEGImages" / "480p" / "bear"
        frames.mkdir(parents=True, exist_ok=True)
        Image.fromarray(clip["with"][t]).save(frames / f"{t:05d}.jpg", quality=95)
        ids = np.where(clip["obj"][t], 1, np.where(clip["kept"][t], 2, 0)).astype(np.uint8)
        ann = Image.frombytes("P", (W, H), ids.tobytes())
        ann.putpalette(palette)
        (src / "Annotations" / "480p" / "bear").mkdir(parents=True, exist_ok=True)
        ann.save(src / "Annotations" / "480p" / "bear" / f"{t:05d}.png")
    out = import_("davis", src, tmp_path / "ds")
    meta = read_meta(out, "davis-bear")
    assert meta.object_ids == [1, 2] and meta.videos == ["full"] and meta.samples == []
    assert read_info(out).counts == {"test": {"scenes": 1, "samples": 0}}


def test_bad_input_writes_nothing_and_resume_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = standin(6)
    src = tmp_path / "pairs"
    write_video(src / "with" / "a", clip["with"])
    write_video(src / "without" / "a", clip["without"][:4])
    write_video(src / "masks" / "a", white(clip["obj"]))
    assert run_cli("import", "pairs", str(src), "--out", str(tmp_path / "ds")) == 1
    err = capsys.readouterr().err
    assert "frame counts differ (input 6, masks 6, without 4)" in err and err.count("\n") == 1
    assert list_scene_ids(tmp_path / "ds") == []
    out = import_("pairs", src, tmp_path / "ds", "--max-frames", "4")
    before = (out / "scenes" / "pairs-a" / "meta.json").read_bytes()
    assert run_cli("import", "pairs", str(src), "--out", str(out), "--max-frames", "4") == 0
    assert "0 pairs scenes imported, 1 already there" in capsys.readouterr().out
    assert (out / "scenes" / "pairs-a" / "meta.json").read_bytes() == before
    assert run_cli("import", "pairs", str(src), "--out", str(out), "--max-frames", "3") == 1  # other settings
    assert "other settings" in capsys.readouterr().err
    (out / contract.DATASET_FILE).unlink()  # as an interrupted import leaves it: scenes, no dataset.json yet
    assert run_cli("import", "pairs", str(src), "--out", str(out), "--max-frames", "3") == 1
    assert "other settings" in capsys.readouterr().err


def test_eval_external_on_an_imported_standin(tmp_path: Path) -> None:
    """`genbench eval --method external:... --data IMPORTED` end to end: a program that writes the ground truth
    (read from the imported scene) scores perfectly; `identity` (the input through) keeps the shadow."""
    src = tmp_path / "kubric"
    clip = standin(7, kept=True)
    mask = np.full((T, H, W), 128, np.uint8)
    mask[clip["kept"]] = 255
    mask[clip["obj"]] = 0
    write_video(src / "seq" / "rgb_full", clip["with"])
    write_video(src / "seq" / "rgb_removed", clip["without"])
    write_video(src / "seq" / "mask", np.repeat(mask[..., None], 3, axis=-1))
    data = import_("omnimatte-kubric", src, tmp_path / "ds")
    program = tmp_path / "method.py"
    program.write_text("import shutil, sys\nfrom pathlib import Path\n"
                       "for p in sorted(Path(sys.argv[3]).glob('*.png')):\n"
                       "    shutil.copy(p, Path(sys.argv[2]) / p.name)\n")
    target = data / "scenes" / "omnimatte-kubric-seq" / "rgb" / "minus_1"
    external = f"external:{sys.executable} {program} {{input}} {{output}} {target}"
    out = tmp_path / "eval"
    assert run_cli("eval", "--method", f"identity,{external}", "--data", str(data), "--out", str(out),
                   "--device", "cpu") == 0
    summaries = json.loads((out / "results.json").read_text())["methods"]
    truth = next(v for k, v in summaries.items() if k != "identity")
    assert truth["clips"] == summaries["identity"]["clips"] == 1
    assert truth["regions"]["effect"]["lpips"] < 1e-6 and truth["regions"]["object"]["lpips"] < 1e-6
    assert summaries["identity"]["regions"]["effect"]["lpips"] > 0.01  # the input keeps the shadow
    # and the leaderboard takes the imported split: the identity predictions submitted, shown under its name
    board = tmp_path / "board"
    assert run_cli("leaderboard", "submit", str(out / "predictions" / "identity"), "--method", "identity",
                   "--data", str(data), "--board", str(board), "--device", "cpu") == 0
    (entry,) = json.loads((board / "board.json").read_text())["entries"]
    assert entry["dataset"]["generator"] == "import:omnimatte-kubric" and entry["dataset"]["split"] == "test"
    assert entry["summary"]["regions"] == summaries["identity"]["regions"]
