"""`preview.gif` per rendered scene: full | minus_k | trimask | bg side by side, for people to look at.

Written after the scene folder is complete (the runner writes scenes; this adds one file
at the scene root, which the validator ignores), atomically, and only where it is missing,
so a resumed run ends with the same previews as an uninterrupted one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from genbench import contract
from genbench.frames import read_video
from genbench.preview import strip, write_gif
from genbench.scene import read_meta, scene_dir
from genbench.storage import Root, open_output
from genbench.trimask import trimask

PREVIEW_FILE = "preview.gif"


def write_preview(root: Path, scene_id: str) -> Path:
    """Write ``scenes/<scene_id>/preview.gif`` for the scene's first single-object sample."""
    meta = read_meta(root, scene_id)
    folder = scene_dir(root, scene_id)
    rgb = folder / contract.RGB_DIR
    visible = read_video(folder / contract.MASKS_DIR / contract.VISIBLE_DIR)
    sample = next(s for s in meta.samples if len(s.remove) == 1)  # every rendered scene has a target object
    target = contract.minus_video(sample.remove[0])
    tri = trimask(visible, sample.remove, sample.trimask)
    frames = strip([read_video(rgb / contract.FULL), read_video(rgb / target), tri, read_video(rgb / contract.BG)],
                   ["full", target, "trimask", "bg"])
    path = folder / PREVIEW_FILE
    tmp = folder / f".tmp-{uuid.uuid4().hex}-{PREVIEW_FILE}"
    write_gif(tmp, frames, fps=meta.fps)
    os.replace(tmp, path)
    return path


def write_missing_previews(root: Root) -> list:
    """Previews for every complete scene that has none yet, in a folder or a bucket; returns what was written."""
    return open_output(root).add_to_scenes(PREVIEW_FILE, write_preview)
