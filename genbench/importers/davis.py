"""DAVIS 2017 (and YouTube-VOS style) videos: ``JPEGImages/<res>/<video>/*.jpg`` + ``Annotations/<res>/<video>/
*.png`` palette masks whose index is the object id (255 void = background).

DAVIS has no video without the objects, so an imported DAVIS scene has the input and the masks but no removal
sample: `genbench eval` has nothing to score on it (it says so), while `decompose` and `paste --source` read it.
The resolution level is ``480p`` when present (else the first level, e.g. ``Full-Resolution``).
"""

from __future__ import annotations

from pathlib import Path

from genbench.errors import GenbenchError
from genbench.generators import video_io
from genbench.importers.clip import IDS, PairClip, safe_name

RELEASE = "DAVIS 2017 trainval layout (JPEGImages/480p/<video>/00000.jpg, Annotations/480p/<video>/00000.png)"


def _level(folder: Path) -> Path:
    if (folder / "480p").is_dir():
        return folder / "480p"
    levels = [p for p in sorted(folder.iterdir()) if p.is_dir() and not video_io.is_frame_folder(p)]
    return levels[0] if levels else folder


def find(src: Path) -> list[PairClip]:
    src = Path(src)
    if not ((src / "JPEGImages").is_dir() and (src / "Annotations").is_dir()):
        raise GenbenchError(f"{src}: not a DAVIS folder; expected JPEGImages/ and Annotations/ (480p or "
                            "Full-Resolution levels)")
    images, annotations = _level(src / "JPEGImages"), _level(src / "Annotations")
    clips = []
    for folder in sorted(p for p in images.iterdir() if video_io.is_frame_folder(p)):
        masks = annotations / folder.name
        if not video_io.is_frame_folder(masks):
            raise GenbenchError(f"{folder}: no annotations at {masks}")
        clips.append(PairClip(name=safe_name(folder.name), full=folder, without=None, masks=masks, mask_kind=IDS))
    return clips
