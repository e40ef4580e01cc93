"""Datasets in a bucket, tested against a real S3 API: moto's S3 server on 127.0.0.1, reached through s3fs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import pytest

from genbench import cli, contract, storage
from genbench.errors import DatasetError, GenbenchError
from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
from genbench.runner import FAILURES_FILE, run_generation
from genbench.scene import list_scene_ids
from genbench.storage import MARKER_SUFFIX, RemoteDataset, local_copy, open_output, output_root
from genbench.validate import validate_dataset

from .conftest import make_toy_dataset

BUCKET = "genbench-test"
# Few files per scene: every file is an S3 request, and moto answers each in tens of milliseconds here.
TOY = ToySettings(seed=7, resolution=16, frames=2, max_objects=2)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on the loopback address, an ephemeral port, dummy credentials in the environment (so
    subprocesses and worker processes reach it too) and a fresh genbench cache; yields the endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        cache = tmp_path_factory.mktemp("cache")
        mp.setattr(storage, "cache_dir", lambda: cache)  # local copies of the test's buckets
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()  # an instance made before would keep another endpoint
        s3fs.S3FileSystem().mkdir(BUCKET)
        yield endpoint
        s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


@pytest.fixture
def url(s3_server: str) -> str:
    """A fresh prefix in the test bucket."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:8]}"


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under `root` (posix relative path -> digest), but files named in `skip`."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in skip}


def toy_run(root: Path | str, count: int, make_scene=None, settings: ToySettings = TOY) -> object:
    return run_generation(root, name="toy-test", generator=GENERATOR, settings=asdict(settings), count=count,
                          make_scene=make_scene or partial(make_toy_scene, settings),
                          scene_id_of=partial(scene_id, settings))


def _toy_scene(i: int):  # module level: picklable for the process pool
    return make_toy_scene(TOY, i)


def _toy_id(i: int) -> str:
    return scene_id(TOY, i)


def test_locations() -> None:
    assert output_root("out/data") == Path("out/data")
    assert output_root("file:///tmp/x") == Path("/tmp/x")
    assert output_root(Path("a://b")) == Path("a:/b")  # a Path is always local
    assert output_root("s3://bucket/pre/fix/") == "s3://bucket/pre/fix"
    assert output_root("gs://bucket") == "gs://bucket"


def test_file_url_is_the_local_code_path(tmp_path: Path) -> None:
    toy_run(f"file://{tmp_path / 'a'}", 3)
    make_toy_dataset(tmp_path / "b", count=3, settings=TOY)
    assert tree(tmp_path / "a", skip=(contract.DATASET_FILE,)) == tree(tmp_path / "b", skip=(contract.DATASET_FILE,))
    assert not any(p.name.endswith(MARKER_SUFFIX) for p in (tmp_path / "a").rglob("*"))


