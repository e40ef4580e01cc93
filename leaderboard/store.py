"""The board's store: a folder holding every accepted entry, changed only under a lock by atomic replace.

Layout::

    <board>/
      board.json               {"schema": 1, "entries": [Entry, ...]}, in submission order
      entries/<entry_id>/      strip-*.png (qualitative strips) and results.json (the full scores)
      .lock                    the lock file (filelock) that serialises writers

`append` takes the lock, reads board.json, writes the entry's folder under a hidden temporary name,
renames it into place, then writes board.json to a temporary file and renames it over the old one.
Readers never take the lock: they see the old board or the new one, never a torn file. Two
concurrent submits both land, one after the other.

Benchmark protocol versions share the one board schema: an entry's ``protocol`` records the
version it was scored under (``"version": 2`` since protocol v2; entries written before carry no
version and were scored under v1). They are read as they were written, never rewritten or
re-scored here: `genbench.leaderboard.board` shows each protocol's entries apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from genbench.errors import GenbenchError
from genbench.scene import write_json

BOARD_FILE = "board.json"
ENTRIES_DIR = "entries"
LOCK_FILE = ".lock"
SCHEMA = 1
LOCK_TIMEOUT_S = 600.0
ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def frames_key(predictions_sha256: str, task: str, protocol_version: int, dataset: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two entries one submission: the same frames (predictions sha256) scored for the same split
    (dataset sha256 and split name), task and protocol version. A board holds each once."""
    return predictions_sha256, task, protocol_version, dataset.get("sha256"), dataset.get("split")


@dataclass
class Entry:
    """One accepted submission: who, what it was scored on, and its summary scores.

    summary: `genbench.benchmark.results.method_summary` of the run (protocol v2: headline,
    headline_frame_weighted, regions -> psnr/ssim/lpips, frame_weighted, clips_scored; removal also prove;
    layering also layers and alpha; protocol v1 entries have no headline and no prove). dataset: name,
    generator, split, sha256 (`genbench.benchmark.items.dataset_digest`) and item count of the split it was
    scored on. protocol: the benchmark protocol it was scored under (`protocol_version`).
    """

    id: str
    method: str
    task: str
    submitted: str  # ISO date, UTC
    dataset: dict[str, Any]
    summary: dict[str, Any]
    protocol: dict[str, Any]
    provenance: dict[str, Any]
    predictions_sha256: str
    authors: str = ""
    url: str = ""
    extra_data: bool = False  # trained on data beyond the benchmark's training split
    strips: list[str] = field(default_factory=list)  # entries/<id>/strip-*.png, relative to the board

    @property
    def protocol_version(self) -> int:
        """The benchmark protocol version the entry was scored under: 1 when its protocol records none."""
        version = self.protocol.get("version", 1) if isinstance(self.protocol, dict) else 1
        try:
            return int(version)
        except (TypeError, ValueError):
            return 1

    @property
    def frames_key(self) -> tuple[Any, ...]:
        return frames_key(self.predictions_sha256, self.task, self.protocol_version, self.dataset)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def read_board_file(path: Path) -> dict[str, Any]:
    """A board file's JSON object ({} when there is no file), refused unless it is valid JSON of `SCHEMA`."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GenbenchError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno}); restore it from backup") from None
    if data.get("schema") != SCHEMA:
        raise GenbenchError(f"{path}: board schema {data.get('schema')!r}, this genbench reads {SCHEMA}")
    return data


def _read(board: Path) -> list[Entry]:
    return [Entry.from_dict(e) for e in read_board_file(board / BOARD_FILE).get("entries", [])]


def read_board(board: Path) -> list[Entry]:
    """The entries of the board at `board` (none when it does not exist yet)."""
    return _read(Path(board))


def append(board: Path, entry: Entry, files: dict[str, bytes]) -> Entry:
    """Add `entry` and its files (name -> bytes, stored under entries/<id>/) to the board atomically.

    `entry.strips` is set to the stored paths of the files whose names start with ``strip-``. When the board
    holds an entry with the same `frames_key` already, nothing is written and that entry is returned: checked
    under the lock, so two identical submissions at once still make one row.
    """
    if not ENTRY_ID.match(entry.id):
        raise GenbenchError(f"entry id {entry.id!r} is not a plain name")
    board = Path(board)
    board.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(board / LOCK_FILE, timeout=LOCK_TIMEOUT_S):
            entries = _read(board)
            same = next((e for e in entries if e.frames_key == entry.frames_key), None)
            if same is not None:
                return same
            if any(e.id == entry.id for e in entries):
                raise GenbenchError(f"{board}: an entry {entry.id!r} exists already")
            folder = board / ENTRIES_DIR / entry.id
            tmp = board / ENTRIES_DIR / f".partial-{entry.id}-{uuid.uuid4().hex[:8]}"
            tmp.mkdir(parents=True)
            try:
                for name, data in sorted(files.items()):
                    (tmp / name).write_bytes(data)
                entry.strips = [f"{ENTRIES_DIR}/{entry.id}/{n}" for n in sorted(files) if n.startswith("strip-")]
                os.replace(tmp, folder)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            try:
                write_json(board / BOARD_FILE, {"schema": SCHEMA, "entries": [asdict(e) for e in [*entries, entry]]})
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
    except Timeout:
        raise GenbenchError(f"{board}: another submit holds the lock for over {LOCK_TIMEOUT_S:.0f} s; "
                            f"retry, or remove {board / LOCK_FILE} if no submit is running") from None
    return entry
