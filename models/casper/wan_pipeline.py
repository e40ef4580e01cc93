"""Sampling with the Wan2.1-Fun-InP backbone: flow-matching Euler over sliding latent windows, any clip size.

The whole clip is encoded once (frames padded, edge replicate, to 4k + 1 and to multiples of 16
pixels; cropped back after decoding). At every sampler step the transformer runs on overlapping
windows of the latent clip, each as long as the training window, and their predictions are blended
with `pipeline.blend_weights` (gen-omnimatte's temporal multidiffusion, with the pixel backbone's
window rule and weights), so a clip of any length is denoised as one. The starting noise comes
from a generator seeded with `seed`; the preserve region (trimask 255) is copied from the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from genbench.contract import TRIMASK_PRESERVE
from genbench.models.casper import wan
from genbench.models.casper.pipeline import blend_weights, decode_video, encode_trimask, encode_video, window_starts
from genbench.models.casper.wan_train import flow_scheduler

SPATIAL_MULTIPLE = 16  # VAE stride 8 x transformer patch 2


@dataclass
class WanCasperPipeline:
    """remove(frames, trimask) with a loaded Wan checkpoint (`wan.load_checkpoint`).

    steps: Euler steps (default: the config's sample_steps); window: latent frames per window
    (default: the training window's, (frames - 1) / 4 + 1); overlap: latent frames shared by
    neighbouring windows (default: half a window)."""

    parts: wan.WanParts
    steps: int | None = None
    seed: int = 0
    window: int | None = None
    overlap: int | None = None
    copy_preserve: bool = True

    def one_draw(self, sample: int) -> WanCasperPipeline:
        """This pipeline with the seed `sample` after its own."""
        return replace(self, seed=self.seed + sample)

    @torch.no_grad()
    def __call__(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        p = self.parts
        t, h, w = trimask.shape
        device = next(p.transformer.parameters()).device
        amp = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
        autocast = torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None)
        pad = (0, (-w) % SPATIAL_MULTIPLE, 0, (-h) % SPATIAL_MULTIPLE, 0, (-(t - 1)) % 4)  # W, H, then T
        video = F.pad(encode_video(frames)[None], pad, mode="replicate").to(device)
        tri = F.pad(encode_trimask(trimask)[None], pad, mode="replicate").to(device)
        with autocast:
            cond = wan.condition(p.vae, video, tri).float()
        z = p.vae.config.z_dim
        generator = torch.Generator("cpu").manual_seed(self.seed)
        x = torch.randn((1, z, *cond.shape[2:]), generator=generator).to(device)
        length = x.shape[2]
        window = min(self.window or (p.config.frames - 1) // 4 + 1, length)
        overlap = self.overlap if self.overlap is not None else window // 2
        starts = window_starts(length, window, overlap)
        weights = blend_weights(window).to(device)[None, None, :, None, None]
        norm = torch.zeros(length, device=device)
        for s in starts:
            norm[s:s + window] += weights.flatten()
        scheduler = flow_scheduler(p.config)
        scheduler.set_timesteps(self.steps or p.config.sample_steps, device=device)
        for step in scheduler.timesteps:
            v = torch.zeros_like(x)
            for s in starts:
                with autocast:
                    pred = wan.velocity(p.transformer, x[:, :, s:s + window], cond[:, :, s:s + window],
                                        step.expand(1), p.context)
                v[:, :, s:s + window] += pred.float() * weights
            x = scheduler.step(v / norm[None, None, :, None, None], step, x, return_dict=False)[0]
        with autocast:
            out = wan.decode(p.vae, x).float()
        result = decode_video(out[0, :, :t, :h, :w])
        if self.copy_preserve:
            keep = trimask == TRIMASK_PRESERVE
            result[keep] = frames[keep]
        return result


def load_pipeline(folder: Path, device: str, *, steps: int | None = None, seed: int = 0,
                  snap: int | None = None, views: int | None = None) -> WanCasperPipeline:
    """The Wan checkpoint in `folder` as a pipeline on `device` ("auto": cuda when available). `snap` and
    `views` are pixel-backbone settings and are not used here."""
    from genbench.models.casper.device import resolve_device

    del snap, views
    return WanCasperPipeline(wan.load_checkpoint(folder, resolve_device(device)), steps=steps, seed=seed)
