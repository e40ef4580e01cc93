"""The toy generator: deterministic, and its pairs are exact by construction."""

from __future__ import annotations

import numpy as np

from genbench import contract
from genbench.generators.toy import make_toy_scene

from .conftest import TOY


def test_same_seed_and_index_same_scene_other_index_differs() -> None:
    a, b, c = make_toy_scene(TOY, 5), make_toy_scene(TOY, 5), make_toy_scene(TOY, 6)
    assert a.meta == b.meta
    np.testing.assert_array_equal(a.rgb["full"], b.rgb["full"])
    assert a.meta.spec != c.meta.spec


def test_pairs_differ_only_where_the_removed_layer_is() -> None:
    for index in range(6):
        scene = make_toy_scene(TOY, index)
        for k in scene.meta.object_ids:
            alpha = scene.layers[k][..., 3] > 0
            changed = (scene.rgb["full"] != scene.rgb[contract.minus_video(k)]).any(-1)
            assert not (changed & ~alpha).any()
            assert (scene.rgb[contract.solo_video(k)][~alpha] == scene.rgb["bg"][~alpha]).all()
        shadow = sum((lay[..., 3] > 0) & (lay[..., 3] < 255) for lay in scene.layers.values())
        assert shadow.any(), "every toy object casts a shadow"
