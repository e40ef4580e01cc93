"""`genbench leaderboard`: submissions validated and scored, hostile archives refused, a store that never tears.

Every rejection test checks three things: the reason, that the board's store is byte for byte what it
was, and (for path tricks) that nothing appeared outside the private work folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genbench import cli, contract
from genbench.benchmark.harness import EvalSettings
from genbench.benchmark.items import removal_samples
from genbench.benchmark.metrics import FrameScorer
from genbench.errors import GenbenchError
from genbench.frames import read_video, write_video
from genbench.leaderboard.archive import Caps, SubmissionRejected
from genbench.leaderboard.baselines import enter_baselines
from genbench.leaderboard.board import show_text
from genbench.leaderboard.site import build
from genbench.leaderboard.store import read_board
from genbench.leaderboard.submit import Submission, submit
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
    assert entries[0].dataset["split"] == SPLIT and entries[0].dataset["items"] == 12
    assert len(entries[0].strips) == 3 and all((board / s).is_file() for s in entries[0].strips)
    files = _files(oracle)
    store = tmp_path / "store"
    zipped = make_zip(tmp_path / "oracle.zip", files)
    wrapped = make_tar(tmp_path / "oracle.tar.gz", {f"pred/{k}": v for k, v in files.items()})
    for pred, name in ((zipped, "zip"), (wrapped, "tar")):
        entry = submit(Submission(pred, name, url="https://example.org/x"), store, data=toy_master,
                       settings=SETTINGS, scorer=scorer)
        assert entry.summary["regions"]["full"]["psnr"] == 100.0
        assert entry.predictions_sha256 == entries[0].predictions_sha256  # the same frames, however packed
    assert [e.method for e in read_board(store)] == ["zip", "tar"]


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
                        provenance={}, predictions_sha256="0" * 64), {"strip-0.png": b"png"})
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
    assert cli.main(["leaderboard", "show", "--board", str(store)]) == 0
    out = capsys.readouterr().out
    assert "| 1 | oracle | 100.00 |" in out and "A. Person" in out and "| yes |" in out
    assert cli.main(["leaderboard", "build", "--board", str(store), "--out", str(site)]) == 0
    assert (site / "index.html").is_file() and (site / "assets" / "board.js").is_file()


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
    assert text.index("| 1 | oracle |") < text.index("| 2 | identity |")  # ranked by full-frame PSNR
    assert "## layering: toy-test split train" in text and "| 1 | mask-alpha |" in text
    layering = next(e for e in entries if e.task == "layering")
    assert 0 < layering.summary["alpha"]["iou"] <= 1


class _Tables(HTMLParser):
    """Rows (cell texts) of every <table id=...> in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table" and "id" in a:
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag == "td" and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(html: str, table: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(html)
    return [r for r in parser.tables[table] if r]  # the header row has <th> cells only


def test_site_is_self_contained(baseline_board: Path, tmp_path: Path) -> None:
    index = build(baseline_board, tmp_path / "site")
    html = index.read_text()
    loaded = re.findall(r'<(?:script|img|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert loaded and all(not re.match(r"^[a-z]+:|^//", u) for u in loaded), loaded  # no CDN, no data from afar
    assert all((index.parent / u).is_file() for u in loaded)
    assert sum(u.endswith(".png") for u in loaded) == 9  # three strips per entry
    assert html.count("<svg") == 6  # PSNR, SSIM, LPIPS bars per group
    tables = _Tables()
    tables.feed(html)
    assert sorted(tables.tables) == sorted(
        [f"removal-toy-test-train-{read_board(baseline_board)[0].dataset['sha256'][:8]}-{r}"
         for r in ("full", "object", "effect", "preserve")]
        + [f"layering-toy-test-train-{read_board(baseline_board)[1].dataset['sha256'][:8]}-{r}"
           for r in ("full", "object", "effect", "preserve", "layers")])


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
def test_page_in_headless_chromium(baseline_board: Path, tmp_path: Path) -> None:
    index = build(baseline_board, tmp_path / "site")
    entries = read_board(baseline_board)
    full = f"removal-toy-test-train-{entries[0].dataset['sha256'][:8]}-full"
    static = _rows(index.read_text(), full)
    assert [r[1] for r in static] == ["oracle", "identity"] and [r[0] for r in static] == ["", ""]
    page = _dump_dom(index.as_uri(), tmp_path / "profile")
    rows = _rows(page, full)
    assert [(r[0], r[1]) for r in rows] == [("1", "oracle"), ("2", "identity")]  # board.js ran and numbered them
    assert rows[0][2] == "100.00" and float(rows[1][2]) < 40
    layers = _rows(page, f"layering-toy-test-train-{entries[1].dataset['sha256'][:8]}-layers")
    assert [r[1] for r in layers] == ["mask-alpha"]
    # sorting in the browser: PSNR ascending, then method name ascending
    rows = _rows(_dump_dom(f"{index.as_uri()}#sort={full}:2:asc", tmp_path / "profile"), full)
    assert [(r[0], r[1]) for r in rows] == [("1", "identity"), ("2", "oracle")]
    rows = _rows(_dump_dom(f"{index.as_uri()}#sort={full}:1:desc", tmp_path / "profile"), full)
    assert [r[1] for r in rows] == ["oracle", "identity"]
