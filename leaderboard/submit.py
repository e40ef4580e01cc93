"""`submit`: take a predictions folder or archive in, validate it against the split, score it, add it to the board.

Order matters for safety: the submission is unpacked into a private temporary folder
(`archive.ingest`), checked to hold exactly the split's videos (nothing else) and validated by the
benchmark (`validate_predictions`: every sample present, frame counts, sizes, 8-bit PNG with the
right channels), scored by `genbench.benchmark.harness.evaluate`, and only then appended to the board
(`store.append`). Any rejection happens before the board is touched, so the store stays byte for byte
as it was; the private folder is deleted either way.

The entry keeps the run's method summary (with the task's headline) and protocol (with its
version), so the board groups it with entries scored under the same protocol. The leaderboard scores
the split it is told: `DEFAULT_SPLIT` when none is given.
"""

from __future__ import annotations

import io
import re
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from genbench import contract
from genbench.benchmark import items as it
from genbench.benchmark.harness import EvalSettings, default_data, evaluate
from genbench.benchmark.metrics import FrameScorer
from genbench.benchmark.predictions import Expected
from genbench.benchmark.report import error_map, strip_image
from genbench.benchmark.results import HEADLINE_LABEL, EvalResult, fmt, results_dict
from genbench.errors import GenbenchError
from genbench.frames import read_frames
from genbench.leaderboard.archive import Caps, SubmissionRejected, ingest
from genbench.leaderboard.store import Entry, append, frames_key, read_board
from genbench.progress import get_logger
from genbench.samples import layering_scenes, load_layering, load_removal, removal_samples
from genbench.scene import write_json

log = get_logger("leaderboard")
METHOD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:+()@-]{0,63}$")
URL = re.compile(r"^https?://[^\s<>\"']{1,500}$")
STRIPS = 3  # qualitative strips stored per entry
DEFAULT_SPLIT = "test"


@dataclass(frozen=True)
class Submission:
    predictions: Path  # folder or archive
    method: str
    authors: str = ""
    url: str = ""
    extra_data: bool = False  # trained on data beyond the benchmark's training split

    def check(self) -> None:
        if not METHOD_NAME.match(self.method):
            raise GenbenchError(f"--method {self.method!r}: 1-64 characters of letters, digits, space and _.:+()@-")
        if self.url and not URL.match(self.url):
            raise GenbenchError(f"--url {self.url!r}: give an http(s) address")
        if len(self.authors) > 300 or any(ord(c) < 32 for c in self.authors):
            raise GenbenchError("--authors: at most 300 printable characters")


def expected_videos(data: Path, settings: EvalSettings) -> tuple[list[str], list[Expected]]:
    """The split's item ids and the videos a predictions folder for it must hold."""
    if settings.task == "removal":
        samples = removal_samples(data, settings.split)
        return ([s.sample_id for s in samples],
                [e for s in samples for e in it.removal_expected(s, settings.max_frames)])
    scenes = layering_scenes(data, settings.split)
    return [m.scene_id for m in scenes], [e for m in scenes for e in it.layering_expected(m, settings.max_frames)]


def _unwrap(root: Path, ids: list[str]) -> Path:
    """An archive may wrap the predictions in one folder (``pred/<sample_id>/...``): step into it."""
    entries = list(root.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in ids:
        return entries[0]
    return root


def check_layout(root: Path, expected: list[Expected]) -> None:
    """Reject any file that is not a frame of one of the split's videos (another split's samples, stray files)."""
    videos = {e.rel for e in expected}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if str(rel.parent) not in videos or not contract.FRAME_PATTERN.match(rel.name):
                raise SubmissionRejected(f"{rel}: not a frame of the split's videos (expected "
                                         f"{expected[0].rel}/00000.png ...); remove it")


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


def _pick(ids: list[str], count: int) -> list[str]:
    if len(ids) <= count:
        return ids
    return [ids[round(i * (len(ids) - 1) / (count - 1))] for i in range(count)]


def strips(data: Path, root: Path, settings: EvalSettings, ids: list[str]) -> dict[str, bytes]:
    """Middle-frame strips of a few items (the same items for every entry on a split), as PNG bytes."""
    out: dict[str, bytes] = {}
    cap = settings.max_frames
    if settings.task == "removal":
        samples = {s.sample_id: s for s in removal_samples(data, settings.split)}
        for n, sid in enumerate(_pick(sorted(ids), STRIPS)):
            item = load_removal(data, samples[sid], cap)
            t = len(item.frames) // 2
            pred = read_frames(root / sid, len(item.frames))[t]
            truth = item.target[t]
            image = strip_image([item.frames[t], item.trimask[t], pred, truth, error_map(pred, truth)],
                                ["input", "trimask", "output", "truth", "error x4"])
            out[f"strip-{n}-{sid}.png"] = _png(image)
        return out
    metas = {m.scene_id: m for m in layering_scenes(data, settings.split)}
    for n, sid in enumerate(_pick(sorted(ids), STRIPS)):
        item = load_layering(data, metas[sid], cap)
        t, k = len(item.frames) // 2, metas[sid].object_ids[0]
        bg = read_frames(root / sid / contract.BG, len(item.frames))[t]
        layer = read_frames(root / sid / contract.LAYERS_DIR / str(k), len(item.frames))[t]
        image = strip_image([item.frames[t], bg, item.bg[t], error_map(bg, item.bg[t]), layer, item.layers[k][t]],
                            ["input", "background", "truth", "error x4", f"layer {k}", "GT layer"])
        out[f"strip-{n}-{sid}.png"] = _png(image)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:40] or "method"


