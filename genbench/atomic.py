"""Folders that appear whole or not at all: write into a temporary sibling, then swap it in."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from genbench import contract


def temporary_sibling(final: Path, tag: str = "") -> Path:
    """A fresh name beside `final` that validators and resumes treat as partial (never as output)."""
    return final.with_name(f"{contract.PARTIAL_PREFIX}{final.name}{tag}-{uuid.uuid4().hex[:12]}")


def swap_in(new: Path, final: Path) -> None:
    """Rename the finished folder `new` to `final`. An existing `final` is moved aside first and
    deleted afterwards, so a crash leaves either the old folder or the new one, never a mix."""
    if final.exists():
        old = temporary_sibling(final, "-old")
        final.rename(old)
        new.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(final)


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `final`; when the block ends normally it replaces
    `final`, and on any error it is deleted and `final` is left as it was."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(final)
    tmp.mkdir()
    try:
        yield tmp
        swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
