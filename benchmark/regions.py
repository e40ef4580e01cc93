"""The regions a removal is scored on, per frame and pixel: (T, H, W) bool masks.

- ``full``: every pixel (scored with the whole-frame formulas of `genbench.benchmark.metrics`).
- ``object``: the removed objects' dilated mask, i.e. the trimask's remove region (value 0).
- ``effect``: pixels outside the object region where the input and the ground truth differ by more
  than the scene's effect tolerance (`genbench.samples.effect_tolerance`: meta.json
  ``quality.params.effect_tolerance``, 2 uint8 levels where a scene records none) in any channel:
  the removed objects' shadows, reflections and bounce light. A method that leaves the shadow
  behind fails here while looking fine on ``full``.
- ``preserve``: the rest (neither object nor effect): pixels whose right answer is the input.
- ``dynamics``: only where a sample records it (a physics counterfactual: ``masks/changed/<k>/``):
  the pixels of other objects that move differently once the removed objects are gone (what
  they pushed or hit) and their shadows. The ground truth there is one plausible alternative
  motion, so those pixels are scored apart and left out of ``effect`` and ``preserve`` (and of the
  headline); the stored trimask marks them uncertain (128).
- ``effect:<kind>``: where a scene records per-kind effect masks (``masks/effects/<k>/<kind>/``),
  the effect region's pixels that the removed objects' masks of that kind cover (shadow,
  reflection, ...). Kinds may overlap; each is scored as a region of its own.

object, effect, preserve (and dynamics) partition the frame. A region empty in a frame scores NaN there.
"""

from __future__ import annotations

import numpy as np

from genbench.contract import DEFAULT_EFFECT_TOLERANCE, TRIMASK_REMOVE
from genbench.pixels import differs

REGIONS = ("full", "object", "effect", "preserve", "dynamics")
KIND_PREFIX = "effect:"


def kind_region(kind: str) -> str:
    return f"{KIND_PREFIX}{kind}"


def ordered(names: set[str] | list[str]) -> list[str]:
    """Region names in table order: the fixed regions, then the effect kinds alphabetically."""
    return [r for r in REGIONS if r in names] + sorted(r for r in names if r.startswith(KIND_PREFIX))


def split_regions(object_mask: np.ndarray, changed: np.ndarray,
                  kinds: dict[str, np.ndarray] | None = None,
                  dynamics: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """object / effect / preserve (and effect:<kind>, and dynamics when given) from the object mask, the
    changed pixels, the per-kind effect masks and the changed-dynamics region, all (T, H, W) bool."""
    apart = np.zeros_like(object_mask) if dynamics is None else dynamics & ~object_mask
    effect = changed & ~object_mask & ~apart
    out = {"object": object_mask, "effect": effect, "preserve": ~object_mask & ~effect & ~apart}
    if dynamics is not None:
        out["dynamics"] = apart
    for kind, mask in sorted((kinds or {}).items()):
        out[kind_region(kind)] = effect & mask
    return out


def removal_regions(frames: np.ndarray, target: np.ndarray, trimask: np.ndarray,
                    tolerance: int = DEFAULT_EFFECT_TOLERANCE,
                    kinds: dict[str, np.ndarray] | None = None,
                    dynamics: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Regions of one removal sample (``full`` is implicit).

    frames, target: (T, H, W, 3) uint8 input and ground truth; trimask: (T, H, W) uint8 {0, 128, 255};
    kinds: effect kind -> (T, H, W) bool where the removed objects' effect of that kind is;
    dynamics: (T, H, W) bool where removing the objects changes how others move (None: not recorded).
    """
    return split_regions(trimask == TRIMASK_REMOVE, differs(frames, target, tolerance), kinds, dynamics)
