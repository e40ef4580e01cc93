"""Read input footage: video files (OpenCV/FFmpeg) and folders of frames, with an optional downscale.

Used by the paste and tripod generators for inputs that are not genbench datasets. Frames
come back as (T, H, W, 3) uint8 RGB; masks as (T, H, W) uint8. A video file is anything
OpenCV's FFmpeg backend decodes (mp4, mov, mkv, avi, webm ...); a frame folder holds images
(png, jpg, bmp, tif, webp) sorted in natural order (``frame2`` before ``frame10``). PyAV is
not used; OpenCV decodes what FFmpeg decodes, which covers the same formats for reading.

Downscaling (`max_size`) shrinks the longest side to at most `max_size` pixels with area
averaging (INTER_AREA) for colour and nearest neighbour for id masks; frames that already
fit are returned untouched, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                              ".ts", ".mts", ".3gp", ".ogv"})


def natural_key(name: str) -> list[object]:
    """Sort key that orders embedded numbers numerically: ``f2.png`` < ``f10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS


def image_files(folder: Path) -> list[Path]:
    """The image files directly in `folder`, in natural order (hidden files ignored)."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir()
             if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def is_frame_folder(path: Path) -> bool:
    return bool(image_files(path))


def _frame_folders_inside(path: Path) -> str:
    """For an error on a folder with no frames of its own: the frame folders it holds (a scene's `rgb/`), if any."""
    if not path.is_dir() or image_files(path):
        return ""
    names = sorted(d.name for d in path.iterdir() if d.is_dir() and is_frame_folder(d))
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    example = "full" if "full" in names else names[0]  # a genbench scene's input video
    return f"; its folders {shown} hold frames: pass one of them, e.g. {path / example}"


def fit_size(height: int, width: int, max_size: int | None) -> tuple[int, int]:
    """(height, width) scaled so the longest side is at most `max_size` (aspect kept, >= 1 pixel)."""
    if not max_size or max(height, width) <= max_size:
        return height, width
    scale = max_size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_frame(frame: np.ndarray, size: tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    """Resize one (H, W[, C]) uint8 frame to `size` = (height, width); unchanged if it already has it."""
    if frame.shape[:2] == size:
        return frame
    import cv2

    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(frame, (size[1], size[0]), interpolation=interpolation)


def read_image_rgb(path: Path) -> np.ndarray:
    """One image file as (H, W, 3) uint8 RGB (grey and RGBA images are converted; alpha dropped)."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise GenbenchError(f"{path}: cannot read this image (is it a valid {path.suffix} file?)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask_ids(path: Path) -> np.ndarray:
    """An object mask image as (H, W) uint8 ids.

    Palette PNGs (DAVIS, YouTube-VOS) hold the object id as the palette index; 255 is the
    "void" label of VOC-style palettes and becomes 0. A single-channel image whose values are
    all below 128 holds the ids as its values (0 background, k object k: genbench's own
    ``masks/visible``, an id map written from numpy). Other grey or colour masks are binary:
    id 1 where the grey value is >= 128.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.mode == "P":
                ids = np.asarray(img, dtype=np.uint8).copy()
                ids[ids == 255] = 0
                return ids
            single_channel = img.mode in ("L", "I", "I;16")
            grey = np.asarray(img.convert("L"), dtype=np.uint8)
    except OSError as exc:
        raise GenbenchError(f"{path}: cannot read this mask ({exc})") from None
    if single_channel and grey.max() < 128:
        return grey.copy()
    return (grey >= 128).astype(np.uint8)


@dataclass(frozen=True)
class VideoInfo:
    """What is known about an input before decoding it: frame count (approximate for some
    containers), size (height, width) and frame rate (None when unknown, e.g. frame folders)."""

    num_frames: int
    height: int
    width: int
    fps: float | None


def _open_capture(path: Path):  # -> cv2.VideoCapture
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise GenbenchError(f"{path}: OpenCV cannot open this video (is FFmpeg able to decode it?)")
    return capture


def probe(path: Path) -> VideoInfo:
    """Frame count, size and fps of a video file or frame folder without decoding all of it."""
    path = Path(path)
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise GenbenchError(f"{path}: no image frames ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        first = read_image_rgb(files[0])
        return VideoInfo(len(files), first.shape[0], first.shape[1], None)
    import cv2

    capture = _open_capture(path)
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        height, width = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
    finally:
        capture.release()
    if count <= 0:  # some containers do not store it: count by decoding
        count = sum(1 for _ in _iter_capture(path, 0, None))
    return VideoInfo(count, height, width, fps)


def _iter_capture(path: Path, start: int, stop: int | None):
    import cv2

    capture = _open_capture(path)
    try:
        index = 0
        while stop is None or index < stop:
            if index < start:
                if not capture.grab():
                    return
            else:
                ok, frame = capture.read()
                if not ok:
                    return
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def read_frames(path: Path, *, start: int = 0, stop: int | None = None, max_size: int | None = None,
                grey_mask: bool = False) -> np.ndarray:
    """Frames ``start .. stop-1`` of a video file or frame folder.

    Returns (T, H, W, 3) uint8 RGB, or with `grey_mask` a (T, H, W) uint8 mask that is 1
    where the frame's brightest channel is >= 128 (masks stored in lossy video are
    thresholded at 128, since compression leaves values near 0 and 255 but rarely exact).
    Raises GenbenchError when nothing can be read or frames differ in size.
    """
    path = Path(path)
    if path.is_dir():
        files = image_files(path)[start:stop]
        frames = [read_image_rgb(p) for p in files]
    else:
        frames = list(_iter_capture(path, start, stop))
    if not frames:
        raise GenbenchError(f"{path}: no frames in range {start}..{'end' if stop is None else stop - 1}"
                            f"{_frame_folders_inside(path)}")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise GenbenchError(f"{path}: frames differ in size {sorted(shapes)}")
    size = fit_size(frames[0].shape[0], frames[0].shape[1], max_size)
    if grey_mask:
        return np.stack([resize_frame((f.max(axis=2) >= 128).astype(np.uint8), size, nearest=True) for f in frames])
    return np.stack([resize_frame(f, size) for f in frames])


def read_mask_folder(folder: Path, *, names: list[str] | None = None, size: tuple[int, int] | None = None
                     ) -> np.ndarray:
    """Id masks of a folder of mask images as (T, H, W) uint8 (see `read_mask_ids`).

    names: file stems to read, in order (default: every image in natural order).
    size: (height, width) to resize to with nearest neighbour; masks of another aspect ratio (by more than a
    pixel's rounding) are refused: they belong to another video or another crop.
    """
    by_stem = {p.stem: p for p in image_files(folder)}
    stems = names if names is not None else list(by_stem)
    missing = [s for s in stems if s not in by_stem]
    if missing:
        raise GenbenchError(f"{folder}: mask(s) {', '.join(missing[:3])} missing")
    masks = [read_mask_ids(by_stem[s]) for s in stems]
    if not masks:
        raise GenbenchError(f"{folder}: no mask images")
    if size is not None:
        for stem, m in zip(stems, masks, strict=True):
            if abs(m.shape[0] * size[1] / m.shape[1] - size[0]) > 1.0 + 0.01 * size[0]:
                raise GenbenchError(f"{by_stem[stem]}: a {m.shape[0]}x{m.shape[1]} mask for {size[0]}x{size[1]} "
                                    "frames, another aspect ratio; give the masks of this video (height x width)")
        masks = [resize_frame(m, size, nearest=True) for m in masks]
    if len({m.shape for m in masks}) != 1:
        raise GenbenchError(f"{folder}: masks differ in size")
    return np.stack(masks)
