"""The inverse of `export`: a published config's Parquet shards back into a dataset folder.

Every frame is written as the PNG bytes its row holds and `meta.json` as the row's verbatim text,
so the scenes come back byte for byte as they were published (the benchmark's checksums prove
it). `dataset.json` and `manifest.parquet` are indexes, rebuilt from the scenes by `finalize`.

Shards are read with pyarrow one row group at a time, so a large config never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.dataset import finalize
from genbench.errors import GenbenchError
from genbench.progress import track
from genbench.records import DatasetInfo


def shard_paths(export_dir: Path, config: str) -> list[Path]:
    """The config's shards in an export folder (every split), in name order."""
    shards = sorted((Path(export_dir) / config).glob("*.parquet"))
    if not shards:
        raise GenbenchError(f"{export_dir}: no Parquet shards for the config {config!r} "
                            f"(expected {config}/<split>-NNNNN-of-NNNNN.parquet); is it a `genbench publish` folder?")
    return shards


def rows(shard: Path) -> Iterator[dict[str, Any]]:
    reader = pq.ParquetFile(shard)
    for group in range(reader.num_row_groups):
        yield from reader.read_row_group(group).to_pylist()


def _write_video(folder: Path, frames: list[dict[str, Any]]) -> None:
    if not frames:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        (folder / contract.frame_name(index)).write_bytes(frame["bytes"])


def write_scene_row(root: Path, row: dict[str, Any]) -> None:
    """One published row as `root/scenes/<scene_id>/` in the data contract's layout."""
    scene_id = row["scene_id"]
    if not isinstance(scene_id, str) or not contract.SCENE_ID_PATTERN.match(scene_id):
        raise GenbenchError(f"a published row has an invalid scene id {scene_id!r}; the export is damaged")
    folder = root / contract.SCENES_DIR / scene_id
    if folder.exists():
        raise GenbenchError(f"scene {scene_id} appears twice in the published shards; the export is damaged")
    rgb, masks = folder / contract.RGB_DIR, folder / contract.MASKS_DIR
    _write_video(rgb / contract.FULL, row["full"])
    _write_video(rgb / contract.BG, row["bg"])
    _write_video(masks / contract.VISIBLE_DIR, row["visible"])
    for obj in row["objects"]:
        k = obj["id"]
        _write_video(rgb / contract.minus_video(k), obj["minus"])
        _write_video(rgb / contract.solo_video(k), obj["solo"])
        _write_video(folder / contract.LAYERS_DIR / str(k), obj["layer"])
        _write_video(masks / contract.AMODAL_DIR / str(k), obj["amodal"])
        for effect in obj.get("effects") or []:
            _write_video(masks / contract.EFFECTS_DIR / str(k) / effect["kind"], effect["mask"])
    for sample in row["samples"]:
        if sample["trimask_stored"]:  # derived trimasks are recomputed from the masks, as in the source
            _write_video(folder / contract.TRIMASK_DIR / sample["sample_id"], sample["trimask"])
    (folder / contract.META_FILE).write_text(row["meta"])


def unpack(export_dir: Path, out: Path, *, config: str, name: str, settings: dict[str, Any],
           check: Callable[[Path], object] | None = None) -> DatasetInfo:
    """Write the config's scenes into a new dataset folder `out`, all or nothing: `check(folder)` runs on
    the finished folder before it becomes `out`, and when it raises, `out` is never created."""
    out = Path(out)
    if out.exists():
        raise GenbenchError(f"{out} already exists; choose a new --out")
    shards = shard_paths(export_dir, config)
    with atomic_folder(out) as tmp:
        (tmp / contract.SCENES_DIR).mkdir()
        for shard in track(shards, f"unpacking {config}", unit="shards"):
            for row in rows(shard):
                write_scene_row(tmp, row)
        info = finalize(tmp, name=name, generator=config, settings=settings)
        if check is not None:
            check(tmp)
    return info
