"""Image files the renderer reads besides the scene spec: HDRIs and texture images, bundled or the user's.

Bundled HDRIs: the eight Poly Haven HDRIs (CC0, 1K EXR) that the bpy wheel ships in
``bpy/<version>/datafiles/studiolights/world/`` beside their license.txt. Bundled textures: images
that scikit-image ships in ``skimage/data/`` (`BUNDLED_TEXTURES`, with their licenses). Both are
found from the installed packages' folders without importing them, so planning a scene never
loads bpy. `--hdri DIR` and `--textures DIR` add the user's own files.

A spec names a file by (source, name) and pins its bytes with its sha256; `resolve` finds it
again at render time and refuses a file whose bytes changed.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from genbench.errors import GenbenchError

BUNDLED, USER = "bundled", "user"
HDRI_SUFFIXES = (".exr", ".hdr")
TEXTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".tga", ".exr", ".hdr")
# scikit-image's bundled images used as textures: file -> (role, grey, license). Role `material`: a surface
# sample (floors, walls, objects); `photo`: a picture (objects only). Grey images are tinted by the
# surface's colour.
BUNDLED_TEXTURES: dict[str, tuple[str, bool, str]] = {
    "brick.png": ("material", True, "CC0 (CC0Textures Bricks25)"),
    "grass.png": ("material", True, "CC0 (linolafett, DeviantArt)"),
    "gravel.png": ("material", True, "CC0 (CC0Textures Gravel04)"),
    "astronaut.png": ("photo", False, "public domain (NASA)"),
    "chelsea.png": ("photo", False, "CC0 (Stefan van der Walt)"),
    "coffee.png": ("photo", False, "CC0 (Rachel Michetti)"),
    "rocket.jpg": ("photo", False, "public domain (SpaceX)"),
}


@dataclass(frozen=True)
class MediaFile:
    """An HDRI or texture: `name` is the file name (bundled) or the path relative to the user's folder."""

    source: str
    name: str
    path: Path
    sha256: str
    role: str = "material"  # textures: material or photo (user images are materials)
    grey: bool = False

    def entry(self) -> dict[str, Any]:
        """What a spec records of the file."""
        return {"source": self.source, "file": self.name, "sha256": self.sha256}


@lru_cache(maxsize=256)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256(path: Path) -> str:
    """sha256 of a file's bytes (cached while its size and modification time stay)."""
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise GenbenchError(f"the {name} package is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_hdri_dir() -> Path:
    """The bpy wheel's folder of world HDRIs (``bpy/<version>/datafiles/studiolights/world``)."""
    found = sorted(_package_dir("bpy").glob("*/datafiles/studiolights/world"))
    if not found:
        raise GenbenchError("the installed bpy has no datafiles/studiolights/world folder of HDRIs; "
                            "reinstall bpy (make install) or render without hdri in --worlds")
    return found[-1]


def bundled_texture_dir() -> Path:
    return _package_dir("skimage") / "data"


def _user_files(folder: Path, suffixes: tuple[str, ...], flag: str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise GenbenchError(f"{flag} {folder}: not a folder")
    found = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes),
                   key=lambda p: p.relative_to(folder).as_posix())
    if not found:
        raise GenbenchError(f"{flag} {folder}: no {'/'.join(suffixes)} files found")
    return found


@lru_cache(maxsize=8)
def hdris(user: str | None = None) -> tuple[MediaFile, ...]:
    """The bundled HDRIs, then the user's (`user`: the --hdri folder), each sorted by name."""
    bundled = sorted(bundled_hdri_dir().glob("*.exr"))
    out = [MediaFile(BUNDLED, p.name, p, sha256(p)) for p in bundled]
    if user:
        root = Path(user)
        out += [MediaFile(USER, p.relative_to(root).as_posix(), p, sha256(p))
                for p in _user_files(root, HDRI_SUFFIXES, "--hdri")]
    return tuple(out)


@lru_cache(maxsize=8)
def textures(user: str | None = None) -> tuple[MediaFile, ...]:
    """The bundled texture images (`BUNDLED_TEXTURES`), then the user's (`user`: the --textures folder)."""
    folder = bundled_texture_dir()
    out = []
    for name, (role, grey, _license) in BUNDLED_TEXTURES.items():
        path = folder / name
        if not path.is_file():
            raise GenbenchError(f"scikit-image's {name} is missing from {folder}; install a scikit-image that "
                                "ships it (pyproject.toml) or render without photo in --surfaces")
        out.append(MediaFile(BUNDLED, name, path, sha256(path), role, grey))
    if user:
        root = Path(user)
        out += [MediaFile(USER, p.relative_to(root).as_posix(), p, sha256(p))
                for p in _user_files(root, TEXTURE_SUFFIXES, "--textures")]
    return tuple(out)


def folder_digest(files: tuple[MediaFile, ...]) -> str:
    """Short hash of the user's files (names and contents): a resumed run must see the same ones."""
    h = hashlib.sha256()
    for f in files:
        if f.source == USER:
            h.update(f"{f.name}\0{f.sha256}\n".encode())
    return h.hexdigest()[:16]


def resolve(entry: dict[str, Any], *, bundled: Path, user: str | None, flag: str) -> Path:
    """The file a spec's media entry names (in the `bundled` folder or the `user` one), checked against its
    sha256. flag: the option that gives the user's folder, for messages."""
    if entry["source"] == BUNDLED:
        folder = bundled
    elif user is None:
        raise GenbenchError(f"the scene needs {entry['file']!r} from a {flag} folder, but none was given")
    else:
        folder = Path(user)
    path = folder / entry["file"]
    if not path.is_file():
        raise GenbenchError(f"{path} not found; keep the {flag} folder unchanged while resuming")
    if sha256(path) != entry["sha256"]:
        raise GenbenchError(f"{path} changed since the scene was planned (sha256 differs); restore it or render "
                            "into a new --out")
    return path
