"""Casper's hyperparameters: one dataclass, three named sizes, saved beside the weights as config.json."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from genbench.errors import GenbenchError
from genbench.jsonable import dataclass_from_json, dataclass_to_json
from genbench.models.casper.prefill import PREFILLS
from genbench.models.views import views_out_of_range


@dataclass(frozen=True)
class CasperConfig:
    """Everything that fixes the network, the noise schedule and the training window.

    channels: feature width per U-Net level (the spatial size halves between levels, so the
    network's stride is 2 ** (len(channels) - 1)); blocks: residual blocks per level;
    attention_heads: heads of the space-time attention at the lowest level (0: none);
    prefill: what the residual is added to (`prefill` module);
    frames, crop: the training window (T frames of crop x crop pixels), also the inference window.
    """

    name: str = "tiny"
    channels: tuple[int, ...] = (16, 32, 64, 64)
    blocks: int = 1
    attention_heads: int = 2
    prefill: str = "cv2"  # "cv2": also condition on, and predict a residual over, an OpenCV-inpainted clip;
    # "median": over the `median` baseline's clip
    temporal_kernel: int = 3
    time_embed_dim: int = 64
    frames: int = 8
    crop: int = 32
    # noise schedule (diffusers DDPMScheduler for training, DDIMScheduler for sampling)
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    sample_steps: int = 4
    # inference: outside the remove region, output pixels within `snap` levels of the input are set to the input
    snap: int = 0
    # inference: remove-region pixels that other frames see within `plate` levels of their temporal median (in
    # most frames: a static camera) take that clean plate instead of the network's fill; None: never
    plate: int | None = None
    # inference: the remove region's fill (where the plate is not kept) is sampled with the frame's long side at
    # `fill_size` pixels, the scale the network was trained at, and upscaled; None: at the frame's own size
    fill_size: int | None = None
    # inference: the mean of the answers on the first `views` of `views.VIEWS` (as is, mirrored, reversed, both),
    # each mapped back; 1: the clip as it is
    views: int = 1
    # loss: changed pixels (input != target, or the remove region) weigh `change_weight` times more
    change_weight: float = 4.0
    # optimisation defaults (the train command may override them)
    batch_size: int = 4
    learning_rate: float = 1e-3
    ema_decay: float = 0.999
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes kept with the checkpoint

    def __post_init__(self) -> None:
        if not self.channels or any(c < 4 for c in self.channels):
            raise GenbenchError(f"config {self.name!r}: channels must be a non-empty list of widths >= 4")
        if self.crop % self.stride:
            raise GenbenchError(f"config {self.name!r}: crop {self.crop} is not a multiple of the stride {self.stride}")
        if self.prefill not in PREFILLS:
            raise GenbenchError(f"config {self.name!r}: prefill must be one of {', '.join(PREFILLS)}, "
                                f"got {self.prefill!r}")
        if self.plate is not None and not 0 <= self.plate <= 255:
            raise GenbenchError(f"config {self.name!r}: plate must be 0-255 levels of spread or null, "
                                f"got {self.plate}")
        if self.fill_size is not None and self.fill_size < self.stride:
            raise GenbenchError(f"config {self.name!r}: fill_size must be at least the stride {self.stride} "
                                f"or null, got {self.fill_size}")
        if reason := views_out_of_range(self.views):
            raise GenbenchError(f"config {self.name!r}: views {reason}")
        if self.frames < 1 or self.sample_steps < 1 or self.blocks < 1:
            raise GenbenchError(f"config {self.name!r}: frames, sample_steps and blocks must be >= 1")

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CasperConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise GenbenchError(f"config.json has unknown fields {unknown}; it was written by a newer genbench")
        return dataclass_from_json(cls, d)


CONFIGS: dict[str, CasperConfig] = {
    # a 2-core CPU trains this in under an hour on 32x32 crops of 64x64 clips (the shipped `casper:tiny`)
    "tiny": CasperConfig(sample_steps=1, snap=3, plate=8, fill_size=64),  # inference settings chosen on val splits
    # a laptop CPU or a small GPU (the shipped checkpoint: one H200, 64x64 crops of 96x96 v2 renders)
    "small": CasperConfig(name="small", channels=(32, 64, 128, 128), blocks=2, attention_heads=4,
                          time_embed_dim=128, crop=64, batch_size=8, learning_rate=5e-4,
                          sample_steps=1, snap=3, plate=8, views=2),  # inference settings chosen on val-v2
    # a GPU: 256x256 crops, 16-frame windows
    "base": CasperConfig(name="base", channels=(64, 128, 256, 384, 384), blocks=2, attention_heads=8,
                         time_embed_dim=256, frames=16, crop=256, batch_size=8, learning_rate=2e-4),
}


def get_config(name: str) -> CasperConfig:
    if name not in CONFIGS:
        raise GenbenchError(f"unknown Casper config {name!r}; use one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
