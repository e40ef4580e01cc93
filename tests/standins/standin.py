"""Shared file I/O of the stand-in programs (imageio-ffmpeg for mp4, PIL for PNG)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

FILL = np.array([255, 0, 255], np.uint8)  # what every stand-in paints into the hole it read


def read_mp4(path: str) -> np.ndarray:
    reader = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24")
    width, height = next(reader)["size"]
    return np.stack([np.frombuffer(b, np.uint8).reshape(height, width, 3) for b in reader])


def write_mp4(path: str, frames: np.ndarray, fps: int = 16) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(path, (width, height), fps=fps, macro_block_size=1, quality=9,
                                         output_params=["-preset", "ultrafast"], ffmpeg_log_level="error")
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f))
    writer.close()


def read_pngs(folder: str) -> np.ndarray:
    names = sorted(os.listdir(folder))
    return np.stack([np.asarray(Image.open(os.path.join(folder, n)).convert("RGB")) for n in names])


def read_masks(folder: str) -> np.ndarray:
    return np.stack([np.asarray(Image.open(os.path.join(folder, n)).convert("L")) for n in sorted(os.listdir(folder))])


def resize(frames: np.ndarray, height: int, width: int, nearest: bool = False) -> np.ndarray:
    how = Image.NEAREST if nearest else Image.BILINEAR
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), how)) for f in frames])


def fill(frames: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = frames.copy()
    out[hole] = FILL
    return out


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    sys.exit(2)