def test_toy_run_to_s3_validates_and_equals_the_local_run(url: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # two worker processes: they find the endpoint and credentials where the parent does
    summary = run_generation(url, name="toy-test", generator=GENERATOR, settings=asdict(TOY), count=3, workers=2,
                             make_scene=_toy_scene, scene_id_of=_toy_id)
    assert summary.written == [_toy_id(i) for i in range(3)] and summary.root == url
    make_toy_dataset(tmp_path / "local", count=3, settings=TOY)
    remote = RemoteDataset(url)
    assert remote.committed() == [_toy_id(i) for i in range(3)]
    assert remote.names() == {contract.SCENES_DIR, contract.MANIFEST_FILE, contract.DATASET_FILE}
    marker = remote.marker(_toy_id(0))  # every file of the scene with its sha256
    copy = local_copy(url)
    assert marker == tree(copy / contract.SCENES_DIR / _toy_id(0))
    # the copy is what a local run writes, byte for byte (dataset.json records the command line)
    assert tree(copy, skip=(contract.DATASET_FILE,)) == tree(tmp_path / "local", skip=(contract.DATASET_FILE,))
    info = json.loads((copy / contract.DATASET_FILE).read_text())
    assert info["counts"] == json.loads((tmp_path / "local" / contract.DATASET_FILE).read_text())["counts"]
    assert validate_dataset(copy).ok
    assert cli.main(["validate", url]) == 0
    assert f"{url}: valid; 3 scenes" in capsys.readouterr().out


KILLED_WHILE_UPLOADING = """
import os, signal, sys
from dataclasses import asdict
import genbench.storage
from genbench.generators.toy import GENERATOR, ToySettings, make_toy_scene, scene_id
from genbench.runner import run_generation

settings = ToySettings(seed=7, resolution=16, frames=2, max_objects=2)
dying = f"/scenes/{scene_id(settings, 2)}/"
real_filesystem = genbench.storage.filesystem
def filesystem(url):
    fs, path = real_filesystem(url)
    real_put = fs.put
    def put(lpaths, rpaths, **kwargs):  # scene 2's upload: five files, then die as a killed machine does
        if any(dying in r for r in rpaths):
            real_put(lpaths[:5], rpaths[:5])
            fs.pipe_file(rpaths[0].split(dying)[0] + dying + "rgb/full/99999.png", b"a frame of an older attempt")
            os.kill(os.getpid(), signal.SIGKILL)
        return real_put(lpaths, rpaths, **kwargs)
    fs.put = put
    return fs, path
genbench.storage.filesystem = filesystem
run_generation(sys.argv[1], name="toy-test", generator=GENERATOR, settings=asdict(settings), count=4,
               make_scene=lambda i: make_toy_scene(settings, i), scene_id_of=lambda i: scene_id(settings, i))
"""


def test_killed_mid_upload_leaves_no_partial_scene_visible_and_rerun_equals_uninterrupted(
        url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_WHILE_UPLOADING, url], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.returncode == -9, proc.stderr
    remote = RemoteDataset(url)
    partial = remote.key(contract.SCENES_DIR, _toy_id(2))
    assert len(remote.fs.find(partial)) == 6, "the run must die with part of scene 2 uploaded"
    assert remote.committed() == [_toy_id(0), _toy_id(1)]  # the half scene is invisible ...
    copy = local_copy(url)
    assert list_scene_ids(copy) == [_toy_id(0), _toy_id(1)]  # ... to readers too
    assert not (copy / contract.SCENES_DIR / _toy_id(2)).exists()
    # what is visible is whole: the only problems are the index files the killed run never wrote
    assert {p.path for p in validate_dataset(copy).problems} == {contract.DATASET_FILE, contract.MANIFEST_FILE}
    assert remote.uncommitted() == [_toy_id(2)]
    assert cli.main(["validate", url]) == 1
    assert f"warning: scenes/{_toy_id(2)}: uncommitted scene" in capsys.readouterr().out
    summary = toy_run(url, 4)
    assert summary.skipped == [_toy_id(0), _toy_id(1)] and summary.written == [_toy_id(2), _toy_id(3)]
    make_toy_dataset(tmp_path / "clean", count=4, settings=TOY)
    copy = local_copy(url)
    assert tree(copy, skip=(contract.DATASET_FILE,)) == tree(tmp_path / "clean", skip=(contract.DATASET_FILE,))
    assert remote.marker(_toy_id(2)) == tree(copy / contract.SCENES_DIR / _toy_id(2))  # rewritten whole ...
    assert sorted(remote.fs.find(partial)) == sorted(f"{partial}/{rel}" for rel in remote.marker(_toy_id(2)))  # only
    assert validate_dataset(copy).ok and remote.uncommitted() == []


def _flaky(i: int):
    if i == 1:
        raise RuntimeError("object fell through the floor")
    return make_toy_scene(TOY, i)


def test_failures_json_skip_if_complete_and_settings_on_s3(url: str) -> None:
    summary = toy_run(url, 3, make_scene=_flaky)
    assert list(summary.failed) == [_toy_id(1)]
    remote = RemoteDataset(url)
    assert "object fell through the floor" in remote.read_json(FAILURES_FILE)["failed"][_toy_id(1)]
    assert remote.committed() == [_toy_id(0), _toy_id(2)]
    before = {sid: remote.marker(sid) for sid in remote.committed()}
    summary = toy_run(url, 3)
    assert summary.skipped == [_toy_id(0), _toy_id(2)] and summary.written == [_toy_id(1)]
    assert FAILURES_FILE not in remote.names()  # a rerun that succeeds clears the record
    assert {sid: remote.marker(sid) for sid in before} == before
    with pytest.raises(DatasetError, match="other settings"):
        run_generation(url, name="t", generator=GENERATOR, settings=asdict(replace(TOY, frames=5)), count=1,
                       make_scene=_toy_scene, scene_id_of=_toy_id)


def test_refusals_are_one_line_and_write_nothing(url: str, s3_server: str, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    remote = RemoteDataset(url)
    remote.write_bytes("notes.txt", b"mine")
    with pytest.raises(DatasetError, match="not empty and holds no genbench dataset"):
        toy_run(url, 1)
    assert remote.names() == {"notes.txt"}
    with pytest.raises(DatasetError, match="cannot write to s3://no-such-bucket-here/x"):
        toy_run("s3://no-such-bucket-here/x", 1)
    with pytest.raises(DatasetError, match="no genbench dataset there"):
        local_copy(f"s3://{BUCKET}/nothing-here")
    with pytest.raises(GenbenchError, match=r"pip install 'genbench\[cloud\]'"):
        import fsspec  # noqa: F401  (loads fsspec.registry)

        monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
        monkeypatch.setitem(sys.modules, "s3fs", None)  # s3fs not installed
        open_output("s3://bucket/x").existing()


def test_a_changed_object_is_caught_on_download(url: str) -> None:
    toy_run(url, 2)
    remote = RemoteDataset(url)
    frame = f"{contract.SCENES_DIR}/{_toy_id(1)}/{contract.RGB_DIR}/{contract.FULL}/00000.png"
    remote.write_bytes(frame, b"not the committed frame")
    with pytest.raises(DatasetError, match=f"{frame}: does not match the checksum"):
        local_copy(url)


def test_a_blender_render_to_s3_is_byte_identical_to_the_same_render_on_disk(url: str, tmp_path: Path) -> None:
    """`genbench render --out s3://...`: one real Cycles scene (tiny preset, 2 frames), previews included."""
    from genbench.generators.kubric.preview import PREVIEW_FILE

    args = ["render", "--scenes", "1", "--preset", "tiny", "--frames", "2", "--seed", "3"]
    assert cli.main([*args, "--out", str(tmp_path / "local")]) == 0
    assert cli.main([*args, "--out", url]) == 0
    remote = RemoteDataset(url)
    (sid,) = remote.committed()
    assert PREVIEW_FILE in remote.marker(sid)  # added after the run, and committed with the scene
    copy = local_copy(url)
    skip = (contract.RUN_FILE, contract.DATASET_FILE)  # run.json: seconds and threads of this run
    assert tree(copy, skip=skip) == tree(tmp_path / "local", skip=skip)
    assert cli.main(["validate", url]) == 0


def test_eval_and_publish_read_a_bucket_as_they_read_a_folder(url: str, tmp_path: Path) -> None:
    settings = replace(TOY, resolution=32)  # LPIPS needs 31 pixels or more
    toy_run(url, 2, settings=settings)
    local = make_toy_dataset(tmp_path / "local", count=2, settings=settings)
    for name, data in (("s3", url), ("local", str(local))):
        assert cli.main(["eval", "--method", "identity", "--data", data, "--out", str(tmp_path / f"eval-{name}"),
                         "--device", "cpu"]) == 0
        assert cli.main(["publish", data, "--to", str(tmp_path / f"pub-{name}")]) == 0
    scores = [json.loads((tmp_path / f"eval-{n}" / "results.json").read_text())["methods"]["identity"]
              for n in ("s3", "local")]
    for s in scores:  # what differs from run to run: time, and where the predictions went
        del s["timing"], s["predictions"]["path"]
    assert scores[0] == scores[1] and scores[0]["clips"] > 0
    shards = [tree(tmp_path / f"pub-{n}", skip=("README.md",)) for n in ("s3", "local")]
    assert shards[0] == shards[1] and any(rel.endswith(".parquet") for rel in shards[0])


def test_paste_writes_to_a_bucket(url: str, tmp_path: Path) -> None:
    from genbench.commands.paste import run

    from .test_paste import _args, make_davis, make_targets

    davis, targets = make_davis(tmp_path / "davis"), tmp_path / "targets"
    make_targets(targets)
    for out in (url, str(tmp_path / "local")):
        assert run(_args(source=str(davis), targets=str(targets), out=out, count=2)) == 0
    skip = (contract.RUN_FILE, contract.DATASET_FILE)  # run.json: seconds of this run
    assert tree(local_copy(url), skip=skip) == tree(tmp_path / "local", skip=skip)


def test_tripod_writes_to_a_bucket(url: str, tmp_path: Path) -> None:
    from genbench.generators.tripod.dataset import REJECTED_FILE

    from .test_tripod import panning_footage, static_footage, write_avi, write_frames

    street = write_frames(tmp_path / "street", static_footage()["frames"])
    pan = write_avi(tmp_path / "pan.avi", panning_footage())  # rejected: rejected.json has a reason
    for out in (url, str(tmp_path / "local")):
        assert cli.main(["tripod", str(street), str(pan), "--out", out]) == 0
    assert REJECTED_FILE in RemoteDataset(url).names()
    skip = (contract.RUN_FILE, contract.DATASET_FILE)
    assert tree(local_copy(url), skip=skip) == tree(tmp_path / "local", skip=skip)


def test_a_dataset_built_whole_is_uploaded_and_an_interrupted_upload_resumes(url: str, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """What `benchmark build --out s3://...` does: build in a local folder of the cache, then upload."""
    builds = []

    def build(folder: Path) -> Path:
        builds.append(folder)
        return make_toy_dataset(folder, count=3, settings=TOY)

    real = RemoteDataset.upload_scene

    def lost_connection(self: RemoteDataset, folder: Path, sid: str) -> None:
        if sid == _toy_id(1):
            raise ConnectionError("connection reset")
        real(self, folder, sid)

    monkeypatch.setattr(RemoteDataset, "upload_scene", lost_connection)
    with pytest.raises(ConnectionError):
        open_output(url).build_into(build)
    assert RemoteDataset(url).committed() == [_toy_id(0)] and contract.DATASET_FILE not in RemoteDataset(url).names()
    monkeypatch.setattr(RemoteDataset, "upload_scene", real)
    assert open_output(url).build_into(build) == url
    assert len(builds) == 1, "the finished build is uploaded again, not rebuilt"
    assert not builds[0].exists()  # the local build is gone once uploaded
    skip = (contract.DATASET_FILE,)
    assert tree(local_copy(url), skip=skip) == tree(make_toy_dataset(tmp_path / "local", 3, TOY), skip=skip)
    with pytest.raises(DatasetError, match="already holds a dataset"):
        open_output(url).build_into(build)
