"""Find and read paste sources (clips with object masks) and targets (clips to paste onto).

Source layouts, detected from the folder passed as ``--source``:

- ``davis``: DAVIS / YouTube-VOS, ``JPEGImages/<video>/*.jpg`` + ``Annotations/<video>/*.png``
  palette masks whose index is the object id (a resolution level such as DAVIS's ``480p/`` is
  taken when present). Frames without an annotation (YouTube-VOS annotates every 5th) are skipped.
- ``videos``: ``videos/<name>.mp4`` + ``masks/<name>.mp4`` (the public Generative Omnimatte
  layout) or ``masks/<name>/`` frame folders. One object per video, id 1; masks stored as lossy
  video are thresholded at 128.
- ``genbench``: a genbench dataset; object k of a scene comes from ``layers/<k>`` (RGBA: the
  object and its own shadow/reflection) when present, else from ``solo_<k>`` or ``full`` with
  its amodal or visible mask.

Targets: a video file, a frame folder, a folder of those, ``JPEGImages/<video>/`` or
``videos/*`` of the layouts above, or a genbench dataset (its scenes' ``bg``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.errors import GenbenchError
from genbench.frames import read_video
from genbench.generators import video_io
from genbench.progress import get_logger
from genbench.scene import list_scene_ids, read_meta, scene_dir

log = get_logger("paste")

DAVIS, VIDEOS, GENBENCH = "davis", "videos", "genbench"


@dataclass(frozen=True)
class SourceClip:
    """A clip with object masks. `frames`: frame folder, video file or genbench scene folder;
    `masks`: annotation folder or mask video/folder ("" for genbench scenes)."""

    layout: str
    name: str
    frames: str
    masks: str = ""


@dataclass(frozen=True)
class TargetClip:
    """A clip to paste onto: a video file or a frame folder; `name` is unique within the targets."""

    name: str
    path: str


@dataclass
class Track:
    """One object of a source clip over a range of frames.

    rgb: (T, H, W, 3) uint8 colours; mask: (T, H, W) bool, the object's own pixels;
    alpha: (T, H, W) float32 in [0, 1], an explicit matte of the object and its effects
    (genbench layers), or None when the edge is feathered from `mask`.
    """

    rgb: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray | None = None


def digest(names: list[str]) -> str:
    """Short hash of a list of clip names: pins which clips a run saw."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def _level(folder: Path) -> Path:
    """DAVIS keeps videos one level deeper, under a resolution (``480p``, ``Full-Resolution``)."""
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir())
    if any(video_io.is_frame_folder(p) for p in subdirs):
        return folder
    levels = [p for p in subdirs if any(q.is_dir() for q in p.iterdir())]
    if not levels:
        return folder
    preferred = [p for p in levels if p.name == "480p"]
    return (preferred or levels)[0]


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else path.name


def _mask_for(masks: Path, stem: str) -> Path | None:
    folder = masks / stem
    if video_io.is_frame_folder(folder):
        return folder
    found = sorted(p for p in masks.glob(f"{stem}.*") if video_io.is_video_file(p) or
                   p.suffix.lower() in video_io.IMAGE_EXTENSIONS)
    return found[0] if found else None


def find_sources(root: Path) -> tuple[str, list[SourceClip]]:
    """The layout of `root` and its source clips, sorted by name. Raises GenbenchError if none."""
    root = Path(root)
    if not root.is_dir():
        raise GenbenchError(f"--source {root} is not a folder")
    clips: list[SourceClip] = []
    if (root / contract.DATASET_FILE).is_file():
        layout = GENBENCH
        clips = [SourceClip(GENBENCH, sid, str(scene_dir(root, sid))) for sid in list_scene_ids(root)]
    elif (root / "JPEGImages").is_dir() and (root / "Annotations").is_dir():
        layout = DAVIS
        images, annotations = _level(root / "JPEGImages"), _level(root / "Annotations")
        for folder in sorted(p for p in images.iterdir() if p.is_dir()):
            if video_io.is_frame_folder(annotations / folder.name):
                clips.append(SourceClip(DAVIS, folder.name, str(folder), str(annotations / folder.name)))
            else:
                log.warning("source %s has no annotations in %s; skipped", folder.name, annotations)
    elif (root / "videos").is_dir() and (root / "masks").is_dir():
        layout = VIDEOS
        entries = [p for p in (root / "videos").iterdir() if video_io.is_video_file(p) or video_io.is_frame_folder(p)]
        for video in sorted(entries, key=lambda p: video_io.natural_key(p.name)):
            stem = video.stem if video.is_file() else video.name
            mask = _mask_for(root / "masks", stem)
            if mask is None:
                log.warning("source video %s has no mask masks/%s.* or masks/%s/; skipped", video.name, stem, stem)
                continue
            clips.append(SourceClip(VIDEOS, stem, str(video), str(mask)))
    else:
        raise GenbenchError(f"--source {root}: no known layout; expected JPEGImages/ + Annotations/ (DAVIS, "
                            "YouTube-VOS), videos/ + masks/, or a genbench dataset")
    if not clips:
        raise GenbenchError(f"--source {root} ({layout} layout) holds no clips with object masks")
    return layout, clips


