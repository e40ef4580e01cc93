"""CasperNet: a factorised space-time U-Net conditioned on the input video and the trimask.

Every convolution is 2D and runs per frame; frames exchange information through a temporal
1D convolution in each residual block and through space-time self-attention at the lowest
resolution only, so the network trains on a CPU at 64x64 and the same code scales on a GPU.
The clean clip is predicted as ``base + residual`` with the residual head initialised to zero,
where the base is the input video or, with ``config.prefill`` "cv2" or "median", the input with its
remove region filled by a classical method (`prefill`): an untrained network returns the base, and
training only learns what to change.
"""

from __future__ import annotations

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn
from torch.nn import functional as F

from genbench.models.casper.config import CasperConfig

COND_CHANNELS = 5  # input video (3) + remove mask (1) + preserve mask (1); + 3 for the pre-filled clip


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class TemporalMix(nn.Module):
    """x + a replicate-padded conv1d over time at every pixel; x: (B*T, C, H, W), `frames` = T. Zero-initialised."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.conv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, padding_mode="replicate")
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        # The 1D kernel runs as a (k, 1) conv2d over (B, C, T, H*W): one image per clip rather than
        # B*H*W sequences of length T; the same sums (the same bytes on mini-v2) in about 0.8x the time.
        bt, c, h, w = x.shape
        y = F.silu(self.norm(x)).reshape(bt // frames, frames, c, h * w).transpose(1, 2)
        r = self.conv.kernel_size[0] // 2
        y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), self.conv.weight[..., None], self.conv.bias)
        return x + y.transpose(1, 2).reshape(bt, c, h, w)


class ResBlock(nn.Module):
    """Per-frame residual block with a timestep shift, followed by temporal mixing."""

    def __init__(self, cin: int, cout: int, temb: int, temporal_kernel: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = _norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2, self.conv2 = _norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.temporal = TemporalMix(cout, temporal_kernel)

    def forward(self, x: torch.Tensor, temb: torch.Tensor, frames: int) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.temporal(self.skip(x) + h, frames)


class SpaceTimeAttention(nn.Module):
    """Self-attention over all T*H*W positions of a clip (used at the lowest resolution only)."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        bt, c, h, w = x.shape
        y = self.norm(x).reshape(bt // frames, frames, c, h * w).permute(0, 1, 3, 2).reshape(bt // frames, -1, c)
        y, _ = self.attn(y, y, y, need_weights=False)
        y = y.reshape(bt // frames, frames, h * w, c).permute(0, 1, 3, 2).reshape(bt, c, h, w)
        return x + y


class CasperNet(nn.Module):
    """forward(noisy, video, trimask, timesteps, prefill) -> predicted clean clip.

    noisy, video: (B, 3, T, H, W) float in [-1, 1]; trimask: (B, 2, T, H, W) float in {0, 1}
    (channel 0 remove, channel 1 preserve; both 0 = uncertain); timesteps: (B,) int;
    prefill: (B, 3, T, H, W) in [-1, 1], required when config.prefill is not "none", else ignored.
    H and W must be multiples of `config.stride` (the pipeline pads). Returns (B, 3, T, H, W).
    """

    def __init__(self, config: CasperConfig) -> None:
        super().__init__()
        self.config = config
        ch, temb, k = config.channels, config.time_embed_dim, config.temporal_kernel
        self.time_proj = Timesteps(ch[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(ch[0], temb)
        self.uses_prefill = config.prefill != "none"
        self.conv_in = nn.Conv2d(3 + COND_CHANNELS + 3 * self.uses_prefill, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = ch[0]
        for i, c in enumerate(ch):
            self.down.append(nn.ModuleList(ResBlock(prev if j == 0 else c, c, temb, k) for j in range(config.blocks)))
            prev = c
            if i < len(ch) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid1 = ResBlock(ch[-1], ch[-1], temb, k)
        self.mid_attn = SpaceTimeAttention(ch[-1], config.attention_heads) if config.attention_heads else None
        self.mid2 = ResBlock(ch[-1], ch[-1], temb, k)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(ch))):
            c = ch[i]
            self.up.append(nn.ModuleList(ResBlock(2 * c if j == 0 else c, c, temb, k) for j in range(config.blocks)))
            if i > 0:
                self.upsample.append(nn.Conv2d(c, ch[i - 1], 3, padding=1))
        self.norm_out = _norm(ch[0])
        self.conv_out = nn.Conv2d(ch[0], 3, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, noisy: torch.Tensor, video: torch.Tensor, trimask: torch.Tensor,
                timesteps: torch.Tensor, prefill: torch.Tensor | None = None) -> torch.Tensor:
        b, _, t, h, w = video.shape
        stride = self.config.stride
        if h % stride or w % stride:
            raise ValueError(f"height and width must be multiples of {stride}, got {h}x{w}")

        def frames_first(x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B*T, C, H, W)
            return x.transpose(1, 2).reshape(b * t, x.shape[1], h, w)

        inputs = [noisy, video, trimask]
        base = video
        if self.uses_prefill:
            if prefill is None:
                raise ValueError(f"config {self.config.name!r} needs the pre-filled clip ({self.config.prefill})")
            inputs.append(prefill)
            base = prefill
        x = torch.cat([frames_first(v) for v in inputs], dim=1)
        emb = self.time_embed(self.time_proj(timesteps.reshape(-1)).to(x.dtype))
        emb = emb.repeat_interleave(t, dim=0)
        x = self.conv_in(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                x = block(x, emb, t)
            skips.append(x)
            if i < len(self.downsample):
                x = self.downsample[i](x)
        x = self.mid1(x, emb, t)
        if self.mid_attn is not None:
            x = self.mid_attn(x, t)
        x = self.mid2(x, emb, t)
        for i, blocks in enumerate(self.up):
            x = torch.cat([x, skips.pop()], dim=1)
            for block in blocks:
                x = block(x, emb, t)
            if i < len(self.upsample):
                x = self.upsample[i](F.interpolate(x, scale_factor=2.0, mode="nearest"))
        residual = self.conv_out(F.silu(self.norm_out(x)))
        return base + residual.reshape(b, t, 3, h, w).transpose(1, 2)
