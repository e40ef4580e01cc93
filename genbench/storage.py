"""Where a dataset is written and read: a local folder, or any URL fsspec reaches (s3://, gs://, ...).

A plain path or a ``file://`` URL is a local folder (`LocalOutput`), written by the local code
(`genbench.scene`, `genbench.dataset`) exactly as always. Any other URL names a *remote* dataset,
an object-store prefix with the same layout (`RemoteDataset`):

- a scene is written into a local temporary folder exactly as on disk, uploaded to
  ``<url>/scenes/<id>/...``, and then committed by one more object, its marker
  ``<url>/scenes/<id>.complete`` (JSON: the sha256 of each of the scene's files). An object store
  has no rename, but one object appears whole or not at all, so the marker is the commit: a scene
  without one is invisible to every reader, and the next run deletes it and makes it again;
- the marker sits beside the scene's prefix, not inside it, so one delimiter listing of
  ``scenes/`` finds every complete scene however many files the scenes hold;
- dataset.json, manifest.parquet and failures.json are objects at the top, rebuilt from the
  committed scenes at the end of a run, with the same bytes as on disk;
- readers (validate, eval, publish) work on a local copy (`local_copy`): the committed scenes and
  the top-level files, downloaded into a cache folder, each file checked against its marker.

Credentials and endpoints come from where fsspec's implementations look for them: the AWS
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_ENDPOINT_URL ...) for s3fs,
Google's application default credentials for gcsfs, and fsspec's own configuration for any
storage option (``FSSPEC_S3='{"endpoint_url": "..."}'``, ``FSSPEC_S3_ANON=true``, or JSON files in
``~/.config/fsspec/``). Worker processes and Ray tasks inherit them, so every writer sees the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.errors import DatasetError, GenbenchError
from genbench.records import DatasetInfo, SceneMeta
from genbench.scene import (
    Scene,
    json_text,
    list_scene_ids,
    read_json,
    read_meta,
    scene_complete,
    scene_dir,
    scenes_dir,
    write_json,
    write_scene,
)

Root = Path | str  # a local folder, or the URL of a remote dataset
MARKER_SUFFIX = ".complete"
LOCAL_PROTOCOLS = ("file", "local")
# Which extra installs the fsspec implementation of a protocol.
EXTRAS = {"s3": ("s3fs", "cloud"), "s3a": ("s3fs", "cloud"), "gs": ("gcsfs", "cloud"), "gcs": ("gcsfs", "cloud")}
_PROTOCOL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def protocol_of(location: Root) -> str | None:
    """The URL scheme of `location` (``s3``, ``file`` ...), None for a plain path."""
    match = None if isinstance(location, Path) else _PROTOCOL.match(location)
    return match.group(1).lower() if match else None


def is_remote(location: Root) -> bool:
    return protocol_of(location) not in (None, *LOCAL_PROTOCOLS)


def output_root(location: Root) -> Root:
    """The dataset root `location` names: a Path for a local folder (``file://`` dropped), else the URL
    without a trailing slash."""
    if is_remote(location):
        return str(location).rstrip("/")
    text = str(location)
    return Path(text.split("://", 1)[1] if protocol_of(text) else text)


def child(root: Root, name: str) -> Root:
    """`name` inside the dataset root, for messages and for local paths."""
    return root / name if isinstance(root, Path) else f"{root}/{name}"


def basename(root: Root) -> str:
    return root.name if isinstance(root, Path) else root.rsplit("/", 1)[-1]


def filesystem(url: str) -> tuple[Any, str]:
    """fsspec's file system for `url` and the path in it; a missing implementation is a one-line error."""
    protocol = protocol_of(url) or ""
    try:
        import fsspec

        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        package, extra = EXTRAS.get(protocol, (f"fsspec's {protocol} implementation", None))
        how = f"pip install 'genbench[{extra}]'" if extra else f"install {package}"
        raise GenbenchError(f"{url}: {protocol}:// needs {package}: {how} ({exc})") from None
    except ValueError as exc:  # a protocol fsspec does not know
        raise GenbenchError(f"{url}: {exc}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """genbench's cache: $GENBENCH_CACHE, else ~/.cache/genbench."""
    return Path(os.environ.get("GENBENCH_CACHE") or Path.home() / ".cache" / "genbench")


class Output(Protocol):
    """What a generation run needs from the place it writes to (`open_output`)."""

    root: Root

    def existing(self) -> tuple[Any, Any] | None: ...
    def prepare(self) -> None: ...
    def complete(self, scene_ids: list[str]) -> set[str]: ...
    def write_json(self, name: str, data: object) -> None: ...
    def remove(self, name: str) -> None: ...
    def finalize(self, *, name: str, generator: str, settings: dict) -> DatasetInfo: ...
    def write_scene(self, scene: Scene) -> Root: ...
    def add_to_scenes(self, name: str, make: Callable[[Path, str], Path]) -> list: ...
    def add_top_file(self, name: str, make: Callable[[Path], Path | None], scenes: int) -> Root | None: ...
    def build_into(self, build: Callable[[Path], Path]) -> Root: ...
    def uncommitted(self) -> list[str]: ...


@dataclass(frozen=True)
class LocalOutput:
    """A dataset folder on this machine: the local code path, unchanged."""

    root: Path

    def existing(self) -> tuple[Any, Any] | None:
        """(generator, settings) of the dataset already here; None when there is none yet. Raises
        DatasetError when the folder holds something that is not a genbench dataset."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise DatasetError(f"{root} is a file; --out must be a folder")
        dataset_file = root / contract.DATASET_FILE
        if dataset_file.is_file():
            data = read_json(dataset_file)
            return data.get("generator"), data.get("settings")
        ids = list_scene_ids(root)
        if ids:
            meta = read_meta(root, ids[0])
            return meta.generator, meta.settings
        if root.is_dir() and any(p.name not in (contract.SCENES_DIR, contract.FAILURES_FILE) for p in root.iterdir()):
            raise DatasetError(f"{root} is not empty and holds no genbench dataset; choose an empty --out")
        return None

    def prepare(self) -> None:
        try:
            (self.root / contract.SCENES_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create the output folder {self.root}: {exc.strerror}") from None

    def complete(self, scene_ids: list[str]) -> set[str]:
        return {sid for sid in scene_ids if scene_complete(self.root, sid)}

    def write_json(self, name: str, data: object) -> None:
        write_json(self.root / name, data)

    def remove(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def finalize(self, *, name: str, generator: str, settings: dict) -> DatasetInfo:
        from genbench.dataset import finalize

        return finalize(self.root, name=name, generator=generator, settings=settings)

    def write_scene(self, scene: Scene) -> Path:
        return write_scene(self.root, scene)

    def add_to_scenes(self, name: str, make: Callable[[Path, str], Path]) -> list[Path]:
        return [make(self.root, sid) for sid in list_scene_ids(self.root)
                if not (scene_dir(self.root, sid) / name).is_file()]

    def add_top_file(self, name: str, make: Callable[[Path], Path | None], scenes: int) -> Path | None:
        """`make(root)` writes the top-level file `name` from the dataset's first `scenes` scenes (or returns None)."""
        return make(self.root)

    def build_into(self, build: Callable[[Path], Path]) -> Path:
        return build(self.root)

    def uncommitted(self) -> list[str]:
        return []  # a local partial scene is a hidden folder; `genbench.validate` reports those


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset under an fsspec URL, scenes committed by marker objects (see the module docstring)."""

    root: str

    @cached_property
    def _fs_path(self) -> tuple[Any, str]:
        return filesystem(self.root)

    @property
    def fs(self) -> Any:
        return self._fs_path[0]

    def key(self, *parts: str) -> str:
        """The file system path of `parts` under the root."""
        return "/".join([self._fs_path[1].rstrip("/"), *parts])

    def marker_key(self, scene_id: str) -> str:
        return self.key(contract.SCENES_DIR, scene_id + MARKER_SUFFIX)

    def _entries(self, *parts: str) -> list[dict]:
        """Entries directly under `parts` (fresh: other processes write here too); [] when nothing is there."""
        path = self.key(*parts)
        self.fs.invalidate_cache(path)
        try:
            return list(self.fs.ls(path, detail=True))
        except FileNotFoundError:
            return []

    @staticmethod
    def _name(entry: dict) -> str:
        return entry["name"].rstrip("/").rsplit("/", 1)[-1]

    def names(self) -> set[str]:
        """Names of the objects and prefixes directly under the root."""
        return {self._name(e) for e in self._entries()}

    def committed(self) -> list[str]:
        """Ids of the scenes that have a marker, sorted: the dataset's scenes."""
        return sorted(self._name(e)[: -len(MARKER_SUFFIX)] for e in self._entries(contract.SCENES_DIR)
                      if e["type"] == "file" and self._name(e).endswith(MARKER_SUFFIX))

    def uncommitted(self) -> list[str]:
        """Ids of scene prefixes without a marker: left by interrupted writers, invisible, made again by a rerun."""
        entries = self._entries(contract.SCENES_DIR)
        markers = {self._name(e) for e in entries if e["type"] == "file"}
        return sorted(n for n in (self._name(e) for e in entries if e["type"] == "directory")
                      if n + MARKER_SUFFIX not in markers)

    def marker(self, scene_id: str) -> dict[str, str]:
        """Scene-relative path -> sha256 of every file of a committed scene."""
        return json.loads(self.fs.cat_file(self.marker_key(scene_id)))["files"]

    def _cat_many(self, keys: list[str]) -> dict[str, bytes]:
        """The contents of many objects, fetched concurrently where the backend can."""
        return self.fs.cat(keys) if keys else {}

    def _markers(self, scene_ids: list[str]) -> dict[str, bytes]:
        """Scene id -> its marker's bytes, for committed scenes."""
        found = self._cat_many([self.marker_key(sid) for sid in scene_ids])
        return {sid: found[self.marker_key(sid)] for sid in scene_ids}

    def _check(self, scene_id: str, rel: str, digest: str, committed: str) -> None:
        if digest != committed:
            raise DatasetError(f"{self.root}/{contract.SCENES_DIR}/{scene_id}/{rel}: does not match the checksum "
                               "its scene was committed with (changed or corrupted since)")

    def read_json(self, name: str) -> dict:
        try:
            return json.loads(self.fs.cat_file(self.key(name)))
        except FileNotFoundError:
            raise DatasetError(f"{self.root}/{name}: not found") from None
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{self.root}/{name}: invalid JSON ({exc.msg} at line {exc.lineno})") from None

    def write_bytes(self, name: str, data: bytes) -> None:
        self.fs.pipe_file(self.key(name), data)

    def write_json(self, name: str, data: object) -> None:
        self.write_bytes(name, json_text(data).encode())

    def remove(self, name: str) -> None:
        if self.fs.exists(self.key(name)):
            self.fs.rm_file(self.key(name))

    # -- writing ----------------------------------------------------------------------------------

    def existing(self) -> tuple[Any, Any] | None:
        """As `LocalOutput.existing`: what made the dataset already here, None when there is none."""
        names = self.names()
        if contract.DATASET_FILE in names:
            data = self.read_json(contract.DATASET_FILE)
            return data.get("generator"), data.get("settings")
        ids = self.committed()
        if ids:
            meta = SceneMeta.from_dict(self.read_json(f"{contract.SCENES_DIR}/{ids[0]}/{contract.META_FILE}"))
            return meta.generator, meta.settings
        if names - {contract.SCENES_DIR, contract.FAILURES_FILE}:
            raise DatasetError(f"{self.root} is not empty and holds no genbench dataset; choose an empty --out")
        return None

    def prepare(self) -> None:
        """Check that the root can be written before any scene is made (a missing bucket, no credentials)."""
        probe = f".genbench-write-check-{os.getpid()}"
        try:
            self.write_bytes(probe, b"")
            self.remove(probe)
        except Exception as exc:  # each backend raises its own types
            raise DatasetError(f"cannot write to {self.root}: {exc.__class__.__name__}: {exc}") from None

    def complete(self, scene_ids: list[str]) -> set[str]:
        return set(scene_ids) & set(self.committed())

    def upload_scene(self, folder: Path, scene_id: str) -> None:
        """Upload a finished local scene folder as scene `scene_id`, then commit it with its marker. Whatever
        an interrupted writer left under the scene's prefix is deleted first."""
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        rels = [p.relative_to(folder).as_posix() for p in files]
        digests = {rel: sha256_file(p) for rel, p in zip(rels, files, strict=True)}
        prefix = self.key(contract.SCENES_DIR, scene_id)
        self.fs.invalidate_cache(prefix)
        if self.fs.exists(prefix):
            self.fs.rm(prefix, recursive=True)
        self.fs.put([str(p) for p in files], [f"{prefix}/{rel}" for rel in rels])
        self.write_json(f"{contract.SCENES_DIR}/{scene_id}{MARKER_SUFFIX}", {"files": digests})

    def write_scene(self, scene: Scene) -> str:
        """`genbench.scene.write_scene` for a remote dataset: written locally as always, then uploaded and
        committed. Returns the scene's URL."""
        sid = scene.meta.scene_id
        if self.fs.exists(self.marker_key(sid)):
            raise DatasetError(f"{self.root}/{contract.SCENES_DIR}/{sid}: scene exists")
        with tempfile.TemporaryDirectory(prefix="genbench-scene-") as tmp:
            self.upload_scene(write_scene(Path(tmp), scene), sid)
        return f"{self.root}/{contract.SCENES_DIR}/{sid}"

    def _fetch_scene(self, scene_id: str, files: dict[str, str], folder: Path) -> None:
        """Download the files of a committed scene into `folder`, each checked against its marker."""
        local = [folder / rel for rel in files]
        for path in local:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get([self.key(contract.SCENES_DIR, scene_id, rel) for rel in files], [str(p) for p in local])
        for (rel, digest), path in zip(files.items(), local, strict=True):
            self._check(scene_id, rel, sha256_file(path), digest)

    def finalize(self, *, name: str, generator: str, settings: dict) -> DatasetInfo:
        """Rebuild manifest.parquet and dataset.json from the committed scenes: their meta.json and run.json
        are staged locally, the local `finalize` runs on them, and its two files are uploaded."""
        from genbench.dataset import finalize

        with tempfile.TemporaryDirectory(prefix="genbench-finalize-") as tmp:
            staged = Path(tmp)
            wanted: dict[str, tuple[str, str, str]] = {}  # object -> (scene id, scene-relative path, sha256)
            for sid, marker in self._markers(self.committed()).items():
                files = json.loads(marker)["files"]
                for rel in (contract.META_FILE, contract.RUN_FILE):
                    if rel in files:
                        wanted[self.key(contract.SCENES_DIR, sid, rel)] = (sid, rel, files[rel])
            for key, data in self._cat_many(list(wanted)).items():
                sid, rel, digest = wanted[key]
                self._check(sid, rel, hashlib.sha256(data).hexdigest(), digest)
                scene_dir(staged, sid).mkdir(parents=True, exist_ok=True)
                (scene_dir(staged, sid) / rel).write_bytes(data)
            info = finalize(staged, name=name, generator=generator, settings=settings)
            for top in (contract.MANIFEST_FILE, contract.DATASET_FILE):
                self.fs.put_file(str(staged / top), self.key(top))
        return info

    def upload(self, local: Path) -> None:
        """Copy a finished local dataset here: scenes not yet committed, then the top-level files."""
        done = set(self.committed())
        for sid in list_scene_ids(local):
            if sid not in done:
                self.upload_scene(scene_dir(local, sid), sid)
        for top in sorted(p for p in local.iterdir() if p.is_file()):
            self.fs.put_file(str(top), self.key(top.name))

    def build_into(self, build: Callable[[Path], Path]) -> str:
        """A dataset that is made whole in a new local folder (`build(folder)`, e.g. a benchmark split) and then
        uploaded here. The folder is in the cache until the upload is done, so running again after an
        interruption resumes the upload (or the build, which resumes itself)."""
        if contract.DATASET_FILE in self.names():
            raise DatasetError(f"{self.root} already holds a dataset; choose a new --out")
        folder = remote_cache(self.root) / "build"
        built = folder / "dataset"
        if not (built / contract.DATASET_FILE).is_file():
            folder.mkdir(parents=True, exist_ok=True)
            build(built)
        self.upload(built)
        shutil.rmtree(folder)
        return self.root

    def add_to_scenes(self, name: str, make: Callable[[Path, str], Path]) -> list[str]:
        """For every committed scene without the scene-relative file `name`: fetch the scene, `make(root,
        scene_id)` the file, upload it and commit the scene again with the file in its marker."""
        added = []
        for sid in self.committed():
            files = self.marker(sid)
            if name in files:
                continue
            with tempfile.TemporaryDirectory(prefix="genbench-scene-") as tmp:
                self._fetch_scene(sid, files, scene_dir(Path(tmp), sid))
                made = make(Path(tmp), sid)
                self.fs.put_file(str(made), self.key(contract.SCENES_DIR, sid, name))
                self.write_json(f"{contract.SCENES_DIR}/{sid}{MARKER_SUFFIX}",
                                {"files": {**files, name: sha256_file(made)}})
            added.append(f"{self.root}/{contract.SCENES_DIR}/{sid}/{name}")
        return added

    def add_top_file(self, name: str, make: Callable[[Path], Path | None], scenes: int) -> str | None:
        """Fetch the first `scenes` committed scenes into a temporary folder, `make(folder)` the top-level file
        `name` there and upload it (a derived file for people, like a preview: no marker covers it)."""
        with tempfile.TemporaryDirectory(prefix="genbench-top-") as tmp:
            for sid in sorted(self.committed())[:scenes]:
                self._fetch_scene(sid, self.marker(sid), scene_dir(Path(tmp), sid))
            made = make(Path(tmp))
            if made is None:
                return None
            self.fs.put_file(str(made), self.key(name))
        return f"{self.root}/{name}"

    # -- reading ----------------------------------------------------------------------------------

    def download(self, dest: Path) -> Path:
        """Bring `dest`/dataset up to date with the committed scenes and top-level files here, and return it.
        Scenes whose marker is unchanged since the last download are kept; others are fetched whole."""
        data, markers = dest / "dataset", dest / "markers"
        top = [e for e in self._entries() if e["type"] == "file"]
        ids = self.committed()
        if not ids and not top:
            raise DatasetError(f"{self.root}: no genbench dataset there (no committed scene, no dataset.json)")
        scenes_dir(data).mkdir(parents=True, exist_ok=True)
        markers.mkdir(parents=True, exist_ok=True)
        for sid, marker in self._markers(ids).items():
            kept = markers / f"{sid}{MARKER_SUFFIX}"
            if scene_dir(data, sid).is_dir() and kept.is_file() and kept.read_bytes() == marker:
                continue
            with atomic_folder(scene_dir(data, sid)) as folder:
                self._fetch_scene(sid, json.loads(marker)["files"], folder)
            kept.write_bytes(marker)
        wanted = set(ids)
        for p in scenes_dir(data).iterdir():  # scenes no longer committed there, partial downloads
            if p.name in wanted:
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        for p in markers.iterdir():
            if p.name.removesuffix(MARKER_SUFFIX) not in wanted:
                p.unlink()
        names = {self._name(e) for e in top}
        for p in data.iterdir():
            if p.is_file() and p.name not in names:
                p.unlink()
        for name in sorted(names):
            tmp = data / f".{name}.download"
            self.fs.get_file(self.key(name), str(tmp))
            os.replace(tmp, data / name)
        return data


def open_output(location: Root) -> Output:
    """Where a run writes: a local folder, or a remote dataset for any other URL fsspec reaches."""
    root = output_root(location)
    return LocalOutput(root) if isinstance(root, Path) else RemoteDataset(root)


def remote_cache(url: str) -> Path:
    """The cache folder of the local copy of the remote dataset at `url`."""
    return cache_dir() / "remote" / f"{basename(url)}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def local_copy(location: Root, cache: Path | None = None) -> Path:
    """A local folder holding the dataset at `location`: the folder itself when it is local; for a URL, a
    copy of its committed scenes and top-level files in `cache` (default `remote_cache`), refreshed."""
    root = output_root(location)
    if isinstance(root, Path):
        return root
    try:
        return RemoteDataset(root).download(cache or remote_cache(root))
    except GenbenchError:
        raise
    except Exception as exc:  # each backend raises its own types (aiohttp, botocore, gcsfs ...)
        raise DatasetError(f"cannot read {root}: {exc.__class__.__name__}: {exc}; check the address, the network and "
                           "the credentials") from None
