"""Lossless frame I/O: a video is a folder of ``00000.png, 00001.png ...``.

Arrays are uint8 with shape (T, H, W, 3) for RGB, (T, H, W, 4) for RGBA and (T, H, W)
for masks. PNG bytes depend only on the pixels (fixed compression level, no metadata),
so the same frames always give the same files.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genbench import contract
from genbench.errors import DatasetError, GenbenchError

PNG_COMPRESS_LEVEL = 6


def _check_frame(frame: np.ndarray) -> None:
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4))):
        raise ValueError(f"a frame must be (H, W), (H, W, 3) or (H, W, 4), got shape {frame.shape}")


def write_image(path: Path, frame: np.ndarray) -> None:
    """Write one uint8 frame as PNG."""
    if frame.dtype != np.uint8:
        raise ValueError(f"frames are uint8, got {frame.dtype} for {path}")
    _check_frame(frame)  # uint8 (H, W) -> L, (H, W, 3) -> RGB, (H, W, 4) -> RGBA
    Image.fromarray(np.ascontiguousarray(frame)).save(
        path, format="PNG", compress_level=PNG_COMPRESS_LEVEL
    )


def read_image(path: Path) -> np.ndarray:
    """Read one PNG as uint8: (H, W) for L/P, (H, W, 3) for RGB, (H, W, 4) for RGBA."""
    with Image.open(path) as img:
        if img.format != "PNG":
            raise DatasetError(f"{path}: not a PNG ({img.format})")
        if img.mode == "P":
            return np.asarray(img, dtype=np.uint8).copy()  # palette indices, as DAVIS masks store ids
        if img.mode not in ("L", "RGB", "RGBA"):
            raise DatasetError(f"{path}: PNG mode {img.mode} is not 8-bit L, RGB or RGBA")
        return np.asarray(img, dtype=np.uint8).copy()


def write_video(folder: Path, frames: np.ndarray) -> None:
    """Write (T, H, W[, C]) uint8 frames into `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        write_image(folder / contract.frame_name(i), frame)


def frame_paths(folder: Path) -> list[Path]:
    """The frame files of a video folder, in order; other files are ignored."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: video folder not found")
    return sorted(p for p in folder.iterdir() if contract.FRAME_PATTERN.match(p.name))


def read_video(folder: Path) -> np.ndarray:
    """Read every frame of a video folder into one (T, H, W[, C]) uint8 array."""
    paths = frame_paths(folder)
    if not paths:
        raise DatasetError(f"{folder}: no frames (expected {contract.frame_name(0)} ...)")
    frames = [read_image(p) for p in paths]
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise DatasetError(f"{folder}: frames differ in shape {sorted(shapes)}")
    return np.stack(frames)


def read_frames(folder: Path, count: int, digest: Any = None, label: str = "") -> np.ndarray:
    """Frames 0..count-1 of `folder` as (T, H, W[, C]) uint8.

    With a hashlib `digest`, each file's name (prefixed by `label`) and bytes are fed to it as read.
    """
    frames = []
    for i in range(count):
        path = folder / contract.frame_name(i)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise GenbenchError(f"{path}: frame not found") from None
        if digest is not None:
            digest.update(f"{label}/{path.name}:{len(data)}:".encode())
            digest.update(data)
        try:
            with Image.open(io.BytesIO(data)) as img:
                frames.append(np.asarray(img))
        except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for truncated or corrupt files
            raise GenbenchError(f"{path}: unreadable image ({exc})") from None
    return np.stack(frames)
