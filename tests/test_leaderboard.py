"""`genbench leaderboard`: submissions validated and scored, hostile archives refused, a store that never tears.

Every rejection test checks three things: the reason, that the board's store is byte for byte what it
was, and (for path tricks) that nothing appeared outside the private work folder. The board tests check
protocol v2's ranking by the headline, and that entries scored under protocol v1 stay apart.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genbench import cli, contract
from genbench.benchmark.harness import EvalSettings
from genbench.benchmark.metrics import PROTOCOL_VERSION, FrameScorer
from genbench.errors import GenbenchError
from genbench.frames import read_video, write_video
from genbench.leaderboard.archive import Caps, SubmissionRejected
from genbench.leaderboard.baselines import enter_baselines
from genbench.leaderboard.board import groups, show_text
from genbench.leaderboard.site import build
from genbench.leaderboard.store import append, read_board
from genbench.leaderboard.submit import Submission, accepted_line, submit
from genbench.samples import load_removal, removal_samples
from genbench.scene import scene_dir

SPLIT = "train"  # the toy fixture's train split: 12 samples of 4 frames, 32x32
SETTINGS = EvalSettings(split=SPLIT, device="cpu")


@pytest.fixture(scope="module")
def scorer() -> FrameScorer:
    return FrameScorer("cpu")


@pytest.fixture(scope="module")
def oracle(toy_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ground truth written as removal predictions: a perfect submission."""
    root = tmp_path_factory.mktemp("oracle") / "pred"
    for s in removal_samples(toy_master, SPLIT):
        write_video(root / s.sample_id, read_video(scene_dir(toy_master, s.scene_id) / contract.RGB_DIR / s.target))
    return root


