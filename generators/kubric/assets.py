"""User models for `--assets DIR`: .obj, .glb, .gltf and .ply files under a folder (e.g. Google Scanned Objects)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from genbench.errors import GenbenchError

ASSET_SUFFIXES = (".obj", ".glb", ".gltf", ".ply")


def list_assets(folder: Path) -> list[str]:
    """Paths of the models under `folder`, relative to it, sorted (POSIX separators)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenbenchError(f"--assets {folder}: not a folder")
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in ASSET_SUFFIXES)
    if not found:
        raise GenbenchError(f"--assets {folder}: no {'/'.join(ASSET_SUFFIXES)} files found")
    return found


def assets_digest(folder: Path, names: list[str]) -> str:
    """Short hash of the asset list (names and sizes): a resumed run must see the same models."""
    h = hashlib.sha256()
    for name in names:
        h.update(f"{name}\0{(Path(folder) / name).stat().st_size}\n".encode())
    return h.hexdigest()[:16]
