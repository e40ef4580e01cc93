from __future__ import annotations

import numpy as np
import pytest

from genbench.records import TrimaskSpec
from genbench.trimask import disk, trimask

R, U, P = 0, 128, 255


def test_disk_shapes() -> None:
    assert disk(0).tolist() == [[1]]
    assert disk(1).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert disk(2).sum() == 13  # 5x5 without its 4 corners' 3 pixels each


def test_hand_checked_case() -> None:
    # object 1 (to remove) is one pixel at (2, 2); object 2 (kept) sits at (0, 4) and (4, 4)
    visible = np.zeros((5, 6), np.uint8)
    visible[2, 2] = 1
    visible[0, 4] = visible[4, 4] = 2
    got = trimask(visible, [1], TrimaskSpec(dilation=1))
    expected = np.array([
        [U, U, U, U, P, U],
        [U, U, R, U, U, U],
        [U, R, R, R, U, U],
        [U, U, R, U, U, U],
        [U, U, U, U, P, U],
    ], np.uint8)
    np.testing.assert_array_equal(got, expected)


def test_band_limits_uncertain_region() -> None:
    visible = np.zeros((1, 7, 7), np.uint8)
    visible[0, 3, 3] = 1
    visible[0, 3, 4] = 2  # a kept object touching the removed one
    got = trimask(visible, [1], TrimaskSpec(dilation=0, band=1))[0]
    assert got[3, 3] == R
    assert got[3, 4] == P  # kept objects stay preserved inside the band
    assert got[2, 3] == got[4, 3] == got[3, 2] == U
    assert got[0, 0] == P and got[6, 6] == P  # far background is preserve


def test_remove_region_wins_over_kept_neighbours() -> None:
    visible = np.zeros((4, 4), np.uint8)
    visible[1, 1] = 1
    visible[1, 2] = 2
    got = trimask(visible, [1], TrimaskSpec(dilation=1))
    assert got[1, 2] == R  # the rim of the removed object mixes into its neighbour


def test_only_three_values_on_random_masks() -> None:
    rng = np.random.default_rng(0)
    visible = rng.integers(0, 4, size=(3, 16, 16)).astype(np.uint8)
    for spec in (TrimaskSpec(), TrimaskSpec(dilation=0, band=2), TrimaskSpec(dilation=3, band=0)):
        got = trimask(visible, [1, 3], spec)
        assert got.dtype == np.uint8 and got.shape == visible.shape
        assert set(np.unique(got).tolist()) <= {R, U, P}
        assert (got[visible == 1] == R).all() and (got[visible == 3] == R).all()
        assert (got[(visible == 2)] != U).all()


def test_bad_ids_rejected() -> None:
    with pytest.raises(ValueError, match="ids >= 1"):
        trimask(np.zeros((2, 2), np.uint8), [0])
    with pytest.raises(ValueError, match="ids >= 1"):
        trimask(np.zeros((2, 2), np.uint8), [])
