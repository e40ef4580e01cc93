"""What a predictions folder must hold for a split, and the name of the dataset version scored.

Reading the samples and scenes themselves is the data contract's job (`genbench.samples`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from genbench import contract
from genbench.benchmark.predictions import Expected
from genbench.benchmark.split import official_digest
from genbench.records import Sample, SceneMeta
from genbench.samples import clip_length

TASKS = ("removal", "layering")


def dataset_digest(root: Path) -> str:
    """Names the dataset version scored (results, the prediction cache and leaderboard groups use it).

    A copy of an official benchmark split (its dataset.json names the split and every data file
    matches the committed checksums) is named by those checksums, so a shipped, built-and-published
    or fetched copy is the same version wherever its indexes were rebuilt. Any other dataset: the
    sha256 of manifest.parquet then dataset.json."""
    official = official_digest(root)
    if official is not None:
        return official
    h = hashlib.sha256()
    for name in (contract.MANIFEST_FILE, contract.DATASET_FILE):
        h.update((Path(root) / name).read_bytes())
    return h.hexdigest()


def removal_expected(sample: Sample, max_frames: int | None) -> list[Expected]:
    t = clip_length(sample.num_frames, max_frames)
    return [Expected(sample.sample_id, t, sample.height, sample.width, 3)]


def layering_expected(meta: SceneMeta, max_frames: int | None) -> list[Expected]:
    t = clip_length(meta.num_frames, max_frames)
    out = [Expected(f"{meta.scene_id}/{contract.BG}", t, meta.height, meta.width, 3)]
    out += [Expected(f"{meta.scene_id}/{contract.LAYERS_DIR}/{k}", t, meta.height, meta.width, 4)
            for k in meta.object_ids]
    return out
