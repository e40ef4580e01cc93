"""Effect kinds balanced across a benchmark split, chosen before anything is rendered.

A split's Kubric scenes are scenes 0..n-1 of one render seed, so what a split holds is decided by its
seed. Rendering candidates to measure their kinds costs minutes a scene; a scene's spec costs
milliseconds and says which kinds its objects *can* have: a shadow always (every scene is lit), a
reflection where the floor is a mirror or glossy, a wall is glossy or another object is metal, a
refraction where another object is glass (k can be seen through it), light where k glows. The v2
recipes take, from a range of seeds, the first one whose scenes maximise the rarest of the kinds
beyond shadow (`balanced_seed`), a pure function of the range that a test re-runs.

What a scene holds is then measured from its light passes (`genbench.generators.kubric.kinds`) and
that is what the dataset card and the benchmark's per-kind regions report: a possible refraction
is a measured one only where the glass passes in front of k, so the measured counts are what to
quote, the predicted ones only how the seed was chosen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from genbench.generators.kubric.kinds import KINDS
from genbench.generators.kubric.settings import RenderSettings

BEYOND_SHADOW = tuple(k for k in KINDS if k != "shadow")


def possible_kinds(spec: dict[str, Any]) -> dict[int, set[str]]:
    """Target object id -> the effect kinds its removal can show, from the scene's spec alone."""
    objects = {o["id"]: o for o in spec["objects"]}
    walls = spec.get("walls") or {}
    mirror_room = spec["floor"]["finish"] in ("mirror", "glossy") or walls.get("finish") == "glossy"
    out: dict[int, set[str]] = {}
    for k in spec["targets"]:
        others = [o["material"] for i, o in objects.items() if i != k]
        kinds = {"shadow"}
        if mirror_room or any(m["metallic"] > 0 for m in others):
            kinds.add("reflection")
        if any(m["transmission"] > 0 for m in others):
            kinds.add("refraction")
        if objects[k]["material"].get("kind") == "emissive":
            kinds.add("light")
        out[k] = kinds
    return out


def possible_kind_counts(settings: RenderSettings, scenes: int) -> Counter[str]:
    """Removal samples (one per target object) of scenes 0..scenes-1 that can show each kind."""
    from genbench.generators.kubric.make import sample_spec

    counts: Counter[str] = Counter({kind: 0 for kind in KINDS})
    for index in range(scenes):
        for kinds in possible_kinds(sample_spec(settings, index)).values():
            counts.update(kinds)
    return counts


def balanced_seed(settings_of: Callable[[int], RenderSettings], scenes: int, seeds: range) -> int:
    """The first seed of `seeds` whose scenes 0..scenes-1 hold the most samples of the rarest kind beyond shadow
    (ties: the smaller spread between the commonest and rarest of those kinds)."""

    def balance(seed: int) -> tuple[int, int]:
        counts = possible_kind_counts(settings_of(seed), scenes)
        values = [counts[k] for k in BEYOND_SHADOW]
        return min(values), -(max(values) - min(values))

    return max(seeds, key=balance)  # max returns the first of equal keys