@pytest.fixture(scope="module")
def board(toy_master: Path, oracle: Path, scorer: FrameScorer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board holding one accepted entry (the oracle), for the rejection tests to leave untouched."""
    path = tmp_path_factory.mktemp("board") / "store"
    submit(Submission(oracle, "oracle", "tests"), path, data=toy_master, settings=SETTINGS, scorer=scorer)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) and its sha256."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symbolic link
            zf.writestr(info, target)
    return path


def make_tar(path: Path, members: dict[str, bytes], special: list[tarfile.TarInfo] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info in special or []:
            tf.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _reject(board: Path, pred: Path, match: str, toy: Path, scorer: FrameScorer, **kw: object) -> None:
    before = snapshot(board)
    with pytest.raises(SubmissionRejected, match=match):
        submit(Submission(pred, "bad"), board, data=toy, settings=SETTINGS, scorer=scorer, **kw)  # type: ignore[arg-type]
    assert snapshot(board) == before


def test_accepts_folder_zip_and_wrapped_tar(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer,
                                            tmp_path: Path) -> None:
    entries = read_board(board)
    assert [e.method for e in entries] == ["oracle"]
    full = entries[0].summary["regions"]["full"]
    assert full["psnr"] == 100.0 and full["lpips"] < 1e-6  # the truth scores perfectly (PSNR capped)
    assert entries[0].summary["headline"] < 1e-6 and entries[0].protocol["version"] == PROTOCOL_VERSION
    assert entries[0].protocol_version == PROTOCOL_VERSION and "score ↓ 0.0000" in accepted_line(entries[0])
    assert entries[0].dataset["split"] == SPLIT and entries[0].dataset["items"] == 12
    assert len(entries[0].strips) == 3 and all((board / s).is_file() for s in entries[0].strips)
    files = _files(oracle)
    zipped = make_zip(tmp_path / "oracle.zip", files)
    wrapped = make_tar(tmp_path / "oracle.tar.gz", {f"pred/{k}": v for k, v in files.items()})
    for pred, name in ((zipped, "zip"), (wrapped, "tar")):
        entry = submit(Submission(pred, name, url="https://example.org/x"), tmp_path / name, data=toy_master,
                       settings=SETTINGS, scorer=scorer)
        assert entry.summary["regions"]["full"]["psnr"] == 100.0
        assert entry.predictions_sha256 == entries[0].predictions_sha256  # the same frames, however packed
    assert [e.method for e in read_board(tmp_path / "zip")] == ["zip"]


def test_the_same_frames_enter_a_board_once(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer,
                                            tmp_path: Path) -> None:
    """A repeat (the oracle again, under another name and packed as a tar) adds nothing and returns the entry
    already there; other frames are taken."""
    first = read_board(board)[0]
    wrapped = make_tar(tmp_path / "again.tar.gz", {f"pred/{k}": v for k, v in _files(oracle).items()})
    before = snapshot(board)
    assert submit(Submission(wrapped, "again"), board, data=toy_master, settings=SETTINGS, scorer=scorer) == first
    assert snapshot(board) == before
    store = tmp_path / "store"
    shutil.copytree(board, store)
    other = tmp_path / "other"
    shutil.copytree(oracle, other)
    frame = next(other.rglob("00000.png"))
    image = np.asarray(Image.open(frame)).copy()
    image[0, 0] ^= 1  # one pixel one level off
    Image.fromarray(image).save(frame)
    entry = submit(Submission(other, "oracle"), store, data=toy_master, settings=SETTINGS, scorer=scorer)
    assert entry.predictions_sha256 != first.predictions_sha256 and len(read_board(store)) == 2


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_rejects_path_traversal_and_absolute_paths(kind: str, toy_master: Path, oracle: Path, board: Path,
                                                   scorer: FrameScorer, tmp_path: Path) -> None:
    make = make_zip if kind == "zip" else make_tar
    png = next(iter(_files(oracle).values()))
    work = tmp_path / "w"
    work.mkdir()
    for name, match in ((f"../../{tmp_path.name}/evil.png", "path traversal"), ("a/../../evil.png", "traversal"),
                        (str(tmp_path / "abs.png"), "absolute path"), ("C:/evil.png", "absolute path")):
        archive = make(work / f"x.{kind}", {**_files(oracle), name: png})
        _reject(board, archive, match, toy_master, scorer)
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "abs.png").exists()


def test_rejects_links(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer, tmp_path: Path) -> None:
    files = _files(oracle)
    sym = tarfile.TarInfo("x/00000.png")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("x/00001.png")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../outside.png"
    _reject(board, make_tar(tmp_path / "sym.tgz", files, [sym]), "symbolic link", toy_master, scorer)
    _reject(board, make_tar(tmp_path / "hard.tgz", files, [hard]), "hard link", toy_master, scorer)
    _reject(board, make_zip(tmp_path / "sym.zip", files, {"x.png": "/etc/passwd"}), "symbolic link", toy_master,
            scorer)
    fifo = tarfile.TarInfo("x/00002.png")
    fifo.type = tarfile.FIFOTYPE
    _reject(board, make_tar(tmp_path / "fifo.tgz", files, [fifo]), "not a plain file", toy_master, scorer)
    folder = tmp_path / "folder"
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    victim = next(folder.iterdir()) / "00000.png"
    victim.unlink()
    victim.symlink_to(oracle / victim.parent.name / "00000.png")
    _reject(board, folder, "symbolic link", toy_master, scorer)


def test_rejects_archive_bombs(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer,
                               tmp_path: Path) -> None:
    files = _files(oracle)
    png = next(iter(files.values()))
    big = png + bytes(8 * 2**20)  # 8 MiB of zeros deflates to a few KiB; an honest 32x32 frame is < 4 KiB
    bomb = make_zip(tmp_path / "bomb.zip", {**files, "zz/00000.png": big})
    assert bomb.stat().st_size < 200_000
    _reject(board, bomb, "larger than", toy_master, scorer)
    _reject(board, make_tar(tmp_path / "bomb.tgz", {**files, "zz/00000.png": big}), "larger than", toy_master,
            scorer)
    many = {f"zz/{i:05d}.png": png for i in range(60)}
    _reject(board, make_zip(tmp_path / "many.zip", {**files, **many}), "more than 100 ", toy_master, scorer,
            caps=Caps(files=100, file_bytes=2**20, total_bytes=2**30))
    _reject(board, make_tar(tmp_path / "many.tgz", {**files, **many}), "more than 100 ", toy_master, scorer,
            caps=Caps(files=100, file_bytes=2**20, total_bytes=2**30))
    _reject(board, make_tar(tmp_path / "total.tgz", files), "more than 10000 bytes", toy_master, scorer,
            caps=Caps(files=1000, file_bytes=2**20, total_bytes=10_000))


def test_rejects_non_png_payloads(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer,
                                  tmp_path: Path) -> None:
    files = _files(oracle)
    first = next(iter(files))
    jpeg = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(jpeg, format="JPEG")
    _reject(board, make_zip(tmp_path / "jpeg.zip", {**files, first: jpeg.getvalue()}), "not a PNG", toy_master,
            scorer)
    _reject(board, make_tar(tmp_path / "script.tgz", {**files, "run.sh": b"#!/bin/sh\nrm -rf /\n"}),
            "not a PNG file name", toy_master, scorer)
    _reject(board, make_zip(tmp_path / "empty.zip", {**files, first: b""}), "not a PNG", toy_master, scorer)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    _reject(board, text, "not a predictions folder", toy_master, scorer)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(make_zip(tmp_path / "ok.zip", files).read_bytes()[:500])
    _reject(board, broken, "unreadable|not a", toy_master, scorer)


def test_rejects_invalid_predictions(toy_master: Path, oracle: Path, board: Path, scorer: FrameScorer,
                                     tmp_path: Path) -> None:
    """The benchmark's own validation: every sample present, frame counts, sizes, 8-bit PNG, nothing else."""
    files = _files(oracle)
    first = next(iter(files))
    sample = first.split("/")[0]
    cases = {
        "missing": ({k: v for k, v in files.items() if not k.startswith(sample + "/")}, "missing"),
        "count": ({**files, f"{sample}/00004.png": files[first]}, "wrong frame count"),
        "size": ({**files, first: _png(np.zeros((16, 32, 3), np.uint8))}, "size 32x16"),
        "16bit": ({**files, first: _png(np.zeros((32, 32), np.uint16))}, "16-bit"),
        "rgba": ({**files, first: _png(np.zeros((32, 32, 4), np.uint8))}, "RGBA"),
        "other-split": ({**files, "toy-s7-000002__rm1/00000.png": files[first]}, "not a frame of the split"),
    }
    for name, (members, match) in cases.items():
        _reject(board, make_zip(tmp_path / f"{name}.zip", members), match, toy_master, scorer)


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_rejected_submission_leaves_no_board_behind(toy_master: Path, scorer: FrameScorer, tmp_path: Path) -> None:
    with pytest.raises(SubmissionRejected):
        submit(Submission(make_zip(tmp_path / "x.zip", {"a/../b.png": b""}), "m"), tmp_path / "new",
               data=toy_master, settings=SETTINGS, scorer=scorer)
    assert not (tmp_path / "new").exists()
    with pytest.raises(GenbenchError, match="--method"):
        Submission(tmp_path, "<script>").check()
    with pytest.raises(GenbenchError, match="--url"):
        Submission(tmp_path, "m", url="javascript:alert(1)").check()


APPENDER = """
import sys
from pathlib import Path
from genbench.leaderboard.store import Entry, append
board, worker, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
dataset = {"name": "d", "generator": "toy", "split": "train", "sha256": "0" * 64, "items": 1}
for i in range(count):
    append(board, Entry(id=f"w{worker}-{i}", method="m", task="removal", submitted="2025-01-01T00:00:00+00:00",
                        dataset=dataset, summary={"regions": {"full": {"psnr": float(worker)}}}, protocol={},
                        provenance={}, predictions_sha256=f"{worker:032x}{i:032x}"), {"strip-0.png": b"png"})
"""


def test_concurrent_appends_never_lose_or_tear(tmp_path: Path) -> None:
    """Six processes append five entries each to one board at once: all 30 land, board.json stays valid."""
    board = tmp_path / "store"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(board), str(w), "5"]) for w in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    entries = read_board(board)
    assert sorted(e.id for e in entries) == sorted(f"w{w}-{i}" for w in range(6) for i in range(5))
    assert json.loads((board / "board.json").read_text())["schema"] == 1
    assert sorted(p.name for p in (board / "entries").iterdir()) == sorted(e.id for e in entries)  # no partials


