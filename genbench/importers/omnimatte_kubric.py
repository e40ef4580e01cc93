"""Kubric removal pairs written by the public Generative Omnimatte generator.

Layout read from gen-omnimatte/gen-omnimatte-public@96d7e65ceb681a000674f6c619abe3736dc0db75,
`datasets/effect_removal_synthesis.py` (`save_videos`, `save_images`, `get_mask_from_segmentation`): one folder
per sequence with ``rgb_full.mp4`` (input), ``rgb_removed.mp4`` (target: the removed objects made transparent)
and ``mask.mp4`` (3-channel trimask: 0 = objects to remove, 128/255 = background in trimask mode, 255 = other
objects), plus, with ``--save_images``, the same as lossless ``rgb_full/``, ``rgb_removed/`` and ``mask/``
folders of ``00000.png ...``, which are preferred when present. ``SRC`` is one sequence folder or a folder of
them. The removed objects become object 1, the kept ones object 2. The evaluation scenes of the Omnimatte papers
(Lu et al. 2021; the five Kubric scenes of the published table) ship in other layouts that could not be read
here; they are not handled.
"""

from __future__ import annotations

from pathlib import Path

from genbench.errors import GenbenchError
from genbench.importers.clip import TRIMASK, PairClip, safe_name

RELEASE = ("github.com/gen-omnimatte/gen-omnimatte-public@96d7e65ceb681a000674f6c619abe3736dc0db75 "
           "(datasets/effect_removal_synthesis.py)")
PARTS = ("rgb_full", "rgb_removed", "mask")


def _part(folder: Path, name: str) -> Path | None:
    frames = folder / name
    if frames.is_dir() and any(frames.glob("*.png")):
        return frames
    video = folder / f"{name}.mp4"
    return video if video.is_file() else None


def _is_sequence(folder: Path) -> bool:
    return all(_part(folder, p) is not None for p in PARTS)


def find(src: Path) -> list[PairClip]:
    src = Path(src)
    folders = [src] if _is_sequence(src) else (
        [p for p in sorted(src.iterdir()) if p.is_dir() and _is_sequence(p)] if src.is_dir() else [])
    if not folders:
        raise GenbenchError(f"{src}: no Generative Omnimatte Kubric sequence found; expected rgb_full, rgb_removed "
                            "and mask, each as <part>.mp4 or a <part>/ folder of PNGs, in SRC or its subfolders")
    return [PairClip(name=safe_name(f.name), full=_part(f, "rgb_full"), without=_part(f, "rgb_removed"),
                     masks=_part(f, "mask"), mask_kind=TRIMASK) for f in folders]
