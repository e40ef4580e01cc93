"""Finding clips in folders: videos or frame folders matched by name across sibling folders."""

from __future__ import annotations

from pathlib import Path

from genbench.errors import GenbenchError
from genbench.generators import video_io


def entries(folder: Path, *, videos_only: bool = False) -> dict[str, Path]:
    """Clip name -> path of each video file (and, unless `videos_only`, frame folder) in `folder`."""
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir(), key=lambda p: video_io.natural_key(p.name)):
        if video_io.is_video_file(p):
            found[p.stem] = p
        elif not videos_only and video_io.is_frame_folder(p):
            found[p.name] = p
    return found


def require_folder(path: Path, what: str, hint: str) -> Path:
    if not path.is_dir():
        raise GenbenchError(f"{path}: {what} folder not found; {hint}")
    return path


def matched(names: dict[str, dict[str, Path]], required: tuple[str, ...], where: Path) -> list[str]:
    """Names present in every `required` role (role -> name -> path); unmatched names are an error."""
    sets = {role: set(names[role]) for role in required}
    common = set.intersection(*sets.values()) if sets else set()
    odd = sorted(set.union(*sets.values()) - common) if sets else []
    if odd:
        missing = {n: [r for r in required if n not in sets[r]] for n in odd[:3]}
        shown = "; ".join(f"{n} lacks {', '.join(rs)}" for n, rs in missing.items())
        raise GenbenchError(f"{where}: clips without a partner in every folder ({len(odd)}): {shown}")
    return sorted(common, key=video_io.natural_key)
