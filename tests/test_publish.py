"""`genbench publish`: the Hub layout read back by `datasets`, byte for byte, and a resumable push.

The push is tested against a stand-in for the Hub's HTTP API (`FakeHub`: create_repo, list_repo_tree,
create_commit over an in-memory repo, returning huggingface_hub's own RepoFile records); everything on
our side of that boundary (CommitOperationAdd/Delete, hashing, resume) is real.
"""

from __future__ import annotations

import argparse
import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from datasets import Image as HFImage
from datasets import List, load_dataset
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard
from huggingface_hub.hf_api import RepoFile
from PIL import Image

from genbench import cli, contract
from genbench.commands import paste, tripod
from genbench.errors import GenbenchError
from genbench.frames import frame_paths
from genbench.publish.export import export, plan_shards
from genbench.publish.features import FEATURES
from genbench.publish.push import git_blob_id, push
from genbench.scene import list_scene_ids, read_meta, scene_dir
from genbench.trimask import trimask as derive_trimask


def _street(folder: Path) -> Path:
    """Static-camera footage: a red box sliding over a textured plate with a cast shadow, noise."""
    h, w, t = 32, 48, 12
    rng = np.random.default_rng(0)
    small = rng.uniform(60, 190, size=(h // 6 + 1, w // 6 + 1, 3)).astype(np.float32)
    plate = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    folder.mkdir(parents=True)
    for i in range(t):
        x = 6 + round(i * 28 / (t - 1))
        img = plate.copy()
        img[20:26, x + 3:x + 11] *= 0.5
        img[10:20, x:x + 7] = (210, 40, 35)
        img += rng.normal(0, 1.5, size=img.shape)
        Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8)).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def sources(toy_master: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three tiny datasets, one per source: toy renders, object-paste composites, tripod footage."""
    root = tmp_path_factory.mktemp("publish-sources")
    assert paste.run(argparse.Namespace(source=str(toy_master), targets=str(toy_master), out=str(root / "paste"),
                                        count=2, frames=4, seed=0, shadow=True, max_size=None, workers=1)) == 0
    assert tripod.run(argparse.Namespace(inputs=[str(_street(root / "street"))], out=str(root / "tripod"),
                                         max_size=None, window=48, workers=1)) == 0
    return [toy_master, root / "paste", root / "tripod"]


@pytest.fixture(scope="module")
def published(sources: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published") / "hub"
    export(sources, out, command=["genbench", "publish", "..."])
    return out


def _undecoded(features):  # the same features with every Image left as {"bytes", "path"}
    if isinstance(features, HFImage):
        return HFImage(decode=False)
    if isinstance(features, List):
        return List(_undecoded(features.feature))
    if isinstance(features, dict):
        return type(features)({k: _undecoded(v) for k, v in features.items()})
    return features


def _bytes(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in frame_paths(folder)] if folder.is_dir() else []


def test_round_trip_every_frame_byte_for_byte(sources: list[Path], published: Path, tmp_path: Path) -> None:
    configs = {"toy": sources[0], "paste": sources[1], "tripod": sources[2]}
    assert sorted(p.name for p in published.iterdir()) == ["README.md", "paste", "preview.png", "toy", "tripod"]
    checked = 0
    for config, root in configs.items():
        ds = load_dataset(str(published), config, cache_dir=str(tmp_path / "cache"))
        assert sorted(ds) == sorted({read_meta(root, s).split for s in list_scene_ids(root)})
        rows = {}
        for split in ds:
            assert ds[split].features == FEATURES  # declared features read back from the shards
            for row in ds[split].cast(_undecoded(FEATURES)):
                rows[row["scene_id"]] = row
        assert sorted(rows) == list_scene_ids(root)
        for sid, row in rows.items():
            meta, folder = read_meta(root, sid), scene_dir(root, sid)
            assert row["source"] == config and row["meta"] == (folder / contract.META_FILE).read_text()
            rgb = folder / contract.RGB_DIR
            videos = {"full": rgb / "full", "bg": rgb / "bg", "visible": folder / "masks" / "visible"}
            pairs = [(row[k], _bytes(v)) for k, v in videos.items()]
            for obj in row["objects"]:
                k = obj["id"]
                pairs += [(obj["minus"], _bytes(rgb / f"minus_{k}")), (obj["solo"], _bytes(rgb / f"solo_{k}")),
                          (obj["layer"], _bytes(folder / "layers" / str(k))),
                          (obj["amodal"], _bytes(folder / "masks" / "amodal" / str(k)))]
                assert [e["kind"] for e in obj["effects"]] == meta.effects.get(k, [])
                pairs += [(e["mask"], _bytes(folder / "masks" / "effects" / str(k) / e["kind"]))
                          for e in obj["effects"]]
            for got, want in pairs:
                assert [f["bytes"] for f in got] == want
                checked += len(want)
            visible = np.stack([np.asarray(Image.open(p)) for p in frame_paths(folder / "masks" / "visible")])
            for sample, spec in zip(row["samples"], meta.samples, strict=True):
                assert sample["sample_id"] == contract.sample_id(sid, spec.remove)
                tri = np.stack([np.asarray(Image.open(io.BytesIO(f["bytes"]))) for f in sample["trimask"]])
                if spec.trimask.stored:
                    stored = _bytes(folder / "trimask" / sample["sample_id"])
                    assert [f["bytes"] for f in sample["trimask"]] == stored
                    checked += len(stored)
                else:
                    np.testing.assert_array_equal(tri, derive_trimask(visible, spec.remove, spec.trimask))
    assert checked == sum(len(list(root.glob("scenes/*/**/*.png"))) for root in configs.values())  # every file
    # decoded, a frame is the same pixels genbench reads
    row = load_dataset(str(published), "toy", split="train", cache_dir=str(tmp_path / "cache"))[0]
    first = frame_paths(scene_dir(sources[0], row["scene_id"]) / "rgb" / "full")[0]
    np.testing.assert_array_equal(np.asarray(row["full"][0]), np.asarray(Image.open(first)))
    # the default config loads with no name
    assert "train" in load_dataset(str(published), cache_dir=str(tmp_path / "cache"))


def test_card_metadata_and_preview(published: Path) -> None:
    card = DatasetCard.load(published / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "cc-by-4.0" and "image-to-image" in data["task_categories"]
    assert [c["config_name"] for c in data["configs"]] == ["toy", "paste", "tripod"]
    assert data["configs"][0]["default"] is True
    assert {c["config_name"] for c in data["dataset_info"]} == {"toy", "paste", "tripod"}
    assert "genbench publish ..." in card.text and "seeds: 7" in card.text  # the command and the toy seed
    assert "| toy | train | 3 | 12 |" in card.text  # counts
    assert "(preview.png)" in card.text
    with Image.open(published / "preview.png") as preview:
        assert preview.format == "PNG" and preview.height >= 3 * 128


def test_card_summarises_tripod_quality(published: Path, sources: list[Path]) -> None:
    card = (published / "README.md").read_text()
    quality = read_meta(sources[2], list_scene_ids(sources[2])[0]).quality  # the one tripod scene
    sigma, stability = quality["noise_sigma"], quality["mask_stability"]
    assert f"| noise sigma of the footage (levels) | {sigma:.4g} | {sigma:.4g} | {sigma:.4g} |" in card
    assert f"| object mask stability (IoU of consecutive masks after the motion) | {stability:.4g} |" in card
    assert "`max_noise` = 10.0" in card and "`min_stability` = 0.6" in card
    assert card.count("Quality of the tripod windows") == 1  # the toy and paste sources have none


def test_shards_are_bounded_and_deterministic(toy_master: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    export([toy_master], a, max_shard_bytes=20_000)
    export([toy_master], b, max_shard_bytes=20_000)
    shards = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.parquet"))
    assert shards == ["toy/train-00000-of-00003.parquet", "toy/train-00001-of-00003.parquet",
                      "toy/train-00002-of-00003.parquet", "toy/val-00000-of-00001.parquet"]
    for rel in [*shards, "README.md", "preview.png"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    rows = [pq.ParquetFile(a / rel).metadata.num_rows for rel in shards]
    assert rows == [1, 1, 1, 1]
    assert [s.scenes for s in plan_shards("c", "train", [("a", 5), ("b", 5), ("c", 11), ("d", 1)], 10)] == [
        ["a", "b"], ["c"], ["d"]]


def test_refusals(toy_master: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["publish", str(toy_master)]) == 1
    assert "--to DIR" in capsys.readouterr().err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(GenbenchError, match="not an earlier"):
        export([toy_master], foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(GenbenchError, match="not a genbench dataset"):
        export([tmp_path], tmp_path / "out")
    with pytest.raises(GenbenchError, match="one config per source"):
        export([toy_master, toy_master], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    out = tmp_path / "ok"
    assert cli.main(["publish", str(toy_master), "--to", str(out)]) == 0
    assert cli.main(["publish", str(toy_master), "--to", str(out), "--max-shard-mb", "0.02"]) == 0  # replaces it
    assert len(list((out / "toy").glob("train-*"))) == 3


class FakeHub:
    """The Hub's HTTP API for one dataset repo, in memory; `fail_after` commits, it drops the connection."""

    def __init__(self, files: dict[str, bytes] | None = None, fail_after: int | None = None) -> None:
        self.files = dict(files or {})
        self.commits: list[str] = []
        self.fail_after = fail_after
        self.created: list[tuple[str, bool]] = []

    def create_repo(self, repo_id: str, *, repo_type: str, private: bool, exist_ok: bool) -> None:
        assert repo_type == "dataset" and exist_ok
        self.created.append((repo_id, private))

    def list_repo_tree(self, repo_id: str, *, repo_type: str, recursive: bool, revision: str | None) -> list:
        out = []
        for path, data in sorted(self.files.items()):
            lfs = ({"size": len(data), "oid": hashlib.sha256(data).hexdigest(), "pointerSize": 130}
                   if path.endswith((".parquet", ".png")) else None)
            out.append(RepoFile(path=path, size=len(data), oid=git_blob_id(data), lfs=lfs))
        return out

    def create_commit(self, repo_id: str, operations: list, *, repo_type: str, commit_message: str,
                      revision: str | None) -> None:
        if self.fail_after is not None and len(self.commits) >= self.fail_after:
            raise ConnectionError("connection reset by peer")
        for op in operations:
            if isinstance(op, CommitOperationAdd):
                self.files[op.path_in_repo] = Path(op.path_or_fileobj).read_bytes()
            else:
                assert isinstance(op, CommitOperationDelete)
                del self.files[op.path_in_repo]
        self.commits.append(commit_message)


def _local(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_push_uploads_exactly_the_folder_and_resumes(toy_master: Path, tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    export([toy_master], folder, max_shard_bytes=20_000)
    unrelated = {"other/notes.parquet": b"theirs", "toy/train-00000-of-00009.parquet": b"stale shard"}
    hub = FakeHub(unrelated, fail_after=2)
    with pytest.raises(GenbenchError, match="rerun to resume"):
        push(folder, "org/toy", api=hub, private=True)
    assert hub.created == [("org/toy", True)] and len(hub.commits) == 2
    hub.fail_after = None
    report = push(folder, "org/toy", api=hub)
    assert len(report.skipped) == 2 and len(report.uploaded) == 4  # two shards were there; 2 shards + card, preview
    assert report.deleted == ["toy/train-00000-of-00009.parquet"]
    assert hub.files == {**_local(folder), "other/notes.parquet": b"theirs"}
    again = push(folder, "org/toy", api=hub)
    assert again.uploaded == [] and again.commits == 0
    with pytest.raises(GenbenchError, match="ORG/NAME"):
        push(folder, "no owner", api=hub)


class UnreachableHub(FakeHub):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def create_repo(self, repo_id: str, **kwargs: object) -> None:
        raise self.error


def test_an_unreachable_hub_is_one_line_and_a_bug_stays_a_bug(toy_master: Path, tmp_path: Path) -> None:
    """huggingface_hub's HTTP library (httpx2 in 2.x) raises its own errors, not OSErrors: they are still a
    network failure in one line; an error of any other kind is not dressed up as one."""
    httpx = pytest.importorskip("httpx2")
    folder = tmp_path / "hub"
    export([toy_master], folder)
    with pytest.raises(GenbenchError, match=r"^creating the repo failed: ConnectError: Name or service not known; "
                                            "check the network and rerun to resume$"):
        push(folder, "org/toy", api=UnreachableHub(httpx.ConnectError("Name or service not known")))
    with pytest.raises(TypeError, match="a bug"):
        push(folder, "org/toy", api=UnreachableHub(TypeError("a bug")))
