"""PROVE-M (PROVE-Bench's paired tier): input videos, mask videos and the target-free ground truth.

Read from PROVE's evaluation code, xiaomi-research/prove@7ca299a7a5e12f0fb8285fb58ae744f691607b35 (unchanged there
since the first commit 2b9477a)
(`utils/dataset.py`, `utils/media_utils.py`): a dataset is an ``inputs`` folder and a ``masks`` folder of
``<name>.mp4`` files, paired by file stem (other extensions are ignored); masks are white where the object
is removed; at most 81 frames of a clip are read. The dataset card (huggingface.co/datasets/HigherHu/PROVE-Bench)
says PROVE-M has 80 paired 1080p clips of 81 frames with a "paired target-free video" as ground truth, but the
folder names of the release (inputs, masks, ground truth) could not be read here: they are options
(``--inputs``, ``--masks``, ``--gt``), each a folder of ``<name>.mp4`` paired the same way.
"""

from __future__ import annotations

from pathlib import Path

from genbench.errors import GenbenchError
from genbench.importers.clip import BINARY, PairClip, safe_name
from genbench.importers.layout import entries, matched, require_folder

RELEASE = "github.com/xiaomi-research/prove@7ca299a7a5e12f0fb8285fb58ae744f691607b35 (utils/media_utils.py)"
MAX_FRAMES = 81  # PROVE's get_video_frames reads at most this many
ROLES = ("inputs", "masks", "gt")


def find(src: Path, folders: dict[str, str | None]) -> list[PairClip]:
    """Clips of a PROVE-M copy under `src`; `folders`: role (inputs, masks, gt) -> folder (relative to `src`)."""
    missing = [role for role in ROLES if not folders.get(role)]
    if missing:
        raise GenbenchError(
            "prove-m: the release's folder names are not established from what genbench could read (PROVE's code "
            "takes them as configured paths; the dataset card's file tree was not readable); pass "
            + ", ".join(f"--{r} DIR" for r in missing) + " (folders of <name>.mp4, paired by name)")
    paths = {role: require_folder(Path(src) / str(folders[role]), f"--{role}", "each is a folder of <name>.mp4")
             for role in ROLES}
    found = {role: entries(folder, videos_only=True) for role, folder in paths.items()}
    found = {role: {n: p for n, p in files.items() if p.suffix.lower() == ".mp4"} for role, files in found.items()}
    names = matched(found, ROLES, Path(src))
    return [PairClip(name=safe_name(n), full=found["inputs"][n], without=found["gt"][n], masks=found["masks"][n],
                     mask_kind=BINARY) for n in names]
