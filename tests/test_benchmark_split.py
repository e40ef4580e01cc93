"""The frozen benchmark split: shipped in the package, checked by checksums, rebuilt from its recipe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from genbench import contract
from genbench.benchmark import harness
from genbench.benchmark import split as sp
from genbench.benchmark.items import dataset_digest
from genbench.cli import main
from genbench.dataset import read_info, read_manifest
from genbench.errors import GenbenchError
from genbench.scene import list_scene_ids, read_meta, scene_dir
from genbench.validate import validate_dataset

FIRST = f"kubric-s{sp.recipe('mini').kubric_seed}-000000"  # the first scene of the shipped mini split


def test_the_shipped_mini_split_is_the_default_data_valid_and_official(capsys: pytest.CaptureFixture[str]) -> None:
    root = harness.default_data()
    assert root == sp.SHIPPED and read_info(root).name == sp.recipe("mini").dataset_name == "genbench-benchmark-mini-v2"
    report = validate_dataset(root)
    assert report.ok, report.problems
    generators = {read_meta(root, sid).generator for sid in list_scene_ids(root)}
    assert generators == {"kubric", "paste", "tripod"}
    assert {s.split for s in read_manifest(root)} == {"test"}
    assert main(["benchmark", "verify"]) == 0
    assert "the official genbench-benchmark-mini-v2" in capsys.readouterr().out
    # v1 ships too (its tables stay reproducible) and stays verifiable
    assert main(["benchmark", "verify", "--split", "mini-v1"]) == 0
    assert "the official genbench-benchmark-mini-v1" in capsys.readouterr().out
    assert validate_dataset(sp.SHIPPED_SPLITS["mini-v1"]).ok


def test_a_changed_missing_or_extra_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "mini"
    shutil.copytree(sp.SHIPPED, copy)
    frames = sorted((copy / contract.SCENES_DIR).rglob("*.png"))
    changed, removed = frames[0], frames[1]
    data = bytearray(changed.read_bytes())
    data[-20] ^= 1
    changed.write_bytes(bytes(data))
    removed.unlink()
    extra = changed.parent / "99999.png"
    shutil.copy(changed, extra)
    assert main(["benchmark", "verify", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"changed: {changed.relative_to(copy).as_posix()}" in out
    assert f"missing: {removed.relative_to(copy).as_posix()}" in out
    assert f"not in the split: {extra.relative_to(copy).as_posix()}" in out
    assert "NOT the official" in out and "3 of them frames, masks or trimasks" in out


def test_verify_of_a_folder_not_there_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "verify", str(tmp_path / "absent")]) == 1
    assert f"{tmp_path / 'absent'}: no such folder; give the split's folder" in capsys.readouterr().err


def test_verify_says_when_only_metadata_differs_and_ignores_run_records(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    copy = Path(shutil.copytree(sp.SHIPPED, tmp_path / "mini"))
    sid = list_scene_ids(copy)[0]
    (scene_dir(copy, sid) / contract.RUN_FILE).write_text(json.dumps({"timings": {"total": 1.0}, "threads": 7}))
    assert main(["benchmark", "verify", str(copy)]) == 0  # seconds and threads are not data
    meta = scene_dir(copy, sid) / contract.META_FILE
    meta.write_text(meta.read_text().replace('"split": "test"', '"split": "val"'))
    assert main(["benchmark", "verify", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "1 changed, 0 missing, 0 extra" in out and "metadata only: every frame, mask and trimask matches" in out


def test_checksums_cover_the_scene_data_not_the_indexes_or_previews(tmp_path: Path) -> None:
    copy = tmp_path / "mini"
    shutil.copytree(sp.SHIPPED, copy)
    covered = set(sp.file_digests(copy))
    assert f"scenes/{FIRST}/meta.json" in covered
    assert any(rel.startswith(f"scenes/{FIRST}/rgb/minus_1/") for rel in covered)
    assert not any(rel.endswith("preview.gif") for rel in covered)
    assert "dataset.json" not in covered and "manifest.parquet" not in covered
    # rebuilding the indexes (their provenance differs) or the previews leaves a copy official
    info = read_info(copy)
    from genbench.dataset import finalize

    finalize(copy, name=info.name, generator=info.generator, settings=info.settings)
    next((copy / contract.SCENES_DIR).rglob("preview.gif")).write_bytes(b"GIF89a")
    assert sp.verify_checksums(copy, sp.checksum_file(sp.recipe("mini"))).ok
    # ... and the same dataset version for results, caches and the leaderboard
    assert dataset_digest(copy) == dataset_digest(sp.SHIPPED)
    meta = copy / f"scenes/{FIRST}/meta.json"
    meta.write_text(meta.read_text().replace('"split": "test"', '"split": "train"'))
    changed = sp.verify_checksums(copy, sp.checksum_file(sp.recipe("mini"))).changed
    assert changed == [f"scenes/{FIRST}/meta.json"]
    assert dataset_digest(copy) != dataset_digest(sp.SHIPPED)


def test_fetch_unpacks_a_published_split_byte_for_byte_and_refuses_a_tampered_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from genbench.publish.export import export

    published = tmp_path / "hub"
    export([sp.SHIPPED], published, max_shard_bytes=2 * 2**20)
    assert len(list((published / "benchmark").glob("test-*.parquet"))) > 1  # several shards
    out = tmp_path / "fetched"
    assert main(["benchmark", "fetch", "--from", str(published), "--out", str(out)]) == 0
    assert "the official genbench-benchmark-mini-v2" in capsys.readouterr().out
    assert sp.file_digests(out) == sp.file_digests(sp.SHIPPED)
    assert validate_dataset(out).ok and read_info(out).name == "genbench-benchmark-mini-v2"
    assert read_manifest(out) == read_manifest(sp.SHIPPED)
    assert dataset_digest(out) == dataset_digest(sp.SHIPPED)  # one leaderboard group for both copies

    # a published copy whose frame differs by one bit is refused and nothing is written
    tampered = tmp_path / "tampered"
    shutil.copytree(sp.SHIPPED, tampered)
    frame = sorted((tampered / contract.SCENES_DIR).rglob("full/00003.png"))[0]
    from genbench.frames import read_image, write_image

    image = read_image(frame)
    image[0, 0, 0] ^= 1
    write_image(frame, image)
    export([tampered], tmp_path / "hub-tampered")
    assert main(["benchmark", "fetch", "--from", str(tmp_path / "hub-tampered"), "--out", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    assert "not the official genbench-benchmark-mini-v2: 1 changed" in err
    assert frame.relative_to(tampered).as_posix() in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fetched", "hub", "hub-tampered", "tampered"]


def test_fetch_without_network_says_how_to_get_the_split(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert main(["benchmark", "fetch", "--split", "mini", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not download genbench/genbench-benchmark-mini-v2" in err[0]
    assert "--from DIR" in err[0]
    assert not (tmp_path / "x").exists()


def test_build_refuses_an_existing_folder_and_unknown_splits(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "there").mkdir()
    assert main(["benchmark", "build", "--out", str(tmp_path / "there")]) == 1
    assert main(["benchmark", "build", "--split", "huge", "--out", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "already exists" in err[0] and "unknown benchmark split 'huge'" in err[1]
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_a_small_recipe_builds_a_test_only_dataset_with_every_part_and_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    micro = {"name": "micro", "kubric_scenes": 1, "resolution": 32, "frames": 8, "samples": 8, "aux_scenes": 4,
             "paste_scenes": 1, "tripod_plate_frames": 3}
    recipe = replace(sp.recipe("mini"), **micro)
    out = tmp_path / "micro"
    # interrupted after both renders: the work folder stays and `out` does not appear
    real = sp.paste_dataset

    def stop_at_paste(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sp, "paste_dataset", stop_at_paste)
    with pytest.raises(KeyboardInterrupt):
        sp.build_split(recipe, out)
    work = sp.work_folder(out)
    assert not out.exists() and work.is_dir()
    rendered = {p.relative_to(work / "kubric"): p.stat().st_mtime_ns
                for p in (work / "kubric" / "scenes").rglob("*.png")}
    assert rendered
    with pytest.raises(GenbenchError, match="another recipe"):
        sp.build_split(replace(recipe, samples=16), out)

    # the same build again resumes: the renders are not redone
    monkeypatch.setattr(sp, "paste_dataset", real)
    root = sp.build_split(recipe, out)
    assert not work.exists() and [p.name for p in tmp_path.iterdir()] == ["micro"]
    assert {rel: (root / rel).stat().st_mtime_ns for rel in rendered} == rendered  # copied, not rendered again
    assert validate_dataset(root).ok
    assert read_info(root).settings["recipe"]["name"] == "micro"
    metas = [read_meta(root, sid) for sid in list_scene_ids(root)]
    assert {m.split for m in metas} == {"test"}
    kinds = sorted(m.generator for m in metas)
    assert kinds.count("kubric") == 1 and kinds.count("paste") == 1
    sums = sp.write_checksums(root, tmp_path / "micro.sha256")
    assert sp.verify_checksums(root, sums).ok
    assert all((scene_dir(root, sid) / contract.RUN_FILE).is_file() for sid in list_scene_ids(root))
    assert not any(rel.endswith(contract.RUN_FILE) for rel in sp.read_checksums(sums))

    # built again with two render workers (in a process of its own, as a user would run it): the seconds and
    # threads differ (run.json), the data does not
    again = tmp_path / "again"
    code = ("import sys; from dataclasses import replace; from genbench.benchmark import split as sp; "
            "from genbench.generators.kubric.dataset import RenderRun; "
            f"sp.build_split(replace(sp.recipe('mini'), **{micro!r}), sys.argv[1], run=RenderRun(workers=2))")
    subprocess.run([sys.executable, "-c", code, str(again)], check=True, capture_output=True)
    result = sp.verify_checksums(again, sums)
    assert result.ok, result.summary()
    first = f"kubric-s{recipe.kubric_seed}-000000"
    runs = [json.loads((scene_dir(d, first) / contract.RUN_FILE).read_text()) for d in (root, again)]
    assert runs[0]["threads"] != runs[1]["threads"] or runs[0]["timings"] != runs[1]["timings"]


def test_fetch_downloads_only_the_benchmark_config_from_the_split_repo(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from genbench.publish.export import export

    published = tmp_path / "hub"
    export([sp.SHIPPED], published)
    calls = []

    def snapshot_download(**kwargs: object) -> str:  # a stand-in for the Hub: the published folder
        calls.append(kwargs)
        return str(published)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert main(["benchmark", "fetch", "--out", str(tmp_path / "fetched")]) == 0
    assert calls == [{"repo_id": "genbench/genbench-benchmark-mini-v2", "repo_type": "dataset",
                      "allow_patterns": ["benchmark/*"]}]
    assert sp.verify_checksums(tmp_path / "fetched", sp.checksum_file(sp.recipe("mini"))).ok
    assert main(["benchmark", "fetch", "--from", "not a repo", "--out", str(tmp_path / "other")]) == 1
    assert len(calls) == 1 and not (tmp_path / "other").exists()


def test_every_frozen_split_has_committed_checksums_of_its_recipe() -> None:
    frozen = {name for name, spec in sp.SPLITS.items() if sp.checksum_file(spec).is_file()}
    assert frozen >= {sp.LATEST["mini"], sp.LATEST["full"], "mini-v1", "full-v1", "full-v2", "full-v3"}
    for name in frozen:
        spec = sp.SPLITS[name]
        sums = sp.read_checksums(sp.checksum_file(spec))
        assert list(sums) == sorted(sums) and all(sp.checksummed(rel) for rel in sums), name
        scenes = {rel.split("/")[1] for rel in sums}
        kubric = sorted(s for s in scenes if s.startswith("kubric-"))
        assert kubric == [f"kubric-s{spec.kubric_seed}-{i:06d}" for i in range(spec.kubric_scenes)], name
        assert sum(s.startswith("paste-") for s in scenes) == spec.paste_scenes, name
        assert all(f"scenes/{s}/{contract.META_FILE}" in sums for s in scenes), name


@pytest.mark.parametrize("key", sorted(sp.SEED_RANGES))
def test_each_v2_seed_is_the_balanced_choice_of_its_range(key: str) -> None:
    from genbench.benchmark.balance import BEYOND_SHADOW, balanced_seed, possible_kind_counts

    spec = sp.recipe(key)
    seeds = sp.SEED_RANGES[key]
    assert balanced_seed(spec.render_settings, spec.kubric_scenes, seeds) == spec.kubric_seed
    chosen = possible_kind_counts(spec.render_settings(spec.kubric_seed), spec.kubric_scenes)
    first = possible_kind_counts(spec.render_settings(seeds.start), spec.kubric_scenes)
    assert all(chosen[k] > 0 for k in BEYOND_SHADOW)
    assert min(chosen[k] for k in BEYOND_SHADOW) >= min(first[k] for k in BEYOND_SHADOW)


def test_split_names_resolve_to_their_newest_frozen_version() -> None:
    assert sp.recipe("mini") is sp.MINI_V2 and sp.recipe("mini-v1") is sp.MINI_V1
    assert sp.recipe("full") is sp.FULL_V3 and sp.recipe("full-v1") is sp.FULL_V1
    assert sp.recipe("val") is sp.VALIDATION is sp.VALIDATION_V2
    assert sp.MINI_V2.render_settings(1).worlds == ("sky", "gradient", "hdri")  # v2 draws every look
    assert sp.MINI_V1.render_settings(1).worlds == ("sky", "gradient")  # v1 stays v1
    seeds = [seed for s in [*sp.SPLITS.values(), *sp.VALIDATIONS.values()] for seed in (s.kubric_seed, s.aux_seed)]
    v2_seeds = [seed for s in (sp.MINI_V2, sp.FULL_V2, sp.VALIDATION_V2) for seed in (s.kubric_seed, s.aux_seed)]
    assert len(set(v2_seeds)) == len(v2_seeds) and len(set(seeds)) >= len(seeds) - 4  # v1 mini and full share seeds,
    assert sp.recipe("full-v3") == replace(sp.FULL_V2, version="3", tripod_plate_frames=13)  # as do full-v2 and v3
    with pytest.raises(GenbenchError, match="unknown benchmark split 'mini-v9'"):
        sp.recipe("mini-v9")


def test_the_shipped_split_holds_every_effect_kind_and_its_card_lists_them(tmp_path: Path) -> None:
    """The card's per-kind counts (from meta.json) against a count of the per-kind mask files themselves."""
    from collections import Counter

    import numpy as np
    from PIL import Image

    from genbench.generators.kubric.kinds import KINDS
    from genbench.publish.card import effect_kind_counts
    from genbench.publish.export import export

    root = sp.SHIPPED
    metas = [read_meta(root, sid) for sid in list_scene_ids(root)]
    plain: Counter[str] = Counter()
    for meta in metas:
        effects = scene_dir(root, meta.scene_id) / contract.MASKS_DIR / contract.EFFECTS_DIR
        for sample in meta.samples:
            plain.update({folder.name for k in sample.remove for folder in (effects / str(k)).glob("*")
                          if any(np.asarray(Image.open(p)).any() for p in folder.glob("*.png"))})
    counts = effect_kind_counts(metas)
    assert {kind: n for kind, (n, _) in counts.items()} == dict(plain)
    assert set(plain) == set(KINDS)  # shadow, reflection, refraction and light are all in the split
    export([root], tmp_path / "hub")
    card = (tmp_path / "hub" / "README.md").read_text()
    for kind, (n, area) in counts.items():
        assert f"| {kind} | {n} | {100 * area:.2f} |" in card


