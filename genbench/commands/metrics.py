"""`genbench metrics A B [--json]`: PSNR, SSIM and LPIPS between two images or two frame folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from genbench import contract
from genbench.errors import GenbenchError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def read_rgb(path: Path) -> np.ndarray:
    """One image as (H, W, 3) uint8: RGB as is, greyscale and palette expanded; alpha or >8 bits refused."""
    try:
        with Image.open(path) as img:
            mode = img.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
                raise GenbenchError(f"{path}: has an alpha channel ({mode}); compare RGB images")
            if mode not in ("RGB", "L", "P", "1"):
                raise GenbenchError(f"{path}: {mode} image; expected 8-bit RGB or greyscale")
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise GenbenchError(f"{path}: not a readable image ({exc.__class__.__name__})") from None


def image_files(folder: Path) -> list[Path]:
    """The frames of a folder: 00000.png ... when present, else every image file, sorted by name."""
    frames = sorted(p for p in folder.iterdir() if contract.FRAME_PATTERN.match(p.name))
    return frames or sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_input(path: Path) -> tuple[np.ndarray, list[Path]]:
    """An image or a frame folder as (T, H, W, 3) uint8 and its files."""
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise GenbenchError(f"{path}: no images (expected {contract.frame_name(0)} ...)")
    elif path.is_file():
        files = [path]
    else:
        raise GenbenchError(f"{path}: no such file or folder")
    frames = [read_rgb(p) for p in files]
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise GenbenchError(f"{path}: frames differ in size {sorted(shapes)}")
    return np.stack(frames), files


def run(args: argparse.Namespace) -> int:
    from genbench.benchmark.metrics import METRICS, PROTOCOL, FrameScorer
    from genbench.benchmark.results import ClipScores

    a_path, b_path = Path(args.a), Path(args.b)
    a, a_files = read_input(a_path)
    b, b_files = read_input(b_path)
    if len(a) != len(b):
        raise GenbenchError(f"{a_path} has {len(a)} frame(s), {b_path} has {len(b)}; they must match")
    if a.shape != b.shape:
        raise GenbenchError(f"{a_files[0]} is {a.shape[2]}x{a.shape[1]}, {b_files[0]} is {b.shape[2]}x{b.shape[1]}; "
                            "sizes must match")
    scorer = FrameScorer(getattr(args, "device", None))
    values = scorer.score(a, b)
    scores = values["full"]
    means = ClipScores(str(a_path), "", "metrics", len(a), values).region_score("full")  # as eval scores a clip
    if args.json:
        print(json.dumps({
            "a": str(a_path), "b": str(b_path), "frames": len(a), "width": a.shape[2], "height": a.shape[1],
            **means, "per_frame": {m: [float(v) for v in scores[m]] for m in METRICS},
            "protocol": {**PROTOCOL, "lpips": {**PROTOCOL["lpips"], "backbone": scorer.backbone}},
        }, indent=2))
        return 0
    over = f"{len(a)} frames: PSNR of their pooled MSE, SSIM and LPIPS means" if len(a) > 1 else "1 image"
    print(f"{a_path} vs {b_path}: {a.shape[2]}x{a.shape[1]}, {over} (genbench protocol v{PROTOCOL['version']})")
    print(f"PSNR   {means['psnr']:.4f} dB  (RGB, data range 1.0, capped at {PROTOCOL['psnr']['cap_db']:.0f})")
    print(f"SSIM   {means['ssim']:.4f}     (scikit-image defaults: 7x7 uniform window)")
    print(f"LPIPS  {means['lpips']:.4f}     (AlexNet, v0.1)")
    return 0
