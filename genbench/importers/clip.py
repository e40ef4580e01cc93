"""One clip of a published benchmark or a user's folder, as the importers find it: where its frames are.

A `PairClip` names the input video (every object present), the video without the removed objects when the
release has one, and the mask video; each a video file (mp4 ...) or a folder of frames. How a mask encodes
its objects differs between releases (`MaskKind`); `read_clip` reads all three into memory at one size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.generators import video_io

BINARY, IDS, TRIMASK = "binary", "ids", "trimask"
MASK_KINDS = (BINARY, IDS, TRIMASK)
# Object ids of a trimask-coded release (0 = remove, 255 = keep, 128 = background): the removed objects
# are one object, the kept ones another.
REMOVED_ID, KEPT_ID = 1, 2


@dataclass(frozen=True)
class PairClip:
    """name: scene-id-safe clip name; full: input video; without: the same video without the removed objects
    (None when the release has no ground truth); masks: mask video or folder; mask_kind: `binary` (white =
    the object to remove, one object), `ids` (palette index = object id, DAVIS) or `trimask` (0 remove,
    128 background, 255 keep: the public Generative Omnimatte generator's `mask`)."""

    name: str
    full: Path
    without: Path | None
    masks: Path
    mask_kind: str = BINARY

    def __post_init__(self) -> None:
        if self.mask_kind not in MASK_KINDS:
            raise ValueError(f"mask kind {self.mask_kind!r} is not one of {MASK_KINDS}")


@dataclass
class ClipData:
    """full, without: (T, H, W, 3) uint8 (without: None when absent); ids: (T, H, W) uint8 object ids,
    0 = background; removed: the ids the `without` video lacks; fps: frame rate when the container says."""

    full: np.ndarray
    without: np.ndarray | None
    ids: np.ndarray
    removed: tuple[int, ...]
    fps: float | None


def safe_name(text: str) -> str:
    """A scene-id-safe version of `text`: other characters become '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:96] or "clip"


def digest(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and bytes, natural order): pins what was imported."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted((p for p in path.rglob("*") if p.is_file()),
                                                 key=lambda p: video_io.natural_key(p.name))
    for p in files:
        if path.is_dir():
            h.update(p.relative_to(path).as_posix().encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _frames(path: Path, stop: int | None, max_size: int | None) -> np.ndarray:
    return video_io.read_frames(path, stop=stop, max_size=max_size)


def _mask_ids(clip: PairClip, stop: int | None, size: tuple[int, int]) -> np.ndarray:
    path = clip.masks
    if clip.mask_kind == TRIMASK:  # grey levels 0 / 128 / 255, possibly through a lossy codec
        grey = video_io.read_frames(path, stop=stop).max(axis=-1)
        grey = np.stack([video_io.resize_frame(g, size, nearest=True) for g in grey])
        ids = np.zeros(grey.shape, dtype=np.uint8)
        ids[grey < 64] = REMOVED_ID
        ids[grey >= 192] = KEPT_ID
        return ids
    if path.is_dir():
        names = [p.stem for p in video_io.image_files(path)][:stop]
        ids = video_io.read_mask_folder(path, names=names, size=size)
    else:
        ids = video_io.read_frames(path, stop=stop, grey_mask=True)
        ids = np.stack([video_io.resize_frame(m, size, nearest=True) for m in ids])
    return (ids > 0).astype(np.uint8) if clip.mask_kind == BINARY else ids


def read_clip(clip: PairClip, *, max_frames: int | None = None, max_size: int | None = None) -> ClipData:
    """Read a clip's videos and masks (first `max_frames` frames, longest side at most `max_size`).

    Raises GenbenchError when the videos disagree in frame count or size, or a mask holds no object."""
    full = _frames(clip.full, max_frames, max_size)
    size = full.shape[1:3]
    without = None if clip.without is None else _frames(clip.without, max_frames, max_size)
    ids = _mask_ids(clip, max_frames, size)
    counts = {"input": len(full), "masks": len(ids)} | ({} if without is None else {"without": len(without)})
    if len(set(counts.values())) != 1:
        shown = ", ".join(f"{k} {v}" for k, v in counts.items())
        raise GenbenchError(f"clip {clip.name}: frame counts differ ({shown}); pass --max-frames to use the "
                            "first frames of each")
    if without is not None and without.shape != full.shape:
        raise GenbenchError(f"clip {clip.name}: the video without the object is {without.shape[2]}x"
                            f"{without.shape[1]}, the input {full.shape[2]}x{full.shape[1]}")
    present = sorted(int(k) for k in np.unique(ids) if k)
    if not present:
        raise GenbenchError(f"clip {clip.name}: its masks ({clip.masks}) mark no object")
    removed = (REMOVED_ID,) if clip.mask_kind == TRIMASK else tuple(present)
    if REMOVED_ID not in present and clip.mask_kind == TRIMASK:
        raise GenbenchError(f"clip {clip.name}: its trimask ({clip.masks}) has no remove region (value 0)")
    fps = None if clip.full.is_dir() else video_io.probe(clip.full).fps
    return ClipData(full=full, without=without, ids=ids, removed=removed, fps=fps)