def _scrub(result: EvalResult, label: str) -> dict:
    """results.json of the run with the private folder's path replaced by the submission's name."""
    data = results_dict(result)
    for summary in data["methods"].values():
        summary["predictions"]["path"] = label
    return data


def on_board_already(board: Path, predictions_sha256: str, task: str, dataset: dict, protocol_version: int
                     ) -> Entry | None:
    """The entry holding the same frames for the same split, task and protocol, if any. The same frames enter a
    board once (a repeat would be a second row with the same scores); under another protocol they are scored anew.
    Asked before the strips are drawn; `store.append` asks again under the board's lock."""
    asked = frames_key(predictions_sha256, task, protocol_version, dataset)
    return next((e for e in read_board(board) if e.frames_key == asked), None)


def submit(sub: Submission, board: Path, *, data: Path | None = None, settings: EvalSettings | None = None,
           scorer: FrameScorer | None = None, caps: Caps | None = None) -> Entry:
    """Validate, score and add one submission to the board at `board`; returns the stored entry (the one already
    there when the same frames are on the board for the same split, task and protocol: nothing is added)."""
    sub.check()
    settings = settings or EvalSettings(split=DEFAULT_SPLIT)
    if settings.split is None:
        settings = replace(settings, split=DEFAULT_SPLIT)
    data = Path(data) if data is not None else default_data()
    ids, expected = expected_videos(data, settings)
    caps = caps or Caps.for_frames(sum(e.frames for e in expected),
                                   max(e.height * e.width * e.channels for e in expected))
    label = Path(sub.predictions).name
    with tempfile.TemporaryDirectory(prefix="genbench-submit-") as work:
        pred = Path(work) / "pred"
        pred.mkdir(mode=0o700)
        ingest(Path(sub.predictions), pred, caps)
        root = _unwrap(pred, ids)
        try:
            check_layout(root, expected)
            result = evaluate([sub.method], data, Path(work) / "eval", settings, predictions=root, scorer=scorer)
        except GenbenchError as exc:
            raise SubmissionRejected(str(exc).replace(str(root), label)) from None
        run = result.runs[0]
        repeat = on_board_already(board, run.predictions_sha256, settings.task, result.dataset,
                                  result.protocol["version"])
        if repeat is not None:
            log.info("%s: these predictions are on the board already as %s (%s); nothing added", board, repeat.id,
                     repeat.method)
            return repeat
        files = strips(data, root, settings, ids)
        results_json = _scrub(result, label)
        tmp_json = Path(work) / "results.json"
        write_json(tmp_json, results_json)
        files["results.json"] = tmp_json.read_bytes()
    now = datetime.now(UTC)
    ds = result.dataset
    entry = Entry(id=f"{now:%Y%m%dT%H%M%S}-{_slug(sub.method)}-{uuid.uuid4().hex[:6]}", method=sub.method,
                  task=settings.task, submitted=now.isoformat(timespec="seconds"),
                  dataset={k: ds[k] for k in ("name", "generator", "split", "sha256", "items")},
                  summary=results_json["methods"][sub.method], protocol=results_json["protocol"],
                  provenance=results_json["provenance"], predictions_sha256=run.predictions_sha256,
                  authors=sub.authors, url=sub.url, extra_data=sub.extra_data)
    entry = append(board, entry, files)
    log.info("%s: %s (%d items)", board, accepted_line(entry), ds["items"])
    return entry


def accepted_line(entry: Entry) -> str:
    """One line naming the accepted entry, where it was scored, and its headline (lower is better; what it means:
    `genbench.benchmark.results.HEADLINES`) and full-frame PSNR."""
    s = entry.summary
    full = s.get("regions", {}).get("full", {}).get("psnr")
    return (f"accepted {entry.method} as {entry.id} on {entry.dataset['name']} split {entry.dataset['split']} "
            f"(protocol v{entry.protocol_version}): headline {HEADLINE_LABEL} {fmt(s.get('headline'), 'headline')}; "
            f"full-frame PSNR {fmt(full, 'psnr')}")