SAME_FRAMES = """
import json, sys, time
from pathlib import Path
from genbench.leaderboard.store import Entry, append
board, worker, start = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
dataset = {"name": "d", "generator": "toy", "split": "test", "sha256": "1" * 64, "items": 1}
time.sleep(max(0.0, start - time.time()))
entry = append(board, Entry(id=f"w{worker}", method=f"m{worker}", task="removal", submitted="2025-01-01T00:00:00+00:00",
                            dataset=dataset, summary={}, protocol={"version": 2}, provenance={},
                            predictions_sha256="2" * 64), {"strip-0.png": b"png"})
print(entry.id)
"""


def test_the_same_frames_submitted_at_once_make_one_row(tmp_path: Path) -> None:
    """Six processes append the same frames (other ids, other names) at the same instant: one row lands, and every
    process gets that row back; the same frames under another protocol are another row."""
    board, start = tmp_path / "store", time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", SAME_FRAMES, str(board), str(w), str(start)],
                              stdout=subprocess.PIPE, text=True) for w in range(6)]
    answers = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0] * 6
    entries = read_board(board)
    assert len(entries) == 1 and answers == [entries[0].id] * 6
    assert [p.name for p in (board / "entries").iterdir()] == [entries[0].id]
    again = replace(entries[0], id="v3", protocol={"version": 3}, strips=[])
    assert append(board, again, {}) == again and len(read_board(board)) == 2


