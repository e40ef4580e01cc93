"""Views of a clip that change nothing a removal should depend on, and the mean of answers mapped back.

A clip mirrored left to right or played backwards shows the same scene (shadows fall the mirrored way, a resting
object stays put), so a removal model's answer on such a view, mapped back, is another sample of its answer on
the clip; where two answers differ the model was unsure, and their mean keeps what they agree on. Casper
averages its views (`views` in its config), omnimatte's removal ensemble its samples and views.
"""

from __future__ import annotations

import numpy as np

VIEWS = ("as is", "mirrored", "reversed", "mirrored and reversed")  # a `views` setting takes the first N


def seen(video: np.ndarray, view: int) -> np.ndarray:
    """`video` (T, H, W, ...) as view `view` of VIEWS shows it; each view is its own inverse."""
    if view in (1, 3):
        video = video[:, :, ::-1]
    if view in (2, 3):
        video = video[::-1]
    return np.ascontiguousarray(video)


def views_out_of_range(views: int) -> str | None:
    """Why `views` is not a number of VIEWS to take (a one-line reason), or None when it is."""
    if 1 <= views <= len(VIEWS):
        return None
    return f"must be 1 to {len(VIEWS)} ({', '.join(VIEWS)}), got {views}"


def average(videos: list[np.ndarray]) -> np.ndarray:
    """The per-pixel mean of uint8 videos of one shape, rounded to uint8."""
    return np.round(np.mean(np.stack(videos).astype(np.float64), axis=0)).astype(np.uint8)

