"""`omnimatte[:REMOVAL]`: the layering method, bg and solo videos from a registered removal method."""

from __future__ import annotations

import numpy as np

from genbench.methods import LayeringMethod
from genbench.models.omnimatte.config import OmnimatteConfig
from genbench.models.omnimatte.optimise import fit_layers
from genbench.models.omnimatte.refine import shipped_refiner
from genbench.models.omnimatte.sources import DEFAULT_REMOVAL, from_removal, removal_ensemble


class Omnimatte(LayeringMethod):
    """Background = the removal method's clean plate; layer k = the optimiser's fit of solo_k over it.

    removal: a removal method spec (default ``casper``; ``omnimatte:median``, ``omnimatte:flow-propagation``
    ... for the classical baselines). A missing removal method fails here, before any work.
    """

    def __init__(self, removal: str = DEFAULT_REMOVAL, config: OmnimatteConfig | None = None) -> None:
        self.removal = removal or DEFAULT_REMOVAL
        self.config = config or OmnimatteConfig()
        self._method = removal_ensemble(self.removal, self.config.removal_samples, self.config.removal_views)
        self._refiner = shipped_refiner(self.removal) if self.config.refine else None

    @classmethod
    def fingerprint(cls, removal: str | None = None) -> str | None:
        """The removal method's fingerprint (e.g. Casper's weights): its bg and solos feed every layer; and the start
        refiner's, when one is trained for that removal method."""
        from genbench.methods import method_fingerprint

        removal_print = method_fingerprint(removal or DEFAULT_REMOVAL)
        refiner = shipped_refiner(removal or DEFAULT_REMOVAL)
        return removal_print if refiner is None else f"{removal_print}+{refiner.fingerprint()}"

    @classmethod
    def describe(cls, removal: str | None = None) -> dict:
        """What results.json records: the removal method, the start refiner (its record, or None) and every setting
        of the start and the fit."""
        refiner = shipped_refiner(removal or DEFAULT_REMOVAL)
        return {"removal": removal or DEFAULT_REMOVAL, "config": OmnimatteConfig().to_dict(),
                "start_refiner": None if refiner is None else {**refiner.record, "sha256": refiner.fingerprint()}}

    def decompose(self, frames: np.ndarray, masks: dict[int, np.ndarray]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """frames (T, H, W, 3) uint8; masks: id -> (T, H, W) bool visible. Returns (bg, {id: (T, H, W, 4) RGBA})."""
        inputs = from_removal(frames, masks, self._method, source=self.removal)
        refiner = None if self._refiner is None else self._refiner.net
        fit = fit_layers(inputs.bg, inputs.solos, inputs.masks, self.config, frames=inputs.frames,
                         label=f"omnimatte:{self.removal}", refiner=refiner)
        return inputs.bg, fit.layers
