"""The removal model's mean answer: its removals over several seeds and views of the clip, averaged.

The starting alpha turns every difference between a solo video and the clean plate into alpha, so what one
sample of a generative removal model gets wrong (a shadow left half-removed, a fill that differs from frame to
frame) becomes alpha too. The mean of several samples keeps what they agree on. Besides the seeds, a clip is
also shown mirrored left to right and played backwards, which change nothing a removal should depend on
(shadows fall the mirrored way, a resting object stays put), and each output is mapped back before averaging.
A method that draws no noise has one sample per view (`RemovalMethod.remove_sample`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.methods import RemovalMethod

VIEWS = ("as is", "mirrored", "reversed", "mirrored and reversed")  # `removal_views` takes the first N


def seen(video: np.ndarray, view: int) -> np.ndarray:
    """`video` (T, H, W, ...) as view `view` of VIEWS shows it; each view is its own inverse."""
    if view in (1, 3):
        video = video[:, :, ::-1]
    if view in (2, 3):
        video = video[::-1]
    return np.ascontiguousarray(video)


def average(videos: list[np.ndarray]) -> np.ndarray:
    """The per-pixel mean of uint8 videos of one shape, rounded to uint8."""
    return np.round(np.mean(np.stack(videos).astype(np.float64), axis=0)).astype(np.uint8)


def draws_noise(method: RemovalMethod) -> bool:
    """Whether `method`'s samples differ (it overrides `remove_sample`); otherwise one sample is all of them."""
    return type(method).remove_sample is not RemovalMethod.remove_sample


@dataclass
class Member(RemovalMethod):
    """One member of the ensemble: `method`'s sample `sample` of the clip in view `view`, mapped back."""

    method: RemovalMethod
    sample: int = 0
    view: int = 0

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        out = self.method.remove_sample(seen(frames, self.view), seen(trimask, self.view), self.sample)
        return seen(out, self.view)


@dataclass
class Ensemble(RemovalMethod):
    """The mean of `method`'s removals over `samples` seeds and the first `views` of VIEWS (samples x views
    members); samples = views = 1 is `method.remove` itself."""

    method: RemovalMethod
    samples: int = 1
    views: int = 1

    def members(self) -> list[Member]:
        samples = self.samples if draws_noise(self.method) else 1
        return [Member(self.method, s, v) for v in range(self.views) for s in range(samples)]

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        members = self.members()
        if len(members) == 1:
            return self.method.remove(frames, trimask)
        return average([m.remove(frames, trimask) for m in members])
