"""Write datasets in the Hub's layout: ``<config>/<split>-NNNNN-of-MMMMM.parquet``, README.md, preview.png.

One config per source (the generator: kubric, paste, tripod, toy), so ``load_dataset(repo, "kubric")``
loads only the renders. Shards are planned before anything is written, by the summed size of the
scenes' frame files (a scene's row is about that size: PNG bytes are stored as they are), so shard
names carry their final count and the same datasets always give the same files. Row groups hold
up to ROW_GROUP_BYTES of rows, so a reader streams a shard without loading it whole.

The folder is written into a hidden temporary sibling and renamed into place at the end: a killed
export leaves no half folder, and an existing `out` is replaced only by a complete one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.dataset import read_info, read_manifest
from genbench.errors import GenbenchError
from genbench.progress import get_logger, track
from genbench.publish.card import CARD_FILE, CARD_MARKER, write_card
from genbench.publish.features import FEATURES, scene_files, scene_row
from genbench.records import DatasetInfo, SceneMeta
from genbench.scene import read_meta

log = get_logger("publish")

DEFAULT_SHARD_BYTES = 500 * 2**20  # the Hub's recommended Parquet file size
ROW_GROUP_BYTES = 64 * 2**20
COMPRESSION = "zstd"  # PNG payloads pass through (zstd stores incompressible blocks raw); metadata shrinks


@dataclass
class Shard:
    path: str  # relative to the export folder
    scenes: list[str]
    bytes: int  # summed frame-file sizes


@dataclass
class Source:
    """One published config: a dataset folder and its shards per split."""

    config: str
    root: Path
    info: DatasetInfo
    metas: dict[str, SceneMeta]
    shards: dict[str, list[Shard]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for m in self.metas.values():
            c = out.setdefault(m.split, {"scenes": 0, "samples": 0, "frames": 0})
            c["scenes"] += 1
            c["samples"] += len(m.samples)
            c["frames"] += m.num_frames
        return out


def plan_shards(config: str, split: str, sizes: list[tuple[str, int]], max_bytes: int) -> list[Shard]:
    """Pack scenes (id, bytes), in id order, into shards of at most `max_bytes` (a bigger scene is alone)."""
    groups: list[list[tuple[str, int]]] = [[]]
    for sid, size in sizes:
        if groups[-1] and sum(s for _, s in groups[-1]) + size > max_bytes:
            groups.append([])
        groups[-1].append((sid, size))
    n = len(groups)
    return [Shard(f"{config}/{split}-{i:05d}-of-{n:05d}.parquet", [sid for sid, _ in g], sum(s for _, s in g))
            for i, g in enumerate(groups)]


def load_source(root: Path, max_shard_bytes: int) -> Source:
    """Read a dataset folder's info and scenes and plan its shards."""
    root = Path(root)
    if not (root / contract.DATASET_FILE).is_file():
        raise GenbenchError(f"{root}: not a genbench dataset (no {contract.DATASET_FILE}); pass a dataset folder")
    info = read_info(root)
    scene_ids = sorted({s.scene_id for s in read_manifest(root)})
    if not scene_ids:
        raise GenbenchError(f"{root}: the manifest lists no samples; nothing to publish")
    metas = {sid: read_meta(root, sid) for sid in scene_ids}
    source = Source(info.generator, root, info, metas)
    by_split: dict[str, list[tuple[str, int]]] = {}
    for sid, meta in metas.items():
        by_split.setdefault(meta.split, []).append((sid, sum(p.stat().st_size for p in scene_files(root, meta))))
    source.shards = {split: plan_shards(source.config, split, sizes, max_shard_bytes)
                     for split, sizes in sorted(by_split.items())}
    return source


def _write_shard(path: Path, source: Source, shard: Shard) -> None:
    schema = FEATURES.arrow_schema  # carries the datasets Features as metadata: load_dataset reads them back
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, schema, compression=COMPRESSION) as writer:
        rows: list[dict] = []
        size = 0
        for sid in shard.scenes:
            rows.append(FEATURES.encode_example(scene_row(source.root, source.metas[sid])))
            size += sum(p.stat().st_size for p in scene_files(source.root, source.metas[sid]))
            if size >= ROW_GROUP_BYTES:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows, size = [], 0
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))


def _replaceable(out: Path) -> bool:
    """An existing --to folder is replaced only when it is empty or an earlier export (its card says so)."""
    if not out.is_dir():
        return False
    card = out / CARD_FILE
    return not any(out.iterdir()) or (card.is_file() and CARD_MARKER in card.read_text(errors="replace"))


def export(datasets: list[Path], out: Path, *, max_shard_bytes: int = DEFAULT_SHARD_BYTES, license: str = "cc-by-4.0",
           command: list[str] | None = None) -> list[Source]:
    """Write `datasets` (one config per generator) into `out` in the Hub's layout; returns what was written."""
    if max_shard_bytes < 1:
        raise GenbenchError(f"the shard size must be positive, got {max_shard_bytes} bytes")
    sources = [load_source(Path(d), max_shard_bytes) for d in datasets]
    configs = [s.config for s in sources]
    for name in sorted(set(configs)):
        if configs.count(name) > 1:
            raise GenbenchError(f"{configs.count(name)} datasets come from the generator {name!r}; one config per "
                                "source: publish one dataset per generator (or merge them into one dataset)")
    out = Path(out).resolve()
    for s in sources:
        if out == s.root.resolve() or s.root.resolve() in out.parents:
            raise GenbenchError(f"{out}: the output folder lies inside the dataset {s.root}; choose another --to")
    if out.exists() and not _replaceable(out):
        raise GenbenchError(f"{out}: exists and is not an earlier `genbench publish` output; choose another --to")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(out) as tmp:
        jobs = [(s, shard) for s in sources for shards in s.shards.values() for shard in shards]
        for source, shard in track(jobs, "publish: writing shards", unit="shards"):
            _write_shard(tmp / shard.path, source, shard)
        write_card(tmp, sources, license=license, command=command)
    for s in sources:
        log.info("%s: %s", s.config, ", ".join(f"{split} {len(sh)} shard(s)" for split, sh in s.shards.items()))
    return sources
