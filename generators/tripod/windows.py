"""Cut footage into scene windows where objects are present, and judge each window.

Candidate windows are the runs of frames that hold an object. With the border gate, a run
is cut where objects start or stop touching the frame border, and the touching parts are
rejected. Runs longer than `window` frames are split into near-equal chunks. Every window,
accepted or not, gets an index in time order and, when rejected, a reason; nothing is dropped
without one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from genbench.generators.tripod.settings import TripodSettings


@dataclass(frozen=True)
class Window:
    """Frames ``start .. stop-1`` of one input; `reason` is None when the window is accepted."""

    index: int
    start: int
    stop: int
    reason: str | None = None

    @property
    def frames(self) -> int:
        return self.stop - self.start


def _runs(flags: np.ndarray) -> list[tuple[int, int, bool]]:
    """Maximal runs of equal values in a (T,) bool array: (start, stop, value)."""
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    bounds = [0, *edges.tolist(), len(flags)]
    return [(a, b, bool(flags[a])) for a, b in itertools.pairwise(bounds) if b > a]


def touches_border(objects: np.ndarray) -> np.ndarray:
    """(T,) bool: an object pixel lies on the outermost row or column of the frame."""
    return (objects[:, 0, :].any(axis=1) | objects[:, -1, :].any(axis=1)
            | objects[:, :, 0].any(axis=1) | objects[:, :, -1].any(axis=1))


def _chunks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    count = -(-(stop - start) // size)
    bounds = np.linspace(start, stop, count + 1).round().astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def cut_windows(objects: np.ndarray, settings: TripodSettings) -> list[Window]:
    """Candidate windows of (T, H, W) bool object masks, with the border and length gates applied."""
    present = objects.any(axis=(1, 2))
    border = touches_border(objects) if settings.border_gate else np.zeros_like(present)
    pieces: list[tuple[int, int, str | None]] = []
    for start, stop, has_objects in _runs(present):
        if not has_objects:
            continue
        for a, b, touching in _runs(border[start:stop]):
            if touching:
                pieces.append((start + a, start + b, "an object touches the frame border (it may be cut off, and "
                                                     "its shadow with it)"))
            elif b - a < settings.min_frames:
                pieces.append((start + a, start + b, f"{b - a} frames with objects, fewer than min_frames "
                                                     f"{settings.min_frames}"))
            else:
                pieces += [(start + c, start + d, None) for c, d in _chunks(a, b, settings.window)]
    return [Window(i, a, b, reason) for i, (a, b, reason) in enumerate(pieces)]
