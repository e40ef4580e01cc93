"""A dataset folder: `dataset.json`, `manifest.parquet` and its scenes.

The manifest is derived from the scenes (each scene's meta.json lists its samples), so
`finalize` can always rebuild it after an interrupted or resumed run, and it is replaced
atomically: readers see the old manifest or the new one, never a torn file.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

import genbench
from genbench import contract
from genbench.errors import DatasetError
from genbench.records import MANIFEST_COLUMNS, REQUIRED_COLUMNS, DatasetInfo, Sample, SceneMeta
from genbench.scene import list_scene_ids, read_json, read_meta, write_json


def samples_of(meta: SceneMeta) -> list[Sample]:
    return [Sample.from_scene(meta, spec) for spec in meta.samples]


def write_manifest(root: Path, samples: Iterable[Sample]) -> Path:
    """Write manifest.parquet atomically, rows sorted by sample id."""
    rows = sorted((s.to_row() for s in samples), key=lambda r: r["sample_id"])
    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    path = Path(root) / contract.MANIFEST_FILE
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_manifest(root: Path) -> list[Sample]:
    path = Path(root) / contract.MANIFEST_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: manifest not found; is {root} a genbench dataset?")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DatasetError(f"{path}: unreadable parquet ({exc})") from None
    missing = set(REQUIRED_COLUMNS) - set(frame.columns)
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return [Sample.from_row(row) for row in frame.to_dict("records")]


def read_info(root: Path) -> DatasetInfo:
    info = DatasetInfo.from_dict(read_json(Path(root) / contract.DATASET_FILE))
    if info.schema_version != contract.SCHEMA_VERSION:
        raise DatasetError(
            f"{root}: schema version {info.schema_version}, this genbench reads {contract.SCHEMA_VERSION}"
        )
    return info


def git_commit() -> str | None:
    """The commit of the genbench source tree, when it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# Every folder of genbench's source (setup.py maps them into one `genbench.*` namespace).
SOURCE_PACKAGES = ("genbench", "genbench.generators", "genbench.benchmark", "genbench.baselines", "genbench.models",
                   "genbench.leaderboard")


@functools.cache
def code_digest() -> str:
    """sha256 over genbench's own Python source, file by file: what made an output when the version number
    did not change (a checkout being worked on), so that cached predictions never outlive their code."""
    digest = hashlib.sha256()
    files: dict[str, Path] = {}
    for name in SOURCE_PACKAGES:
        root = Path(importlib.import_module(name).__file__).parent
        for path in root.rglob("*.py"):
            files.setdefault(f"{name}/{path.relative_to(root).as_posix()}", path)
    for key in sorted(files):
        digest.update(key.encode() + b"\0" + files[key].read_bytes() + b"\0")
    return digest.hexdigest()


def provenance() -> dict[str, object]:
    """What produced an output: package version, git commit, command line."""
    return {"genbench": genbench.__version__, "git_commit": git_commit(), "command": sys.argv}


def finalize(root: Path, *, name: str, generator: str, settings: dict) -> DatasetInfo:
    """Rebuild manifest.parquet and dataset.json from the complete scenes under `root`."""
    root = Path(root)
    samples: list[Sample] = []
    counts: dict[str, dict[str, int]] = {}
    for sid in list_scene_ids(root):
        meta = read_meta(root, sid)
        scene_samples = samples_of(meta)
        samples += scene_samples
        split = counts.setdefault(meta.split, {"scenes": 0, "samples": 0})
        split["scenes"] += 1
        split["samples"] += len(scene_samples)
    write_manifest(root, samples)
    info = DatasetInfo(name=name, generator=generator, settings=settings, counts=counts,
                       created_with=provenance())
    write_json(root / contract.DATASET_FILE, info.to_dict())
    return info
