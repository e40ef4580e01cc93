"""ROSE's paired release (Remove Objects with Side Effects): rendered videos with and without an object.

Layout read from the file list of huggingface.co/datasets/Kunbyte/ROSE-Dataset at revision 8254ef2 (its
commit pages list e.g. ``Env1/Env1_Masked/CineCameraSequence_58.mp4``): ``Env<N>/Env<N>_Unedited/<name>.mp4``,
``Env<N>_Edited/<name>.mp4`` and ``Env<N>_Masked/<name>.mp4``. Two things are readings, not statements of the
card: that ``Unedited`` is the input (object present) and ``Edited`` the video with the object and its side
effects removed, and that ROSE-Bench (the paper's evaluation set, whose own card could not be read here) ships
in the same layout. The ROSE code repository (github.com/Kunbyte-AI/ROSE) was not available to read.
"""

from __future__ import annotations

from pathlib import Path

from genbench.errors import GenbenchError
from genbench.importers.clip import BINARY, PairClip, safe_name
from genbench.importers.layout import entries, matched

RELEASE = "huggingface.co/datasets/Kunbyte/ROSE-Dataset@8254ef2 (file list: Env<N>/Env<N>_{Unedited,Edited,Masked})"
ROLES = {"Unedited": "full", "Edited": "without", "Masked": "masks"}


def _envs(src: Path) -> list[Path]:
    if any((src / f"{src.name}_{suffix}").is_dir() for suffix in ROLES):
        return [src]  # one Env<N> folder
    return [p for p in sorted(src.iterdir()) if p.is_dir() and any((p / f"{p.name}_{s}").is_dir() for s in ROLES)]


def find(src: Path) -> list[PairClip]:
    src = Path(src)
    envs = _envs(src) if src.is_dir() else []
    if not envs:
        raise GenbenchError(f"{src}: no ROSE layout found; expected Env<N>/Env<N>_Unedited, Env<N>_Edited and "
                            "Env<N>_Masked folders of <name>.mp4 (the ROSE-Dataset release; ROSE-Bench's own layout "
                            "could not be established)")
    clips: list[PairClip] = []
    for env in envs:
        folders = {role: env / f"{env.name}_{suffix}" for suffix, role in ROLES.items()}
        absent = [str(p.name) for p in folders.values() if not p.is_dir()]
        if absent:
            raise GenbenchError(f"{env}: ROSE environment without {', '.join(absent)}")
        found = {role: entries(folder, videos_only=True) for role, folder in folders.items()}
        for n in matched(found, tuple(folders), env):
            clips.append(PairClip(name=safe_name(f"{env.name}-{n}"), full=found["full"][n],
                                  without=found["without"][n], masks=found["masks"][n], mask_kind=BINARY))
    return clips
