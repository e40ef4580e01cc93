"""Side-by-side previews people look at (never read by a metric): GIF via Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

LABEL_HEIGHT = 12


def as_rgb(video: np.ndarray) -> np.ndarray:
    """(T, H, W) masks become grey RGB; RGBA is shown over a checkerboard; RGB passes through."""
    if video.ndim == 3:
        return np.repeat(video[..., None], 3, axis=-1)
    if video.shape[-1] == 4:
        _, h, w, _ = video.shape
        yy, xx = np.mgrid[:h, :w]
        checker = np.where(((yy // 8 + xx // 8) % 2)[..., None] == 0, 200, 150).astype(np.float32)
        alpha = video[..., 3:4].astype(np.float32) / 255.0
        out = video[..., :3].astype(np.float32) * alpha + checker[None] * (1.0 - alpha)
        return np.round(out).astype(np.uint8)
    return video


def strip(videos: list[np.ndarray], labels: list[str]) -> np.ndarray:
    """Videos side by side, each titled, as (T, H + LABEL_HEIGHT, W * n, 3) uint8."""
    panels = [as_rgb(v) for v in videos]
    t, h, w, _ = panels[0].shape
    out = np.zeros((t, h + LABEL_HEIGHT, w * len(panels), 3), dtype=np.uint8)
    header = Image.new("RGB", (w * len(panels), LABEL_HEIGHT))
    draw = ImageDraw.Draw(header)
    for i, (panel, label) in enumerate(zip(panels, labels, strict=True)):
        out[:, LABEL_HEIGHT:, i * w : (i + 1) * w] = panel
        draw.text((i * w + 2, 0), label, fill=(255, 255, 255))
    out[:, :LABEL_HEIGHT] = np.asarray(header)[None]
    return out


def write_gif(path: Path, frames: np.ndarray, fps: float = 8.0) -> Path:
    """Write (T, H, W, 3) uint8 frames as a looping GIF."""
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path
