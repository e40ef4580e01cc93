"""The removal ensemble omnimatte takes its bg and solo videos from: the mean over seeds and views of the clip."""

from __future__ import annotations

import numpy as np
import pytest

from genbench.contract import TRIMASK_PRESERVE, TRIMASK_REMOVE, TRIMASK_UNCERTAIN
from genbench.methods import RemovalMethod
from genbench.models.omnimatte.config import OmnimatteConfig
from genbench.models.omnimatte.ensemble import Ensemble, Member, draws_noise
from genbench.models.views import VIEWS, average, seen


def _clip(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (4, 12, 16, 3), dtype=np.uint8)
    tri = np.full(frames.shape[:3], TRIMASK_UNCERTAIN, np.uint8)
    tri[:, 4:8, 5:9] = TRIMASK_REMOVE
    tri[:, :2] = TRIMASK_PRESERVE
    return frames, tri


class FromLeftAndFirst(RemovalMethod):
    """Fills the remove region from the frame's left column and the clip's first frame: an answer that depends
    on which way the clip is shown, as a learned model's does."""

    def __init__(self) -> None:
        self.calls = 0

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = frames.copy()
        fill = (frames[:, :, :1].astype(np.int32) + frames[:1, :, :1]) // 2
        hole = trimask == TRIMASK_REMOVE
        out[hole] = np.broadcast_to(fill, frames.shape)[hole]
        return out


def test_each_view_is_its_own_inverse_and_shows_the_clip_mirrored_or_reversed() -> None:
    frames, _ = _clip()
    for view in range(len(VIEWS)):
        assert np.array_equal(seen(seen(frames, view), view), frames)
    assert np.array_equal(seen(frames, 0), frames)
    assert np.array_equal(seen(frames, 1)[:, :, 0], frames[:, :, -1])
    assert np.array_equal(seen(frames, 2)[0], frames[-1])
    assert np.array_equal(seen(frames, 3)[0, :, 0], frames[-1, :, -1])


def test_the_ensemble_is_the_mean_of_each_views_answer_mapped_back() -> None:
    frames, tri = _clip()
    method = FromLeftAndFirst()
    answers = [seen(method.remove(seen(frames, v), seen(tri, v)), v) for v in range(4)]
    for views in (1, 2, 4):
        got = Ensemble(method, samples=3, views=views).remove(frames, tri)
        assert np.array_equal(got, average(answers[:views]))
    hole = tri == TRIMASK_REMOVE
    # mirrored, the fill comes from the right column: the two views' mean is neither one
    two = Ensemble(method, views=2).remove(frames, tri)
    assert not np.array_equal(two[hole], answers[0][hole]) and not np.array_equal(two[hole], answers[1][hole])
    keep = tri != TRIMASK_REMOVE  # every view leaves the rest as it was, so the mean does too
    assert np.array_equal(Ensemble(method, views=4).remove(frames, tri)[keep], frames[keep])


def test_a_method_that_draws_no_noise_runs_once_per_view() -> None:
    method = FromLeftAndFirst()
    assert not draws_noise(method)
    assert len(Ensemble(method, samples=8, views=2).members()) == 2
    frames, tri = _clip()
    Ensemble(method, samples=8, views=2).remove(frames, tri)
    assert method.calls == 2
    assert np.array_equal(Ensemble(method).remove(frames, tri), method.remove(frames, tri))


def test_caspers_samples_differ_by_seed_and_the_ensemble_averages_them() -> None:
    from genbench.models.casper.method import Casper

    casper = Casper("tiny")
    assert draws_noise(casper)
    frames, tri = _clip(1)
    first = casper.remove(frames, tri)
    assert np.array_equal(casper.remove_sample(frames, tri, 0), first)
    second = casper.remove_sample(frames, tri, 1)
    hole = tri == TRIMASK_REMOVE
    assert not np.array_equal(second[hole], first[hole])
    assert np.array_equal(Casper("tiny", seed=1).remove(frames, tri), second)  # sample 1 is the next seed
    assert np.array_equal(Member(casper, sample=1).remove(frames, tri), second)
    assert np.array_equal(Ensemble(casper, samples=2).remove(frames, tri), average([first, second]))


@pytest.mark.parametrize("field,value", [("removal_samples", 0), ("removal_views", 5), ("removal_views", 0)])
def test_an_ensemble_setting_out_of_range_is_a_one_line_error(field: str, value: int) -> None:
    from dataclasses import replace

    from genbench.errors import GenbenchError

    with pytest.raises(GenbenchError, match=field):
        replace(OmnimatteConfig(), **{field: value})
