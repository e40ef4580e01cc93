"""A user's folder of pairs: ``with/``, optional ``without/`` and ``masks/``.

Each holds, per clip, a video file (``<name>.mp4`` ...) or a frame folder (``<name>/00000.png ...``) with the
same name in every folder. Masks are binary (white = the object to remove; grey or colour images, or a mask
video thresholded at 128) or palette PNGs whose index is the object id (every object in the masks is removed).
Without ``without/`` the clips have no ground truth: they import as scenes with no removal sample.
"""

from __future__ import annotations

from pathlib import Path

from genbench.importers.clip import BINARY, IDS, PairClip, safe_name
from genbench.importers.layout import entries, matched, require_folder

RELEASE = "genbench user pairs: <SRC>/with/, <SRC>/without/ (optional), <SRC>/masks/"
LAYOUT_HINT = "a pairs folder holds with/, masks/ and optionally without/ (videos or frame folders, same names)"


def _mask_kind(path: Path) -> str:
    if path.is_dir():
        from PIL import Image

        from genbench.generators import video_io

        first = video_io.image_files(path)
        if first:
            with Image.open(first[0]) as img:
                return IDS if img.mode == "P" else BINARY
    return BINARY


def find(src: Path) -> list[PairClip]:
    src = Path(src)
    roles = {"with": require_folder(src / "with", "with/", LAYOUT_HINT),
             "masks": require_folder(src / "masks", "masks/", LAYOUT_HINT)}
    if (src / "without").is_dir():
        roles["without"] = src / "without"
    found = {role: entries(folder) for role, folder in roles.items()}
    names = matched(found, tuple(roles), src)
    return [PairClip(name=safe_name(n), full=found["with"][n], without=found.get("without", {}).get(n),
                     masks=found["masks"][n], mask_kind=_mask_kind(found["masks"][n])) for n in names]
