"""The small U-Net that maps (solo, |solo - bg|) to an RGBA layer, and the logits it starts from."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-3  # priors are clipped to [EPS, 1 - EPS] before the logit (uint8 0 and 255)


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="replicate"),
                         nn.LeakyReLU(0.2))


class LayerUNet(nn.Module):
    """Fully convolutional U-Net: (N, 6, H, W) -> (N, 4, H, W) logits added to a prior.

    Input channels: the solo video and |solo - bg|, both in [0, 1]. `depth` stride-2 levels with
    `channels * 2**i` (at most 4x) features; bilinear upsampling with skip connections. The last
    convolution starts at zero, so before any step the output is exactly the prior.
    Any H, W works: inputs are padded to a multiple of 2**depth and cropped back.
    """

    def __init__(self, channels: int = 16, depth: int = 3) -> None:
        super().__init__()
        widths = [channels * min(2**i, 4) for i in range(depth + 1)]
        self.depth = depth
        self.stem = nn.Sequential(_block(6, widths[0]), _block(widths[0], widths[0]))
        self.down = nn.ModuleList(
            nn.Sequential(_block(widths[i], widths[i + 1], 2), _block(widths[i + 1], widths[i + 1]))
            for i in range(depth))
        self.up = nn.ModuleList(_block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], 4, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2**self.depth
        pad = (0, (-w) % m, 0, (-h) % m)
        x = F.pad(x, pad, mode="replicate") if any(pad) else x
        skips = [self.stem(x)]
        for layer in self.down:
            skips.append(layer(skips[-1]))
        y = skips.pop()
        for layer in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = layer(torch.cat([y, skip], dim=1))
        return self.head(y)[..., :h, :w]


def prior_logits(solo: torch.Tensor, start: torch.Tensor, weight: float) -> torch.Tensor:
    """(N, 4, H, W) logits the network's output is added to: rgb from the solo video, alpha from the
    starting alpha `start` (N, 1, H, W; `evidence`: 1 on the object, the smallest alpha that explains the
    change beyond the noise floor elsewhere), blended towards 0.5 as `weight` goes from 1 to 0 (0: no
    alpha prior, as a network starts in the public code)."""
    alpha = 0.5 + weight * (start - 0.5)
    return torch.logit(torch.cat([solo, alpha], dim=1).clamp(EPS, 1 - EPS))