def test_cli_submit_show_build(toy_master: Path, oracle: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    store, site = tmp_path / "store", tmp_path / "site"
    base = ["--board", str(store), "--data", str(toy_master), "--split", SPLIT, "--device", "cpu"]
    assert cli.main(["leaderboard", "submit", str(oracle), "--method", "oracle", "--authors", "A. Person",
                     "--extra-data", *base]) == 0
    assert "accepted oracle" in capsys.readouterr().out
    bad = make_zip(tmp_path / "bad.zip", {"../x.png": b"\x89PNG\r\n\x1a\n"})
    before = snapshot(store)
    assert cli.main(["leaderboard", "submit", str(bad), "--method", "bad", *base]) == 1
    assert "path traversal" in capsys.readouterr().err and snapshot(store) == before
    assert cli.main(["leaderboard", "submit", str(oracle), "--method", "oracle", *base]) == 0  # a rerun: a no-op
    entry = read_board(store)[0]
    assert capsys.readouterr().out.strip().endswith(f"on the board already as {entry.id} (oracle): the same frames "
                                                    "for this split, task and protocol; nothing added")
    assert snapshot(store) == before
    assert cli.main(["leaderboard", "show", "--board", str(store)]) == 0
    out = capsys.readouterr().out
    assert "| 1 | oracle | 0.0000 | 100.00 |" in out and "A. Person" in out and "| yes |" in out  # headline first
    assert f"protocol v{PROTOCOL_VERSION}" in out and "another protocol" not in out
    assert cli.main(["leaderboard", "build", "--board", str(store), "--out", str(site)]) == 0
    assert (site / "index.html").is_file() and (site / "assets" / "board.js").is_file()
    for action in (["show"], ["build", "--out", str(tmp_path / "site2")]):  # a board path with a typo
        assert cli.main(["leaderboard", *action, "--board", str(tmp_path / "stroe")]) == 1
        assert f"{tmp_path / 'stroe'}: no board there (no such folder)" in capsys.readouterr().err
    assert not (tmp_path / "site2").exists()


@pytest.fixture(scope="module")
def baseline_board(toy_master: Path, oracle: Path, scorer: FrameScorer, tmp_path_factory: pytest.TempPathFactory
                   ) -> Path:
    """The registry's identity (removal) and mask-alpha (layering) entered by `make leaderboard`'s code, plus
    the oracle: two removal rows and one layering row."""
    root = tmp_path_factory.mktemp("baselines")
    store = root / "store"
    methods = {"removal": ("identity",), "layering": ("mask-alpha",)}
    added = enter_baselines(store, toy_master, root / "runs", split=SPLIT, scorer=scorer, methods=methods)
    assert [(e.method, e.task) for e in added] == [("identity", "removal"), ("mask-alpha", "layering")]
    assert enter_baselines(store, toy_master, root / "runs", split=SPLIT, scorer=scorer, methods=methods) == []
    submit(Submission(oracle, "oracle"), store, data=toy_master, settings=SETTINGS, scorer=scorer)
    return store


def test_baselines_enter_once_and_rank(baseline_board: Path) -> None:
    entries = read_board(baseline_board)
    assert [e.method for e in entries] == ["identity", "mask-alpha", "oracle"]  # the rerun added nothing
    text = show_text(entries)
    assert text.index("| 1 | oracle |") < text.index("| 2 | identity |")  # ranked by the headline
    assert "## layering: toy-test split train" in text and "| 1 | mask-alpha |" in text
    layering = next(e for e in entries if e.task == "layering")
    assert 0 < layering.summary["alpha"]["iou"] <= 1


def _as_v1(entry: dict, method: str) -> dict:
    """`entry` (a board.json entry dict) as a genbench before protocol v2 wrote it: no protocol version, no
    headline, no PROVE columns, no effect kinds."""
    old = copy.deepcopy(entry)
    old.update(id=f"20240101T000000-{method}-v1", method=method, submitted="2024-01-01T00:00:00+00:00")
    old["protocol"].pop("version")
    for key in ("headline", "headline_frame_weighted", "prove"):
        old["summary"].pop(key)
    for key in ("regions", "frame_weighted", "clips_scored"):
        old["summary"][key] = {r: v for r, v in old["summary"][key].items() if not r.startswith("effect:")}
    return old


def _write_entries(store: Path, entries: list[dict]) -> None:
    store.mkdir(parents=True, exist_ok=True)
    (store / "board.json").write_text(json.dumps({"schema": 1, "entries": entries}, indent=1))


def test_baselines_rescore_over_v1_entries(baseline_board: Path, toy_master: Path, scorer: FrameScorer,
                                           tmp_path: Path) -> None:
    """A v1 entry of a baseline does not count as on the board: `make leaderboard` scores it under v2, and
    leaves the v1 entry as it was written."""
    board = json.loads((baseline_board / "board.json").read_text())
    old = _as_v1(next(e for e in board["entries"] if e["method"] == "identity"), "identity")
    store = tmp_path / "store"
    _write_entries(store, [old])
    runs = baseline_board.parent / "runs"  # the fixture's cached predictions
    added = enter_baselines(store, toy_master, runs, split=SPLIT, scorer=scorer, methods={"removal": ("identity",)})
    assert [(e.method, e.protocol_version) for e in added] == [("identity", PROTOCOL_VERSION)]
    assert enter_baselines(store, toy_master, runs, split=SPLIT, scorer=scorer,
                           methods={"removal": ("identity",)}) == []
    assert json.loads((store / "board.json").read_text())["entries"][0] == old  # read, never rewritten
    assert [e.protocol_version for e in read_board(store)] == [1, PROTOCOL_VERSION]


@pytest.fixture(scope="module")
def headline_board(toy_master: Path, scorer: FrameScorer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two removal methods on which full-frame PSNR and the headline disagree, plus each as a protocol v1 entry.

    leaves-effect: the truth inside the object region, the input elsewhere: a perfect fill that leaves the
    shadow behind (about 36 dB full-frame, headline about 0.009). noisy: the truth with uniform noise of
    +-8 levels everywhere (about 34 dB, headline about 0.0014). The v1 entries are written into board.json
    first, as an older genbench would have, and the v2 ones appended by `submit`.
    """
    root = tmp_path_factory.mktemp("headline")
    rng = np.random.default_rng(0)
    for s in removal_samples(toy_master, SPLIT):
        item = load_removal(toy_master, s, None)
        inside = (item.trimask == contract.TRIMASK_REMOVE)[..., None]
        write_video(root / "leaves-effect" / s.sample_id, np.where(inside, item.target, item.frames))
        noise = rng.integers(-8, 9, item.target.shape)
        write_video(root / "noisy" / s.sample_id, np.clip(item.target + noise, 0, 255).astype(np.uint8))
    scratch, store = root / "scratch", root / "store"
    for name in ("leaves-effect", "noisy"):
        submit(Submission(root / name, name, "tests"), scratch, data=toy_master, settings=SETTINGS, scorer=scorer)
    scored = json.loads((scratch / "board.json").read_text())["entries"]
    _write_entries(store, [_as_v1(e, f"old-{e['method']}") for e in scored])
    for name in ("leaves-effect", "noisy"):
        submit(Submission(root / name, name, "tests"), store, data=toy_master, settings=SETTINGS, scorer=scorer)
    return store


def test_default_order_is_the_headline(headline_board: Path) -> None:
    entries = {e.method: e for e in read_board(headline_board)}
    fill, noisy = entries["leaves-effect"].summary, entries["noisy"].summary
    assert fill["regions"]["full"]["psnr"] > noisy["regions"]["full"]["psnr"] + 1  # PSNR prefers leaving the shadow
    assert noisy["headline"] < fill["headline"] / 2  # the headline does not
    assert fill["regions"]["effect"]["lpips"] > 0.01 and fill["regions"]["object"]["lpips"] < 1e-6
    current = groups(list(entries.values()))[0]
    assert current.version == PROTOCOL_VERSION and [e.method for e in current.ranked()] == ["noisy", "leaves-effect"]
    text = show_text(list(entries.values()))
    assert text.index("| 1 | noisy |") < text.index("| 2 | leaves-effect |")
    assert "ranked by score ↓: mean of object- and effect-region LPIPS" in text
    assert "effect:shadow LPIPS ↓" in text and "RC-S ↑" in text  # effect kinds and PROVE-comparable columns


def _split_show(text: str) -> tuple[str, str]:
    current, _, apart = text.partition(f"# Scored under another protocol: not comparable with protocol "
                                       f"v{PROTOCOL_VERSION}")
    return current, apart


def test_v1_entries_stand_apart_in_show(headline_board: Path) -> None:
    entries = read_board(headline_board)
    assert [e.protocol_version for e in entries] == [1, 1, PROTOCOL_VERSION, PROTOCOL_VERSION]
    assert "headline" not in entries[0].summary and "version" not in entries[0].protocol  # loaded as written
    gs = groups(entries)
    assert [(g.version, sorted(e.method for e in g.entries)) for g in gs] == [
        (PROTOCOL_VERSION, ["leaves-effect", "noisy"]), (1, ["old-leaves-effect", "old-noisy"])]
    assert gs[0].dataset["sha256"] == gs[1].dataset["sha256"] and gs[0].key != gs[1].key
    current, apart = _split_show(show_text(entries))
    assert apart and "old-" not in current and "| noisy |" not in apart and "| leaves-effect |" not in apart
    assert "protocol v1, not comparable with v2" in apart and "Scored under protocol v1" in apart
    assert "genbench leaderboard submit" in apart and "cannot re-score" in apart
    # v1 has no headline: ranked by full-frame PSNR, which puts the shadow-leaving method first
    assert apart.index("| 1 | old-leaves-effect |") < apart.index("| 2 | old-noisy |")
    assert "score ↓" not in apart and f"protocol v{PROTOCOL_VERSION}" in current.splitlines()[0]


class _Tables(HTMLParser):
    """Rows (cell texts), header and cell attributes of every <table id=...> in a page, and the notices."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.heads: dict[str, list[dict[str, str]]] = {}
        self.cells: dict[str, list[list[dict[str, str]]]] = {}
        self.sections: dict[str, list[str]] = {}  # section id -> its table ids
        self.notices: dict[str, str] = {}  # section id -> its notice text
        self._section: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._notice: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self._section = a["id"]
            self.sections[self._section] = []
        elif tag == "p" and "notice" in a.get("class", "") and self._section:
            self._notice = []
        elif tag == "table" and "id" in a:
            self._table = a["id"]
            self.tables[self._table], self.attrs[self._table] = [], a
            self.heads[self._table], self.cells[self._table] = [], []
            if self._section:
                self.sections[self._section].append(self._table)
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
            self.cells[self._table].append([])
        elif tag == "th" and self._table:
            self.heads[self._table].append(a)
        elif tag == "td" and self._table:
            self._cell = []
            self.cells[self._table][-1].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "p" and self._notice is not None and self._section:
            self.notices[self._section] = "".join(self._notice)
            self._notice = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._notice is not None:
            self._notice.append(data)


def _parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def _rows(html: str, table: str) -> list[list[str]]:
    return [r for r in _parse(html).tables[table] if r]  # the header row has <th> cells only


def _key(entry_task: str, board: Path, version: int = PROTOCOL_VERSION) -> str:
    sha = next(e for e in read_board(board) if e.task == entry_task).dataset["sha256"]
    return f"{entry_task}-toy-test-train-{sha[:8]}-v{version}"


def test_site_is_self_contained(baseline_board: Path, tmp_path: Path) -> None:
    index = build(baseline_board, tmp_path / "site")
    html = index.read_text()
    loaded = re.findall(r'<(?:script|img|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert loaded and all(not re.match(r"^[a-z]+:|^//", u) for u in loaded), loaded  # no CDN, no data from afar
    assert all((index.parent / u).is_file() for u in loaded)
    assert sum(u.endswith(".png") for u in loaded) == 9  # three strips per entry
    assert html.count("<svg") == 6  # PSNR, SSIM, LPIPS bars per group
    removal, layering = _key("removal", baseline_board), _key("layering", baseline_board)
    assert sorted(_parse(html).tables) == sorted(
        [f"{removal}-{t}" for t in ("regions", "kinds", "frame-weighted", "prove")]
        + [f"{layering}-{t}" for t in ("regions", "kinds", "frame-weighted", "layers")])
    assert [r[:2] for r in _rows(html, f"{removal}-regions")] == [["1", "oracle"], ["2", "identity"]]  # no JS needed


def test_site_sorts_by_headline_and_sets_v1_apart(headline_board: Path, tmp_path: Path) -> None:
    html = build(headline_board, tmp_path / "site").read_text()
    page = _parse(html)
    current, old = _key("removal", headline_board), _key("removal", headline_board, 1)
    assert list(page.sections) == [current, old]  # the v1 group after the current one
    assert html.index(f'id="{current}"') < html.index('<h2 id="other-protocols"') < html.index(f'id="{old}"')
    assert current not in page.notices and "Scored under protocol v1" in page.notices[old]
    assert "not comparable with protocol v2" in page.notices[old] and "genbench leaderboard submit" in page.notices[old]
    for table in page.sections[current]:  # every v2 table: the headline leads and is the default sort
        heads, attrs = page.heads[table], page.attrs[table]
        assert heads[2]["data-key"] == "headline" and heads[2]["aria-sort"] == "ascending"
        assert (attrs["data-sort-col"], attrs["data-sort-dir"]) == ("2", "asc")
        assert [r[1] for r in _rows(html, table)] == ["noisy", "leaves-effect"]
    for table in page.tables:  # every numeric column can be sorted by
        numeric = {i for row in page.cells[table] for i, a in enumerate(row) if "data-value" in a}
        assert numeric and all("sortable" in page.heads[table][i]["class"] for i in numeric), table
        assert all("sortable" in h.get("class", "") for h in page.heads[table][1:])
    regions = page.heads[f"{current}-regions"]
    assert [h["data-key"] for h in regions[2:6]] == ["headline", "regions.full.psnr", "regions.full.ssim",
                                                     "regions.full.lpips"]
    assert any(h.get("data-key") == "regions.effect:shadow.lpips" for h in page.heads[f"{current}-kinds"])
    assert any(h.get("data-key") == "prove.psnr" for h in page.heads[f"{current}-prove"])
    # the v1 group: no headline column, ranked by full-frame PSNR, never mixed into the v2 tables
    assert all(t.startswith(old) for t in page.sections[old])
    v1 = f"{old}-regions"
    assert page.heads[v1][2]["data-key"] == "regions.full.psnr" and page.attrs[v1]["data-sort-dir"] == "desc"
    assert [r[1] for r in _rows(html, v1)] == ["old-leaves-effect", "old-noisy"]
    assert not any(h.get("data-key") == "headline" for t in page.sections[old] for h in page.heads[t])
    assert all(not r[1].startswith("old-") for t in page.sections[current] for r in _rows(html, t))


CHROMIUM = Path("/usr/bin/chromium")


def _dump_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    out = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                    "(apt-get install chromium; .ci/run installs it)")
def test_page_in_headless_chromium(baseline_board: Path, headline_board: Path, tmp_path: Path) -> None:
    index = build(baseline_board, tmp_path / "site")
    full = f"{_key('removal', baseline_board)}-regions"
    static = _rows(index.read_text(), full)
    assert [(r[0], r[1]) for r in static] == [("1", "oracle"), ("2", "identity")]  # ranked without JS
    page = _dump_dom(index.as_uri(), tmp_path / "profile")
    assert _parse(page).attrs[full]["data-sorted"] == "2:asc"  # board.js ran and sorted by the headline
    rows = _rows(page, full)
    assert [(r[0], r[1]) for r in rows] == [("1", "oracle"), ("2", "identity")]
    assert rows[0][2] == "0.0000" and float(rows[1][2]) > 0.01  # the headline
    assert rows[0][3] == "100.00" and float(rows[1][3]) < 40  # full-frame PSNR
    layers = _rows(page, f"{_key('layering', baseline_board)}-layers")
    assert [r[1] for r in layers] == ["mask-alpha"]
    # sorting in the browser: full-frame PSNR ascending, then method name ascending
    rows = _rows(_dump_dom(f"{index.as_uri()}#sort={full}:3:asc", tmp_path / "profile"), full)
    assert [(r[0], r[1]) for r in rows] == [("1", "identity"), ("2", "oracle")]
    rows = _rows(_dump_dom(f"{index.as_uri()}#sort={full}:1:desc", tmp_path / "profile"), full)
    assert [r[1] for r in rows] == ["oracle", "identity"]
    # headline against PSNR, and a v1 group (sorted by full-frame PSNR) beside it
    index = build(headline_board, tmp_path / "site2")
    page = _parse(_dump_dom(index.as_uri(), tmp_path / "profile"))
    current, old = f"{_key('removal', headline_board)}-regions", f"{_key('removal', headline_board, 1)}-regions"
    assert [r[1] for r in page.tables[current] if r] == ["noisy", "leaves-effect"]
    assert [r[1] for r in page.tables[old] if r] == ["old-leaves-effect", "old-noisy"]
    assert page.attrs[old]["data-sorted"] == "2:desc"
    rows = _rows(_dump_dom(f"{index.as_uri()}#sort={current}:3:desc", tmp_path / "profile"), current)
    assert [(r[0], r[1]) for r in rows] == [("1", "leaves-effect"), ("2", "noisy")]  # by full-frame PSNR


def test_reported_rows_are_shown_apart_and_never_ranked(headline_board: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Figures published elsewhere go to reported.json, print and render in tables of their own labelled
    'reported, not measured here', and change nothing that the measured board ranks."""
    import shutil

    from genbench.leaderboard.reported import LABEL, read_reported

    store = tmp_path / "store"
    shutil.copytree(headline_board, store)
    board_before = (store / "board.json").read_bytes()
    measured = read_board(store)
    ranking_before = [[e.method for e in g.ranked()] for g in groups(measured)]
    # a reported method with figures better than every measured one, under a measured method's name too
    for method in ("perfect-on-paper", "noisy"):
        assert cli.main(["leaderboard", "report", "--board", str(store), "--method", method, "--benchmark",
                         "toy-test", "--psnr", "99", "--ssim", "1", "--lpips", "0", "--metric", "headline=0",
                         "--source", "Imaginary et al. 2026, Table 2", "--url", "https://example.org/paper"]) == 0
    assert cli.main(["leaderboard", "report", "--board", str(store), "--from", "prove-m"]) == 0
    assert "11 row(s) added as reported, not measured here" in capsys.readouterr().out
    assert (store / "board.json").read_bytes() == board_before  # the measured board is untouched
    assert [[e.method for e in g.ranked()] for g in groups(read_board(store))] == ranking_before
    rows = read_reported(store)
    assert len(rows) == 13 and all(r.reported for r in rows)
    prove = [r for r in rows if r.benchmark == "prove-m"]
    assert prove[-1].method == "SVOR (1.3B)" and prove[-1].metrics["lpips"] == 0.0839
    assert "7ca299a7a5e12f0fb8285fb58ae744f691607b35" in prove[-1].source
    # show: the measured tables first and unchanged, then the reported ones, unranked and labelled
    assert cli.main(["leaderboard", "show", "--board", str(store)]) == 0
    text = capsys.readouterr().out
    measured_text, _, reported_text = text.partition(f"# Reported figures ({LABEL})")
    assert measured_text.strip() == show_text(measured).strip() and "perfect-on-paper" not in measured_text
    assert f"## toy-test ({LABEL})" in reported_text and f"## prove-m ({LABEL})" in reported_text
    assert "| perfect-on-paper | 99.0000 |" in reported_text and "| 1 |" not in reported_text
    # the site: measured tables hold no reported row; the reported ones are not sortable board tables
    index = (build(store, tmp_path / "site")).read_text()
    boards = re.findall(r'<table class="board".*?</table>', index, flags=re.S)
    assert boards and not any("perfect-on-paper" in t or "SVOR" in t for t in boards)
    reported = re.findall(r'<table class="reported">.*?</table>', index, flags=re.S)
    assert len(reported) == 2 and "perfect-on-paper <small>(reported)</small>" in "".join(reported)
    assert "sortable" not in "".join(reported) and LABEL in index


def test_reported_rows_refuse_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    base = ["leaderboard", "report", "--board", str(store), "--method", "m", "--benchmark", "prove-m"]
    cases = [
        ([*base, "--psnr", "30"], "needs its --source"),
        ([*base, "--source", "x"], "no figures given"),
        ([*base, "--metric", "rc_s", "--source", "x"], "expected NAME=VALUE"),
        ([*base, "--psnr", "nan", "--source", "x"], "not a finite number"),
        ([*base, "--psnr", "30", "--source", "x", "--url", "ftp://x"], "must be http"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 1
        assert message in capsys.readouterr().err
    assert not (store / "reported.json").exists()
    assert cli.main([*base, "--psnr", "30", "--source", "x"]) == 0
    assert cli.main([*base, "--psnr", "31", "--source", "x"]) == 1  # the same row twice
    assert "reported already" in capsys.readouterr().err
    bad = tmp_path / "rows.json"
    bad.write_text(json.dumps([{"method": "m2", "benchmark": "b", "metrics": {"psnr": 1}, "source": "s", "rank": 1}]))
    assert cli.main(["leaderboard", "report", "--board", str(store), "--from", str(bad)]) == 1
    assert "unknown field(s) rank" in capsys.readouterr().err
