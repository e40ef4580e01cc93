"""Taking a submission in: a predictions folder or archive, copied into a private work folder, safely.

Archives are hostile input. `ingest` accepts a folder, a ``.zip`` or a tar (plain, gzip, bzip2 or
xz; recognised by magic bytes, not by name) and copies the predictions into `dest` (a fresh private
folder), refusing, before anything reaches the board:

- absolute paths, ``..`` or empty components, backslashes and drive letters, names outside
  ``[A-Za-z0-9_.-]``, paths deeper than MAX_DEPTH, the same path twice;
- symbolic and hard links, devices, FIFOs and anything else that is not a plain file or folder
  (in folders too: a link could point anywhere);
- archive bombs: more than `Caps.files` entries, a file above `Caps.file_bytes`, more than
  `Caps.total_bytes` in all. Sizes are counted as bytes are actually decompressed, never taken from
  headers, and a tar's whole decompressed stream (headers included) is capped too;
- payloads that are not PNG: every file must be named ``*.png`` and start with the PNG signature
  (`genbench eval`'s ``predictions.json`` at the root and, in a folder, hidden files are skipped,
  never copied).

Files are created with O_EXCL | O_NOFOLLOW under folders this code made, so nothing is written
outside `dest`. Deeper checks (sizes, bit depth, frame counts) follow in
`genbench.benchmark.predictions.validate_predictions`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from genbench.benchmark.predictions import CACHE_FILE, PNG_SIGNATURE
from genbench.errors import GenbenchError

MAX_DEPTH = 6  # wrapper/scene/layers/k/00000.png is 5
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_CHUNK = 1 << 20
SKIPPED = PurePosixPath(CACHE_FILE)  # genbench eval's cache marker at the root: not a payload, never copied


class SubmissionRejected(GenbenchError):
    """A submission that is not taken; the message says why."""


@dataclass(frozen=True)
class Caps:
    """Bounds on what a submission may unpack to (a legitimate one stays far below them)."""

    files: int = 100_000
    file_bytes: int = 64 * 2**20
    total_bytes: int = 2 * 2**30

    @classmethod
    def for_frames(cls, frames: int, frame_bytes: int) -> Caps:
        """Caps for `frames` PNG frames of at most `frame_bytes` raw pixels each.

        An 8-bit PNG is at most its raw pixels plus a filter byte per row, deflate's stored-block
        overhead and a few chunks, so twice the raw size plus 64 KiB bounds any honest encoding.
        """
        per_file = 2 * frame_bytes + 65536
        return cls(files=frames + 1000, file_bytes=per_file, total_bytes=frames * per_file + 2**20)


def check_name(name: str) -> PurePosixPath | None:
    """The safe relative path of an archive member, None for the root itself; rejects anything else."""
    if "\\" in name or "\x00" in name:
        raise SubmissionRejected(f"{name!r}: backslash or NUL in an archive path")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise SubmissionRejected(f"{name!r}: absolute path in the archive")
    parts = [p for p in name.rstrip("/").split("/")]
    if parts == ["."] or parts == [""]:
        return None
    parts = parts[1:] if parts[0] == "." else parts
    for part in parts:
        if part in ("", ".", ".."):
            raise SubmissionRejected(f"{name!r}: path traversal ('{part or '//'}' in the path)")
        if not _NAME.match(part):
            raise SubmissionRejected(f"{name!r}: the name {part!r} has characters outside [A-Za-z0-9_.-]")
    if len(parts) > MAX_DEPTH:
        raise SubmissionRejected(f"{name!r}: deeper than {MAX_DEPTH} levels; predictions are "
                                 "<sample_id>/00000.png or <scene_id>/bg|layers/<k>/00000.png")
    return PurePosixPath(*parts)


class _Limited(io.RawIOBase):
    """A read-only stream that raises once more than `limit` bytes came out of it (a decompression cap)."""

    def __init__(self, raw: IO[bytes], limit: int, what: str) -> None:
        self.raw, self.limit, self.what, self.count = raw, limit, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise SubmissionRejected(f"{self.what}: decompresses to more than {self.limit} bytes (archive bomb?)")
        buffer[:len(data)] = data
        return len(data)


class _Writer:
    """Creates folders and files under `dest` only, counting files and bytes against the caps."""

    def __init__(self, dest: Path, caps: Caps) -> None:
        self.dest, self.caps = dest, caps
        self.files = 0
        self.total = 0

    def folder(self, rel: PurePosixPath) -> Path:
        path = self.dest
        for part in rel.parts:
            path = path / part
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                raise SubmissionRejected(f"{rel}: a file and a folder share this path")
            path.mkdir(mode=0o700, exist_ok=True)
        return path

    def file(self, rel: PurePosixPath, stream: IO[bytes], label: str) -> None:
        if not rel.name.lower().endswith(".png"):
            raise SubmissionRejected(f"{label}: not a PNG file name; a submission holds only PNG frames")
        self.files += 1
        if self.files > self.caps.files:
            raise SubmissionRejected(f"{label}: more than {self.caps.files} files (archive bomb?)")
        parent = self.folder(rel.parent)
        try:
            fd = os.open(parent / rel.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            raise SubmissionRejected(f"{label}: the same path appears twice") from None
        size = 0
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(_CHUNK):
                if size == 0 and not block.startswith(PNG_SIGNATURE[:len(block)]):
                    raise SubmissionRejected(f"{label}: not a PNG (the content does not start with the PNG "
                                             "signature); a submission holds only PNG frames")
                size += len(block)
                self.total += len(block)
                if size > self.caps.file_bytes:
                    raise SubmissionRejected(f"{label}: larger than {self.caps.file_bytes} bytes (archive bomb?)")
                if self.total > self.caps.total_bytes:
                    raise SubmissionRejected(f"{label}: the submission unpacks to more than {self.caps.total_bytes} "
                                             "bytes (archive bomb?)")
                out.write(block)
        if size < len(PNG_SIGNATURE):
            raise SubmissionRejected(f"{label}: not a PNG ({size} bytes); a submission holds only PNG frames")


def _zip(path: Path, writer: _Writer) -> None:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > writer.caps.files:
            raise SubmissionRejected(f"{path.name}: {len(infos)} entries, more than {writer.caps.files} "
                                     "(archive bomb?)")
        for info in infos:
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                what = "a symbolic link" if kind == stat.S_IFLNK else "not a plain file"
                raise SubmissionRejected(f"{info.filename}: {what}; a submission holds only PNG files and folders")
            rel = check_name(info.filename)
            if info.is_dir() or rel is None:
                if rel is not None:
                    writer.folder(rel)
                continue
            if rel == SKIPPED:
                continue
            with zf.open(info) as stream:
                writer.file(rel, stream, info.filename)


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    """The tar stream inside gzip, bzip2 or xz (by magic bytes), or `raw` itself for a plain tar."""
    head = raw.peek(6)[:6] if isinstance(raw, io.BufferedReader) else b""
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return raw


def _tar(path: Path, writer: _Writer) -> None:
    caps = writer.caps
    # headers and padding count too: twice the payload cap plus three blocks per entry bounds an honest tar
    limit = 2 * caps.total_bytes + 512 * 3 * (caps.files + 2)
    try:
        with open(path, "rb") as raw, _decompressed(raw) as inner, \
                tarfile.open(fileobj=io.BufferedReader(_Limited(inner, limit, path.name)), mode="r|") as tf:
            count = 0
            for member in tf:
                count += 1
                if count > caps.files:
                    raise SubmissionRejected(f"{path.name}: more than {caps.files} entries (archive bomb?)")
                if member.issym() or member.islnk():
                    raise SubmissionRejected(f"{member.name}: a {'symbolic' if member.issym() else 'hard'} link "
                                             f"(to {member.linkname!r}); a submission holds only PNG files and folders")
                if not (member.isfile() or member.isdir()):
                    raise SubmissionRejected(f"{member.name}: not a plain file or folder (device, FIFO ...)")
                rel = check_name(member.name)
                if rel is None:
                    continue
                if member.isdir():
                    writer.folder(rel)
                    continue
                if rel == SKIPPED:
                    continue
                stream = tf.extractfile(member)
                assert stream is not None  # a regular file
                writer.file(rel, stream, member.name)
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        raise SubmissionRejected(f"{path.name}: unreadable archive ({exc})") from None


def _walk(root: Path) -> Iterator[tuple[Path, PurePosixPath]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(dirnames) + sorted(filenames):
            path = base / name
            rel = PurePosixPath(path.relative_to(root).as_posix())
            yield path, rel


def _folder(root: Path, writer: _Writer) -> None:
    for path, rel in _walk(root):
        if rel.name.startswith(".") or rel == SKIPPED:
            continue
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise SubmissionRejected(f"{path}: a symbolic link; a submission holds only PNG files and folders")
        rel = check_name(rel.as_posix()) or rel
        if stat.S_ISDIR(mode):
            writer.folder(rel)
        elif stat.S_ISREG(mode):
            with open(path, "rb") as stream:
                writer.file(rel, stream, str(path))
        else:
            raise SubmissionRejected(f"{path}: not a plain file or folder (device, FIFO ...)")


def archive_kind(path: Path) -> str:
    """'zip' or 'tar' from the file's first bytes; rejects anything else."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar"
    raise SubmissionRejected(f"{path}: not a predictions folder, .zip or .tar[.gz|.bz2|.xz] archive")


def ingest(source: Path, dest: Path, caps: Caps) -> Path:
    """Copy the predictions in `source` (folder or archive) into the empty folder `dest`; returns `dest`."""
    source = Path(source)
    if source.is_symlink() and source.is_dir():
        raise SubmissionRejected(f"{source}: a symbolic link; pass the predictions folder itself")
    writer = _Writer(Path(dest), caps)
    if source.is_dir():
        _folder(source, writer)
    elif source.is_file() and archive_kind(source) == "zip":
        try:
            _zip(source, writer)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError, EOFError) as exc:
            raise SubmissionRejected(f"{source.name}: unreadable zip archive ({exc})") from None
    elif source.is_file():
        _tar(source, writer)
    else:
        raise SubmissionRejected(f"{source}: no such predictions folder or archive")
    if writer.files == 0:
        raise SubmissionRejected(f"{source}: holds no PNG frames")
    return Path(dest)
