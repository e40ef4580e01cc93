"""A predictions folder: its layout, validation, atomic writing and hashed reading.

Layout (DESIGN.md, Methods), the dataset's own frame naming::

    removal:   <pred>/<sample_id>/00000.png ...            uint8 RGB, one folder per sample
    layering:  <pred>/<scene_id>/bg/00000.png ...          uint8 RGB background
               <pred>/<scene_id>/layers/<k>/00000.png ...  uint8 RGBA layer of object k

`validate_predictions` reads only PNG headers (signature, IHDR: size, bit depth, colour type), so
it is cheap, and it is precise where decoders are lenient (Pillow silently reads a 16-bit RGB PNG
as 8-bit). It rejects missing videos and frames, wrong frame counts, non-PNG files, bit depths
other than 8, wrong channel counts and wrong sizes, each with a message naming the file.
Hidden entries (``.partial-*`` left by a killed writer, ``predictions.json``) are ignored.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.errors import GenbenchError
from genbench.frames import write_video
from genbench.scene import read_json, write_json

CACHE_FILE = "predictions.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> (name, channels)
COLOUR_TYPES = {0: ("greyscale", 1), 2: ("RGB", 3), 3: ("palette", 1), 4: ("greyscale+alpha", 2), 6: ("RGBA", 4)}
CHANNEL_NAMES = {3: "RGB", 4: "RGBA"}
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"RIFF": "WebP/RIFF", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
          b"BM": "BMP", b"\x76\x2f\x31\x01": "OpenEXR"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".exr", ".npy"}


class PredictionsError(GenbenchError):
    """A predictions folder does not follow the layout."""


@dataclass(frozen=True)
class Expected:
    """One video a predictions folder must hold: ``<pred>/<rel>/00000.png ...``."""

    rel: str  # "<sample_id>", "<scene_id>/bg" or "<scene_id>/layers/<k>"
    frames: int
    height: int
    width: int
    channels: int  # 3 = RGB, 4 = RGBA


def _sniff(head: bytes) -> str:
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return "unknown format"


def png_header(head: bytes) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) from a file's first 33 bytes; None if not a PNG."""
    if len(head) < 33 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    return width, height, depth, colour


def _check_frame(path: Path, want: Expected) -> str | None:
    """The problem with one frame file, or None."""
    with open(path, "rb") as f:
        head = f.read(33)
    header = png_header(head)
    if header is None:
        return f"{path}: not a PNG file ({_sniff(head)}); predictions must be PNG"
    width, height, depth, colour = header
    if depth != 8:
        return f"{path}: {depth}-bit PNG; frames must be 8-bit (uint8)"
    name, channels = COLOUR_TYPES.get(colour, (f"colour type {colour}", 0))
    if channels != want.channels:
        return (f"{path}: {name} PNG with {channels} channel(s); expected {CHANNEL_NAMES[want.channels]} "
                f"({want.channels} channels)")
    if (width, height) != (want.width, want.height):
        return f"{path}: size {width}x{height}, expected {want.width}x{want.height} (width x height)"
    return None


def video_problems(root: Path, want: Expected) -> list[str]:
    """Every problem of one expected video, each naming a file or folder."""
    folder = root / want.rel
    first, last = contract.frame_name(0), contract.frame_name(want.frames - 1)
    if not folder.is_dir():
        return [f"{folder}: missing; expected {CHANNEL_NAMES[want.channels]} frames {first} .. {last} there"]
    names = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    frame_names = {n for n in names if contract.FRAME_PATTERN.match(n)}
    problems: list[str] = []
    others = sorted(n for n in names - frame_names if Path(n).suffix.lower() in IMAGE_SUFFIXES)
    if others:
        problems.append(f"{folder / others[0]}: not a PNG frame; predictions must be PNG frames {first} .. {last}")
    expected = [contract.frame_name(i) for i in range(want.frames)]
    extra = sorted(frame_names - set(expected))
    if extra:
        problems.append(f"{folder / extra[0]}: wrong frame count: {len(frame_names)} frames, the clip has "
                        f"{want.frames} ({first} .. {last})")
    missing = [n for n in expected if n not in frame_names]
    if missing:
        problems.append(f"{folder / missing[0]}: missing frame ({len(missing)} of {want.frames} missing); "
                        f"the clip has {want.frames} frames")
    for n in expected:
        if n in frame_names and (problem := _check_frame(folder / n, want)):
            problems.append(problem)
    return problems


def validate_predictions(root: Path, expected: list[Expected]) -> None:
    """Raise PredictionsError naming the first bad file (and how many more problems) if `root` is not valid."""
    root = Path(root)
    if not root.is_dir():
        raise PredictionsError(f"{root}: predictions folder not found")
    problems = [p for want in expected for p in video_problems(root, want)]
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise PredictionsError(problems[0] + more)


def combine_digests(digests: dict[str, str]) -> str:
    """One sha256 for a predictions folder from per-item digests (sorted by item id)."""
    h = hashlib.sha256()
    for key in sorted(digests):
        h.update(f"{key}={digests[key]}\n".encode())
    return h.hexdigest()


def write_item(root: Path, item_id: str, videos: dict[str, np.ndarray]) -> Path:
    """Write one item's videos (sub-path -> frames; "" is the item folder itself) atomically.

    The item folder appears complete (by rename) or not at all, so a killed run never leaves a
    half prediction that a rerun would take as cached.
    """
    root.mkdir(parents=True, exist_ok=True)
    final = root / item_id
    partial = root / f"{contract.PARTIAL_PREFIX}{item_id}-{uuid.uuid4().hex[:12]}"
    try:
        for sub, frames in videos.items():
            write_video(partial / sub if sub else partial, frames)
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def drop_empty_cache(root: Path, *, up_to: Path) -> None:
    """Remove the cache at `root` when it holds no prediction (its marker alone), then each parent up to and
    including `up_to` while it is empty: a run whose method failed before predicting anything leaves nothing."""
    root = Path(root)
    if not root.is_dir() or any(p.name != CACHE_FILE for p in root.iterdir()):
        return
    shutil.rmtree(root)
    for folder in [root.parent, *root.parent.parents]:
        if not folder.is_relative_to(up_to) or any(folder.iterdir()):
            break
        folder.rmdir()


def open_cache(root: Path, key: dict) -> set[str]:
    """Prepare `root` as the prediction cache for `key` (method, dataset hash, settings).

    Returns the item ids already predicted under the same key. A cache made for another key is
    cleared; a non-empty folder that genbench did not make is refused rather than deleted.
    """
    root = Path(root)
    marker = root / CACHE_FILE
    if marker.is_file():
        if read_json(marker) == key:
            return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
        shutil.rmtree(root)
    elif root.is_dir() and any(root.iterdir()):
        raise PredictionsError(f"{root}: exists and was not made by genbench eval (no {CACHE_FILE}); "
                               "delete it or choose another --out")
    root.mkdir(parents=True, exist_ok=True)
    write_json(marker, key)
    return set()