def find_targets(root: Path) -> tuple[str, list[TargetClip]]:
    """The kind of `root` and its target clips, sorted by name. Raises GenbenchError if none."""
    root = Path(root)
    if video_io.is_video_file(root):
        return "video", [TargetClip(root.stem, str(root))]
    if not root.is_dir():
        raise GenbenchError(f"--targets {root} is neither a folder nor a video file")
    if (root / contract.DATASET_FILE).is_file():
        kind = GENBENCH
        clips = [TargetClip(sid, str(scene_dir(root, sid) / contract.RGB_DIR / contract.BG))
                 for sid in list_scene_ids(root) if contract.BG in read_meta(root, sid).videos]
    elif video_io.is_frame_folder(root):
        kind, clips = "frames", [TargetClip(root.name, str(root))]
    else:
        kind = "folder"
        base = root
        if (root / "JPEGImages").is_dir():
            kind, base = DAVIS, _level(root / "JPEGImages")
        elif (root / "videos").is_dir():
            kind, base = VIDEOS, root / "videos"
        entries = [p for p in base.iterdir() if video_io.is_video_file(p) or video_io.is_frame_folder(p)]
        clips = [TargetClip(_rel(p, root), str(p)) for p in sorted(entries, key=lambda p: video_io.natural_key(p.name))]
    if not clips:
        raise GenbenchError(f"--targets {root}: no video files, frame folders or genbench bg videos found")
    return kind, clips


def _davis_stems(clip: SourceClip) -> list[str]:
    frames = {p.stem for p in video_io.image_files(Path(clip.frames))}
    return [p.stem for p in video_io.image_files(Path(clip.masks)) if p.stem in frames]


def load_ids(clip: SourceClip, *, max_size: int | None) -> np.ndarray:
    """Object ids of every usable frame of `clip`: (T, H, W) uint8, 0 = background."""
    if clip.layout == GENBENCH:
        ids = read_video(Path(clip.frames) / contract.MASKS_DIR / contract.VISIBLE_DIR)
        size = video_io.fit_size(ids.shape[1], ids.shape[2], max_size)
        return np.stack([video_io.resize_frame(m, size, nearest=True) for m in ids])
    if clip.layout == DAVIS:
        stems = _davis_stems(clip)
        if not stems:
            raise GenbenchError(f"{clip.frames}: no frame has an annotation in {clip.masks}")
        first = video_io.read_mask_ids(video_io.image_files(Path(clip.masks))[0])
        size = video_io.fit_size(*first.shape, max_size)
        return video_io.read_mask_folder(Path(clip.masks), names=stems, size=size)
    mask = Path(clip.masks)
    if mask.is_dir():
        first = video_io.read_mask_ids(video_io.image_files(mask)[0])
        ids = video_io.read_mask_folder(mask, size=video_io.fit_size(*first.shape, max_size))
    else:
        ids = video_io.read_frames(mask, max_size=max_size, grey_mask=True)
    return (ids > 0).astype(np.uint8)  # one object per video


def load_track(clip: SourceClip, ids: np.ndarray, object_id: int, start: int, stop: int, *,
               max_size: int | None) -> Track:
    """Object `object_id` of `clip` over frames ``start .. stop-1``, at the size of `ids` (the
    (T, H, W) volume `load_ids` returned for the same `max_size`)."""
    size = (ids.shape[1], ids.shape[2])
    if clip.layout == GENBENCH:
        return _genbench_track(Path(clip.frames), object_id, start, stop, size)
    if clip.layout == DAVIS:
        stems = _davis_stems(clip)[start:stop]
        by_stem = {p.stem: p for p in video_io.image_files(Path(clip.frames))}
        rgb = np.stack([video_io.resize_frame(video_io.read_image_rgb(by_stem[s]), size) for s in stems])
    else:
        rgb = video_io.read_frames(Path(clip.frames), start=start, stop=stop, max_size=max_size)
        rgb = np.stack([video_io.resize_frame(f, size) for f in rgb])
    mask = ids[start:stop] == object_id
    n = min(len(rgb), len(mask))
    return Track(rgb=rgb[:n], mask=mask[:n])


def _genbench_track(folder: Path, k: int, start: int, stop: int, size: tuple[int, int]) -> Track:
    meta = read_meta(folder.parent.parent, folder.name)

    def video(path: Path, nearest: bool = False) -> np.ndarray:
        frames = read_video(path)[start:stop]
        return np.stack([video_io.resize_frame(f, size, nearest=nearest) for f in frames])

    masks = folder / contract.MASKS_DIR
    if k in meta.amodal:
        mask = video(masks / contract.AMODAL_DIR / str(k), nearest=True) > 0
    else:
        mask = video(masks / contract.VISIBLE_DIR, nearest=True) == k
    if k in meta.layers:
        layer = video(folder / contract.LAYERS_DIR / str(k))
        return Track(rgb=np.ascontiguousarray(layer[..., :3]), mask=mask,
                     alpha=layer[..., 3].astype(np.float32) / 255.0)
    name = contract.solo_video(k) if contract.solo_video(k) in meta.videos else contract.FULL
    if name == contract.FULL:
        mask = video(masks / contract.VISIBLE_DIR, nearest=True) == k  # occluded parts show other objects
    return Track(rgb=video(folder / contract.RGB_DIR / name), mask=mask)


def target_info(clip: TargetClip) -> video_io.VideoInfo:
    return video_io.probe(Path(clip.path))


def load_target(clip: TargetClip, start: int, stop: int, *, max_size: int | None) -> np.ndarray:
    """Frames ``start .. stop-1`` of a target, (T, H, W, 3) uint8, downscaled to `max_size`."""
    return video_io.read_frames(Path(clip.path), start=start, stop=stop, max_size=max_size)
