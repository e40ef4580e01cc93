"""Loss terms of the layer fit as pure functions, and the schedule of their weights.

All tensors are float in [0, 1]: rgb, solo, bg (N, 3, H, W); alpha, mask (N, 1, H, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from genbench.models.omnimatte.config import OmnimatteConfig


def composite(rgb: torch.Tensor, alpha: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
    return alpha * rgb + (1 - alpha) * bg


def reconstruction(rgb: torch.Tensor, alpha: torch.Tensor, bg: torch.Tensor, solo: torch.Tensor,
                   floor: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Mean squared error of the layer over the fixed background against the solo video, each channel's
    error first shrunk by the noise floor `floor` ((N, 3, 1, 1) or a number; 0: plain L2), so that noise
    within the floor asks for no alpha."""
    error = (composite(rgb, alpha, bg) - solo).abs()
    return torch.mean(torch.square(torch.relu(error - floor)))


def smooth_reconstruction(rgb: torch.Tensor, alpha: torch.Tensor, bg: torch.Tensor, solo: torch.Tensor,
                          floor: torch.Tensor | float = 0.0, size: int = 5) -> torch.Tensor:
    """`reconstruction` of the error averaged over `size` x `size` boxes, with the floor divided by `size`
    (the noise of a box mean of independent noise): faint shadows that per-pixel noise hides still ask
    for their alpha here, while noise does not."""
    error = F.avg_pool2d(composite(rgb, alpha, bg) - solo, size, stride=1, padding=size // 2,
                         count_include_pad=False)
    return torch.mean(torch.square(torch.relu(error.abs() - floor / size)))


def alpha_l1(alpha: torch.Tensor, area: torch.Tensor) -> torch.Tensor:
    """Mean |alpha|, each sample scaled by its object's mask area `area` ((N, 1, 1, 1), as the public
    code scales the sparsity weights by the mask's mean)."""
    return torch.mean(area * alpha.abs())


def alpha_l0(alpha: torch.Tensor, area: torch.Tensor, sharpness: float = 5.0) -> torch.Tensor:
    """L0-like sparsity: mean((sigmoid(k * alpha) - 0.5) * 2), near 1 for any clearly non-zero alpha;
    scaled by `area` like `alpha_l1`."""
    return torch.mean(area * (torch.sigmoid(sharpness * alpha) - 0.5) * 2)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| over the pixels where `where` is 1."""
    return (torch.abs(pred - target) * where).sum() / (where.sum() + 1e-9)


QUIET = 0.5 / 255.0  # a starting alpha below this counts as "nothing changed here"


def mask_supervision(alpha: torch.Tensor, mask: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """Alpha should be 1 inside the object mask and 0 outside it where nothing changed beyond the noise
    floor (the starting alpha `start` is 0 there; each side averaged on its own).

    The public code asks for 0 everywhere outside the mask, shadows included, and lets reconstruction
    win them back over thousands of steps; with a few hundred steps that leaves shadows too faint
    (measured: soft IoU 0.99 -> 0.90 on a Kubric layer), so the shadow, where solo and bg differ, is
    left to the reconstruction term.
    """
    quiet = (1 - mask) * (start < QUIET).float()
    return masked_l1(alpha, mask, mask) + masked_l1(alpha, torch.zeros_like(alpha), quiet)


def inside_is_one(alpha: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The weak term kept after mask supervision ends: alpha is 1 inside the object mask."""
    return masked_l1(alpha, mask, mask)


def weights_at(step: int, config: OmnimatteConfig) -> dict[str, float]:
    """Weight of every term at `step` (0-based).

    Mask supervision fades out on a half cosine over the first `config.mask_steps` steps;
    the weak inside-is-one term takes over after it.
    """
    fade = 0.0
    if step < config.mask_steps:
        fade = 0.5 * (1 + math.cos(math.pi * step / config.mask_steps))
    return {
        "recon": config.weight_recon,
        "recon_smooth": config.weight_recon_smooth,
        "alpha_l1": config.weight_alpha_l1,
        "alpha_l0": config.weight_alpha_l0,
        "mask": config.weight_mask * fade,
        "inside": config.weight_mask_inside if step >= config.mask_steps else 0.0,
    }


def total_loss(rgb: torch.Tensor, alpha: torch.Tensor, bg: torch.Tensor, solo: torch.Tensor, mask: torch.Tensor,
               start: torch.Tensor, area: torch.Tensor, floor: torch.Tensor | float, weights: dict[str, float],
               sharpness: float = 5.0) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the terms, and each term's value (for logs). start: the starting alpha
    (N, 1, H, W); area: (N, 1, 1, 1); floor: the noise floor, (N, 3, 1, 1) or a number."""
    terms = {"recon": reconstruction(rgb, alpha, bg, solo, floor), "alpha_l1": alpha_l1(alpha, area),
             "recon_smooth": smooth_reconstruction(rgb, alpha, bg, solo, floor),
             "alpha_l0": alpha_l0(alpha, area, sharpness)}
    if weights["mask"] > 0:
        terms["mask"] = mask_supervision(alpha, mask, start)
    if weights["inside"] > 0:
        terms["inside"] = inside_is_one(alpha, mask)
    total = sum(weights[k] * v for k, v in terms.items())
    return total, {k: float(v.detach()) for k, v in terms.items()}
