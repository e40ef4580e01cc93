"""The test-time layer fit: one RGBA layer per object over a fixed background (DESIGN.md, Omnimatte).

Given the clean background `bg` and, per object k, its solo video (object k alone over the
background, its shadow and reflection included), fit a U-Net mapping (solo_k, |solo_k - bg|) to
an RGBA layer so that ``alpha * rgb + (1 - alpha) * bg ~= solo_k``, with sparse alpha, never above the
alpha the change between solo_k and bg asks for with no floor (`evidence`'s ceiling). All objects
of a scene share one network and one batch; most steps run on downscaled frames (`OmnimatteConfig`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genbench.errors import GenbenchError
from genbench.models.omnimatte import losses
from genbench.models.omnimatte.config import OmnimatteConfig
from genbench.models.omnimatte.evidence import LayerEvidence, gather
from genbench.models.omnimatte.refine import StartRefiner, refine_evidence
from genbench.models.omnimatte.unet import LayerUNet, prior_logits
from genbench.models.threads import torch_threads
from genbench.progress import make_progress


@dataclass
class FitResult:
    """layers: object id -> (T, H, W, 4) uint8 RGBA; stats: timings, final loss terms, settings."""

    layers: dict[int, np.ndarray]
    stats: dict[str, Any] = field(default_factory=dict)


def _to_tensor(video: np.ndarray) -> torch.Tensor:
    """(T, H, W, C) uint8 -> (T, C, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 255.0


def _check(bg: np.ndarray, solos: dict[int, np.ndarray], masks: dict[int, np.ndarray],
           frames: np.ndarray | None) -> None:
    if bg.dtype != np.uint8 or bg.ndim != 4 or bg.shape[-1] != 3:
        raise GenbenchError(f"the background must be (T, H, W, 3) uint8, got {bg.dtype}{bg.shape}")
    if frames is not None and (frames.shape != bg.shape or frames.dtype != np.uint8):
        raise GenbenchError(f"the input video is {frames.dtype}{frames.shape}, expected uint8{bg.shape} "
                            "like the background")
    if sorted(solos) != sorted(masks):
        raise GenbenchError(f"solo videos for objects {sorted(solos)} but masks for {sorted(masks)}")
    for k in solos:
        if solos[k].shape != bg.shape or solos[k].dtype != np.uint8:
            raise GenbenchError(f"solo video of object {k} is {solos[k].dtype}{solos[k].shape}, "
                                f"expected uint8{bg.shape} like the background")
        if masks[k].shape != bg.shape[:3]:
            raise GenbenchError(f"mask of object {k} is {masks[k].shape}, expected {bg.shape[:3]}")


@dataclass
class _Level:
    """One resolution of the data: solo and bg (bg in each solo video's colours) (K, T, 3, h, w), mask, the
    starting alpha and its ceiling (K, T, 1, h, w)."""

    solo: torch.Tensor
    bg: torch.Tensor
    mask: torch.Tensor
    start: torch.Tensor
    ceiling: torch.Tensor

    @classmethod
    def downscaled(cls, full: _Level, factor: int) -> _Level:
        if factor == 1:
            return full
        k, t = full.solo.shape[:2]

        def pool(x: torch.Tensor) -> torch.Tensor:
            return F.avg_pool2d(x.flatten(0, 1), factor, ceil_mode=True).unflatten(0, (k, t))

        return cls(pool(full.solo), pool(full.bg), pool(full.mask), pool(full.start), pool(full.ceiling))

    def batch(self, frames: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """solo, bg, mask, start, ceiling of the chosen frames of every object, as (K * F, C, h, w)."""
        return tuple(x[:, frames].flatten(0, 1) for x in (self.solo, self.bg, self.mask, self.start, self.ceiling))


def _forward(net: LayerUNet, solo: torch.Tensor, bg: torch.Tensor, start: torch.Tensor, prior_weight: float,
             ceiling: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """rgb (N, 3, h, w) and alpha (N, 1, h, w) in [0, 1], alpha at most `ceiling`."""
    logits = net(torch.cat([solo, (solo - bg).abs()], dim=1)) + prior_logits(solo, start, prior_weight)
    out = torch.sigmoid(logits)
    return out[:, :3], torch.minimum(out[:, 3:], ceiling)


def _lr_at(step: int, config: OmnimatteConfig) -> float:
    """Cosine from lr to lr * final_lr_ratio over the steps."""
    progress = step / max(config.steps - 1, 1)
    low = config.lr * config.final_lr_ratio
    return low + (config.lr - low) * 0.5 * (1 + math.cos(math.pi * progress))


def _finish(rgb: np.ndarray, alpha: np.ndarray, solo: np.ndarray, bg: np.ndarray, detail_transfer: bool
            ) -> np.ndarray:
    """Quantise one layer to uint8 RGBA; with detail transfer, RGB is solved from the quantised alpha.

    rgb, solo, bg: (T, H, W, 3) float in [0, 1]; alpha: (T, H, W) float. Transparent pixels get RGB 0.
    """
    a8 = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    a = a8.astype(np.float32)[..., None] / 255.0
    if detail_transfer:
        with np.errstate(divide="ignore", invalid="ignore"):
            solved = (solo - (1 - a) * bg) / a
        rgb = np.where(a > 0, np.clip(solved, 0, 1), rgb)
    rgb8 = np.where(a > 0, np.round(np.clip(rgb, 0, 1) * 255), 0).astype(np.uint8)
    return np.concatenate([rgb8, a8[..., None]], axis=-1)


def _video(x: np.ndarray) -> torch.Tensor:
    """(T, H, W, C) or (T, H, W) float -> (T, C, H, W) float32 tensor."""
    x = x[..., None] if x.ndim == 3 else x
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 3, 1, 2)


def starting_layers(evidence: dict[int, LayerEvidence], solos: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The layers the fit starts from, as uint8 RGBA: the starting alpha with the detail-transferred colour
    (what `fit_layers` returns when the network has learnt nothing)."""
    return {k: _finish(solos[k].astype(np.float32) / 255.0, e.alpha, solos[k].astype(np.float32) / 255.0, e.bg, True)
            for k, e in evidence.items()}


def fit_layers(bg: np.ndarray, solos: dict[int, np.ndarray], masks: dict[int, np.ndarray],
               config: OmnimatteConfig | None = None, *, frames: np.ndarray | None = None,
               label: str = "omnimatte", refiner: StartRefiner | None = None) -> FitResult:
    """Fit one RGBA layer per object.

    bg: (T, H, W, 3) uint8 clean background; solos: object id -> (T, H, W, 3) uint8 solo video;
    masks: object id -> (T, H, W) bool, where the object itself is (amodal when known: in its solo
    video nothing occludes it); frames: the input video (T, H, W, 3) uint8, when known: where it agrees
    with bg, no layer starts with any alpha off the objects (`evidence`). Returns (T, H, W, 4) uint8
    RGBA layers; the same inputs and config give the same bytes.
    """
    config = config or OmnimatteConfig()
    _check(bg, solos, masks, frames)
    ids = sorted(solos)
    if not ids:
        return FitResult({}, {"steps": 0, "seconds": 0.0, "config": config.to_dict()})
    t0 = time.perf_counter()
    evidence = gather(bg, solos, masks, frames if config.use_frames else None, **config.evidence_settings())
    refined = refiner is not None and frames is not None and config.use_frames
    with torch_threads(config.threads):
        if refined:
            evidence = refine_evidence(evidence, frames, bg, solos, masks, refiner)
        torch.manual_seed(config.seed)
        rng = torch.Generator().manual_seed(config.seed)
        device = torch.device(config.device)
        full = _Level(torch.stack([_to_tensor(solos[k]) for k in ids]).to(device),
                      torch.stack([_video(evidence[k].bg) for k in ids]).to(device),
                      torch.stack([_video(masks[k].astype(np.float32)) for k in ids]).to(device),
                      torch.stack([_video(evidence[k].alpha) for k in ids]).to(device),
                      torch.stack([_video(evidence[k].ceiling if config.ceiling else np.ones_like(evidence[k].alpha))
                                   for k in ids]).to(device))
        floor = torch.tensor(np.stack([evidence[k].floor for k in ids]), dtype=torch.float32, device=device)
        area = full.mask.mean(dim=(1, 2, 3, 4))  # (K,)
        coarse = _Level.downscaled(full, config.coarse_factor)
        net = LayerUNet(config.channels, config.depth).to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=config.lr, betas=(0.9, 0.99))
        n_frames = bg.shape[0]
        per_step = min(config.frames_per_step, n_frames)
        area_batch = area.repeat_interleave(per_step).view(-1, 1, 1, 1)
        floor_batch = floor.repeat_interleave(per_step, dim=0).view(-1, 3, 1, 1)
        terms: dict[str, float] = {}
        with make_progress("steps") as progress:
            task = progress.add_task(f"{label}: fitting {len(ids)} layer(s)", total=config.steps)
            for step in range(config.steps):
                level = coarse if step < config.coarse_steps else full
                chosen = torch.randperm(n_frames, generator=rng)[:per_step].to(device)
                solo, bgb, mask, start, ceiling = level.batch(chosen)
                rgb, alpha = _forward(net, solo, bgb, start, config.prior_weight, ceiling)
                for group in opt.param_groups:
                    group["lr"] = _lr_at(step, config)
                loss, terms = losses.total_loss(rgb, alpha, bgb, solo, mask, start, area_batch, floor_batch,
                                                losses.weights_at(step, config), config.l0_sharpness)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                progress.advance(task)
        fit_seconds = time.perf_counter() - t0
        layers = {}
        with torch.no_grad():
            for i, k in enumerate(ids):
                rgb_chunks, alpha_chunks = [], []
                for first in range(0, n_frames, 8):
                    sel = torch.arange(first, min(first + 8, n_frames), device=device)
                    rgb, alpha = _forward(net, full.solo[i, sel], full.bg[i, sel], full.start[i, sel],
                                          config.prior_weight, full.ceiling[i, sel])
                    rgb_chunks.append(rgb.permute(0, 2, 3, 1).cpu().numpy())
                    alpha_chunks.append(alpha[:, 0].cpu().numpy())
                layers[k] = _finish(np.concatenate(rgb_chunks), np.concatenate(alpha_chunks),
                                    solos[k].astype(np.float32) / 255.0, evidence[k].bg, config.detail_transfer)
    seconds = time.perf_counter() - t0
    return FitResult(layers, {"steps": config.steps, "fit_seconds": round(fit_seconds, 3),
                              "seconds": round(seconds, 3), "seconds_per_layer": round(seconds / len(ids), 3),
                              "final_terms": {k: round(v, 6) for k, v in terms.items()},
                              "evidence": {str(k): evidence[k].summary() for k in ids}, "start_refined": refined,
                              "config": config.to_dict()})
