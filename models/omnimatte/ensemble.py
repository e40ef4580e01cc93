"""The removal model's mean answer: its removals over several seeds and views of the clip, averaged.

The starting alpha turns every difference between a solo video and the clean plate into alpha, so what one
sample of a generative removal model gets wrong (a shadow left half-removed, a fill that differs from frame to
frame) becomes alpha too. The mean of several samples keeps what they agree on. Besides the seeds, a clip is
also shown mirrored left to right and played backwards (`genbench.models.views`), and each output is mapped back
before averaging.
A method that draws no noise has one sample per view (`RemovalMethod.remove_sample`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genbench.methods import RemovalMethod
from genbench.models.views import average, seen


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
    """The mean of `method`'s draws (`remove_sample`: one seed, one view) over `samples` seeds and the first
    `views` of `views.VIEWS` (samples x views members), in place of any averaging over views the method does itself
    (Casper's `views`: the same views, the same mean); samples = views = 1 is its first draw."""

    method: RemovalMethod
    samples: int = 1
    views: int = 1

    def members(self) -> list[Member]:
        samples = self.samples if draws_noise(self.method) else 1
        return [Member(self.method, s, v) for v in range(self.views) for s in range(samples)]

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        members = self.members()
        if len(members) == 1:
            return members[0].remove(frames, trimask)
        return average([m.remove(frames, trimask) for m in members])
