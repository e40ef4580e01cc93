"""Sampling: few-step deterministic DDIM over sliding temporal windows, at any frame size.

A clip longer than the window (``config.frames``) is cut into overlapping windows that are
sampled as one batch and blended with triangular weights (a frame counts most in the window
where it is central). Frames are padded (edge replicate) to a multiple of the network's stride
and cropped back. The starting noise is drawn once for the whole clip from a generator seeded
with `seed`, so the same inputs and seed give the same bytes. The preserve region (trimask 255)
is copied from the input after sampling when `copy_preserve` is set (the default): the model's
output there is close to the input but not bit-exact, and the trimask says those pixels must not change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from torch.nn import functional as F

from genbench.baselines.common import remove_region
from genbench.contract import TRIMASK_PRESERVE, TRIMASK_REMOVE
from genbench.errors import GenbenchError
from genbench.models.casper.config import CasperConfig
from genbench.models.casper.model import CasperNet
from genbench.models.casper.prefill import prefill, static_plate
from genbench.models.casper.scale import fill_from, shrink
from genbench.models.views import average, seen, views_out_of_range


def training_scheduler(config: CasperConfig) -> DDPMScheduler:
    """The forward (noising) process: x0 ("sample") prediction, cosine betas."""
    return DDPMScheduler(num_train_timesteps=config.train_timesteps, beta_schedule=config.beta_schedule,
                         prediction_type="sample", clip_sample=True)


def sampling_scheduler(config: CasperConfig) -> DDIMScheduler:
    """DDIM with trailing timesteps, so even 1 step starts from pure noise (t = T - 1) and ends at x0."""
    return DDIMScheduler(num_train_timesteps=config.train_timesteps, beta_schedule=config.beta_schedule,
                         prediction_type="sample", clip_sample=True, set_alpha_to_one=True,
                         timestep_spacing="trailing")


def encode_video(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float().div(127.5).sub(1.0)


def encode_trimask(trimask: np.ndarray) -> torch.Tensor:
    """(T, H, W) uint8 in {0, 128, 255} -> (2, T, H, W) float32: remove mask, preserve mask."""
    tri = torch.from_numpy(np.ascontiguousarray(trimask))
    return torch.stack([(tri == TRIMASK_REMOVE), (tri == TRIMASK_PRESERVE)]).float()


def decode_video(x: torch.Tensor) -> np.ndarray:
    """(3, T, H, W) float in [-1, 1] -> (T, H, W, 3) uint8."""
    x = ((x.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 3, 0).cpu().numpy()


def window_starts(length: int, window: int, overlap: int) -> list[int]:
    """First frame of each window covering `length` frames; the last window ends at the last frame."""
    if length <= window:
        return [0]
    hop = max(1, window - overlap)
    starts = list(range(0, length - window + 1, hop))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def blend_weights(window: int) -> torch.Tensor:
    """(window,) triangular weights, highest in the middle, never 0."""
    i = torch.arange(window, dtype=torch.float32)
    return torch.minimum(i + 1, window - i)


@dataclass
class CasperPipeline:
    """remove(frames, trimask) with a trained CasperNet.

    steps: DDIM steps (default: the config's sample_steps); window, overlap: temporal windows in
    frames (default: the training length and half of it); snap: outside the remove region, pixels
    the model changed by at most this many levels (any channel) keep the input's value (default:
    the config's); views: the mean of the answers on this many views of the clip (`views.VIEWS`; default: the
    config's); batch: windows per forward pass. With the config's ``plate`` set, remove-region pixels
    other frames see steadily take the temporal clean plate (`prefill.static_plate`); with its
    ``fill_size`` set and a larger frame, the rest of the remove region is filled from a second sample of the
    clip shrunk to that size (`scale`).
    """

    model: CasperNet
    steps: int | None = None
    seed: int = 0
    window: int | None = None
    overlap: int | None = None
    copy_preserve: bool = True
    snap: int | None = None
    views: int | None = None
    batch: int = 8

    def __post_init__(self) -> None:
        if self.views is not None and (reason := views_out_of_range(self.views)):
            raise GenbenchError(f"Casper views {reason}")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def one_draw(self, sample: int) -> CasperPipeline:
        """This pipeline for one draw: the seed `sample` after its own, the clip as it is shown (one view)."""
        return replace(self, seed=self.seed + sample, views=1)

    def __call__(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        views = self.views or self.model.config.views
        if views == 1:
            return self.answer(frames, trimask)
        return average([seen(self.answer(seen(frames, v), seen(trimask, v)), v) for v in range(views)])

    def answer(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """The removal of the clip as it is shown (one view)."""
        result, kept = self.sample_clip(frames, trimask)
        size = self.model.config.fill_size
        if size is None or max(trimask.shape[1:]) <= size:
            return result
        small, _ = self.sample_clip(*shrink(frames, trimask, size))
        return fill_from(result, small, remove_region(trimask) & ~kept)

    @torch.no_grad()
    def sample_clip(self, frames: np.ndarray, trimask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clip sampled at its own size, frames (T, H, W, 3) uint8 and trimask (T, H, W) uint8 -> the result
        (T, H, W, 3) uint8 and the (T, H, W) remove-region pixels that kept the clean plate (none without a plate)."""
        cfg = self.model.config
        t, h, w = trimask.shape
        window = min(self.window or cfg.frames, t)
        overlap = self.overlap if self.overlap is not None else window // 2
        stride = cfg.stride
        pad = (0, (-w) % stride, 0, (-h) % stride)  # F.pad order: W then H
        video = F.pad(encode_video(frames), pad, mode="replicate")
        tri = F.pad(encode_trimask(trimask), pad, mode="replicate")
        filled = F.pad(encode_video(prefill(frames, trimask, cfg.prefill)), pad, mode="replicate")
        generator = torch.Generator("cpu").manual_seed(self.seed)
        noise = torch.randn(video.shape, generator=generator)
        starts = window_starts(t, window, overlap)
        weights = blend_weights(window)
        total = torch.zeros_like(video)
        norm = torch.zeros(t)
        for i in range(0, len(starts), self.batch):
            chunk = starts[i:i + self.batch]
            out = self._sample(*(torch.stack([x[:, s:s + window] for s in chunk])
                                 for x in (video, tri, filled, noise)))
            for s, clip in zip(chunk, out, strict=True):
                total[:, s:s + window] += clip.cpu() * weights[None, :, None, None]
                norm[s:s + window] += weights
        result = decode_video((total / norm[None, :, None, None])[:, :, :h, :w])
        snap = cfg.snap if self.snap is None else self.snap
        if snap > 0:  # the network's small residuals where nothing changes are its regression noise
            near = np.abs(result.astype(np.int16) - frames).max(axis=-1) <= snap
            near &= trimask != TRIMASK_REMOVE
            result[near] = frames[near]
        kept = np.zeros(trimask.shape, bool)
        if cfg.plate is not None:
            plate, kept = static_plate(frames, trimask, cfg.plate)
            result = np.where(kept[..., None], plate[None], result)
        if self.copy_preserve:
            keep = trimask == TRIMASK_PRESERVE
            result[keep] = frames[keep]
        return result, kept

    def _sample(self, video: torch.Tensor, tri: torch.Tensor, filled: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        """DDIM from `noise` to x0 for a batch of windows; all (B, C, T, H, W); returns (B, 3, T, H, W)."""
        scheduler = sampling_scheduler(self.model.config)
        scheduler.set_timesteps(self.steps or self.model.config.sample_steps)
        dev = self.device
        video, tri, filled, x = video.to(dev), tri.to(dev), filled.to(dev), noise.to(dev)
        x0 = x
        for step in scheduler.timesteps:
            timesteps = torch.full((x.shape[0],), int(step), device=dev, dtype=torch.long)
            x0 = self.model(x, video, tri, timesteps, filled).clamp(-1, 1)
            x = scheduler.step(x0, step, x, eta=0.0).prev_sample
        return x0


def load_pipeline(folder: Path, device: str, *, steps: int | None = None, seed: int = 0,
                  snap: int | None = None, views: int | None = None) -> CasperPipeline:
    """The pixel backbone's checkpoint in `folder` as a pipeline on `device` ("auto": cuda when available)."""
    from genbench.models.casper.checkpoint import from_pretrained
    from genbench.models.casper.device import resolve_device

    return CasperPipeline(from_pretrained(folder, resolve_device(device)), steps=steps, seed=seed, snap=snap,
                          views=views)