def test_a_tripod_window_in_the_footages_clean_plate_frames_is_found(tmp_path: Path) -> None:
    """Every tripod window of the shipped mini splits lies inside its footage's object clip; a window moved onto
    the clean-plate frames around it (what the full recipes' tripod part does: its ground truth is inverted) is
    named."""
    for key, root in sp.SHIPPED_SPLITS.items():
        tripods = [sid for sid in list_scene_ids(root) if read_meta(root, sid).generator == "tripod"]
        assert len(tripods) == 2 and sp.misplaced_tripod_windows(root, sp.recipe(key)) == [], key
    copy = Path(shutil.copytree(sp.SHIPPED, tmp_path / "mini"))
    sid = next(s for s in list_scene_ids(copy) if s.startswith("tripod"))
    meta_path = scene_dir(copy, sid) / contract.META_FILE
    meta = json.loads(meta_path.read_text())
    meta["spec"]["frames"] = [0, 8]  # the leading plate frames (6 of them) and two of the object clip
    meta_path.write_text(json.dumps(meta))
    assert sp.misplaced_tripod_windows(copy, sp.recipe("mini-v2")) == [sid]
    # a recipe is safe when the clean plate holds most of its footage's frames: the full recipes before v3 were not
    safe = {key for key, spec in sp.SPLITS.items() if 2 * spec.tripod_plate_frames > spec.frames}
    assert safe == {"mini-v1", "mini-v2", "full-v3"}
