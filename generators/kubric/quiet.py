"""Silence C libraries that print to the process's stdout (Cycles' progress lines) or stderr (pybullet's banner)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

_libc = ctypes.CDLL(None)


@contextlib.contextmanager
def quiet(*, stderr: bool = False) -> Iterator[None]:
    """Point file descriptor 1 (and 2 when `stderr`) at /dev/null for the duration."""
    fds = (1, 2) if stderr else (1,)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(null, fd)
        yield
    finally:
        _libc.fflush(None)  # drop what C stdio buffered while the descriptors still point at /dev/null
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)
