"""Every setting of the omnimatte layer optimiser, in one dataclass (recorded in each output)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from genbench.errors import require_all
from genbench.models.views import views_out_of_range


@dataclass(frozen=True)
class OmnimatteConfig:
    """Settings of `genbench.models.omnimatte.optimise.fit_layers`.

    Loss weights follow the public Generative Omnimatte code (DESIGN.md): L2 reconstruction 1.0,
    alpha L1 0.75 and L0-like 0.075 (both multiplied by the mean area of the object masks), mask
    supervision 10.0 for the first `mask_fraction` of the steps (public: 1000 of 6000), then a weak
    "alpha is 1 inside the object" term 0.1.

    What differs, for speed (the public code runs 6000 steps per layer on a GPU):
    - `steps` in all, the first `coarse_fraction` of them on frames downscaled by `coarse_factor`
      (the network is fully convolutional, so the coarse fit initialises the full-resolution one);
    - the network's output is added to prior logits: rgb from the solo video, alpha from the
      smallest alpha that explains |solo - bg| (`prior_weight` 1; 0 starts every alpha at 0.5);
    - one network for all objects of a scene, `frames_per_step` frames of every object per step;
    - the learning rate follows a cosine from `lr` down to `lr * final_lr_ratio`;
    - `detail_transfer`: after the fit, each layer's RGB is solved in closed form from its alpha,
      rgb = (solo - (1 - alpha) * bg) / alpha (the residual moved into the layer, as Omnimatte's
      detail transfer does), so the recomposition is exact wherever alpha is large enough.
    """

    steps: int = 200
    lr: float = 1e-3
    final_lr_ratio: float = 0.05
    coarse_factor: int = 2
    coarse_fraction: float = 0.75
    frames_per_step: int = 4
    channels: int = 16
    depth: int = 3
    prior_weight: float = 1.0
    weight_recon: float = 20.0
    weight_recon_smooth: float = 20.0
    weight_alpha_l1: float = 0.75
    weight_alpha_l0: float = 0.075
    l0_sharpness: float = 5.0
    weight_mask: float = 10.0
    mask_fraction: float = 1.0 / 6.0
    weight_mask_inside: float = 0.1
    detail_transfer: bool = True
    noise_floor: float = 3.0  # differences within this many noise sigmas explain no alpha (`evidence`)
    min_floor: float = 2.0 / 255.0  # the least noise floor, in colour units
    floor_shrink: float = 1.0  # a change past the floor loses this many floors (1: soft, 0: hard thresholding)
    quiet_margin: int = 4  # pixels kept clear around the objects when measuring colour shift and noise
    ceiling: bool = True  # the fit's alpha is at most the start's formula with no floor (`evidence`)
    use_frames: bool = True  # where the input video agrees with bg, no effect starts there
    attached_only: bool = True  # off the objects, only the input's alpha in patches touching an object counts
    share: float | None = None  # the input's alpha goes to the layer whose solo shows most; another keeps its own
    # where it is at least this share of the most (None: no division). Both `evidence`; every setting from
    # `noise_floor` to here chosen on the layering validation set (docs/omnimatte.md)
    refine: bool = True  # the start corrected by the refiner trained for the removal model, when one is (`refine`)
    removal_samples: int = 2  # bg and solo videos: the mean of this many samples (seeds) of the removal model
    removal_views: int = 2  # ... in this many views of the clip (`views.VIEWS`: mirrored, reversed)
    seed: int = 0
    threads: int | None = 1  # torch CPU threads (None: torch's default); 1 ran 5x faster than 2 on the loaded
    # 2-core machine, where a second thread mostly waits for a core
    device: str = "cpu"

    def __post_init__(self) -> None:
        views_reason = views_out_of_range(self.removal_views)
        checks = [
            (self.steps >= 1, f"steps must be >= 1, got {self.steps}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.coarse_factor >= 1, f"coarse_factor must be >= 1, got {self.coarse_factor}"),
            (0.0 <= self.coarse_fraction <= 1.0, f"coarse_fraction must be in [0, 1], got {self.coarse_fraction}"),
            (0.0 <= self.mask_fraction <= 1.0, f"mask_fraction must be in [0, 1], got {self.mask_fraction}"),
            (self.frames_per_step >= 1, f"frames_per_step must be >= 1, got {self.frames_per_step}"),
            (self.channels >= 4 and self.depth >= 1, "the U-Net needs channels >= 4 and depth >= 1"),
            (self.share is None or 0.0 <= self.share <= 1.0, f"share must be in [0, 1] or None, got {self.share}"),
            (0.0 <= self.floor_shrink <= 1.0, f"floor_shrink must be in [0, 1], got {self.floor_shrink}"),
            (self.removal_samples >= 1, f"removal_samples must be >= 1, got {self.removal_samples}"),
            (views_reason is None, f"removal_views {views_reason}"),
        ]
        require_all(checks)

    @property
    def coarse_steps(self) -> int:
        return round(self.steps * self.coarse_fraction) if self.coarse_factor > 1 else 0

    @property
    def mask_steps(self) -> int:
        return round(self.steps * self.mask_fraction)

    def evidence_settings(self) -> dict[str, Any]:
        """The keyword arguments of `evidence.gather` (the starting estimate) from these settings."""
        return {"noise": self.noise_floor, "min_floor": self.min_floor, "margin": self.quiet_margin,
                "shrink": self.floor_shrink, "attached_only": self.attached_only, "share": self.share}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
