"""The Wan2.1-Fun-InP backbone: diffusers' `WanTransformer3DModel` + `AutoencoderKLWan`, Casper's conditioning.

Followed: gen-omnimatte/gen-omnimatte-public at commit 96d7e65ceb681a000674f6c619abe3736dc0db75,
``scripts/wan2.1_fun/train.py`` (``--train_mode casper``: ``resize_mask``, the mask and
``inpaint_latents`` construction, flow matching) and ``videox_fun/pipeline/pipeline_wan_fun_inpaint.py``
(the trimask thresholds and temporal multidiffusion). Our own code on diffusers' classes.

The transformer's input is three latent stacks concatenated on channels (the Fun-InP layout):

- the noisy latents, ``z`` channels (16 for the real VAE);
- the **mask latents**, ``r`` channels (r = the VAE's temporal compression, 4): the trimask as a
  "keep" value per pixel (0 remove, 128/255 uncertain, 1 preserve; genbench's trimask / 255,
  which is gen-omnimatte's ``1 - mask`` in both its training and inference conventions), the first
  frame repeated r times, the frames grouped r per latent frame, resized (trilinear) to the latent grid;
- the **masked-video latents**, ``z`` channels: the VAE latents of the whole input clip, not
  masked (Casper's setting: the effects to remove lie outside the remove region).

So ``in_channels = 2 z + r`` (36 for Wan2.1-Fun-1.3B-InP). Latents are the VAE's mode, normalised
by the VAE config's ``latents_mean`` / ``latents_std``. Text conditioning is a precomputed tensor
(`context`), zeros by default, so no text encoder is loaded; an image-conditioned transformer
(``image_dim`` set, as the Fun-InP models are) gets zero image embeddings, gen-omnimatte's
setting when no reference image is given.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from genbench.errors import GenbenchError
from genbench.jsonable import dataclass_from_json, dataclass_to_json

FORMAT = "genbench-casper-wan/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
EMBEDDINGS_FILE = "embeddings.safetensors"
KEEP_UNCERTAIN = 128 / 255  # the mask-latent value of the uncertain region (trimask 128)


@dataclass(frozen=True)
class WanCasperConfig:
    """Fine-tuning and sampling settings of the Wan backbone (the network itself is the pretrained one's).

    frames: training window in frames, 4k + 1 (the VAE keeps the first frame and compresses the
    rest 4x); also the inference window. crop: training crop in pixels, a multiple of 16.
    lora_rank: 0 fine-tunes every transformer weight, > 0 trains LoRA adapters of that rank on
    `lora_targets` (alpha `lora_alpha`, None: the rank). shift: the flow-matching sigma shift
    (Wan Fun: 5). sample_steps: Euler steps at inference. text_tokens: length of the zero prompt
    embedding used when no embeddings file is given (Wan pads prompts to 512).
    """

    name: str = "1.3b"
    frames: int = 81
    crop: int = 256
    lora_rank: int = 0
    lora_alpha: float | None = None
    lora_targets: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")
    train_timesteps: int = 1000
    shift: float = 5.0
    sample_steps: int = 50
    text_tokens: int = 512
    image_tokens: int = 257  # CLIP ViT-H/14 tokens of the Fun-InP image conditioning
    batch_size: int = 1
    learning_rate: float = 2e-5
    weight_decay: float = 3e-2
    max_grad_norm: float = 0.05
    gradient_checkpointing: bool = True
    change_weight: float = 1.0  # the data loader's per-pixel weight; the latent loss is plain MSE
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.frames < 1 or (self.frames - 1) % 4:
            raise GenbenchError(f"config {self.name!r}: frames must be 4k + 1 (the Wan VAE), got {self.frames}")
        if self.crop % 16:
            raise GenbenchError(f"config {self.name!r}: crop must be a multiple of 16, got {self.crop}")
        if self.lora_rank < 0 or self.sample_steps < 1:
            raise GenbenchError(f"config {self.name!r}: lora_rank must be >= 0 and sample_steps >= 1")

    @property
    def prefill(self) -> str:
        return "none"  # the input clip is the condition; no classical pre-fill

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WanCasperConfig:
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise GenbenchError(f"config.json has unknown fields {unknown}; it was written by a newer genbench")
        return dataclass_from_json(cls, d)


CONFIGS: dict[str, WanCasperConfig] = {
    # gen-omnimatte-public's Casper run: 81 frames at 256 px, batch 8 over GPUs, AdamW 2e-5
    "1.3b": WanCasperConfig(),
    "1.3b-lora": WanCasperConfig(name="1.3b-lora", lora_rank=64, learning_rate=1e-4),
}


# -- the pretrained folder ------------------------------------------------------------------------------------
def check_pretrained(folder: Path | None) -> Path:
    """`folder` if it holds a diffusers-layout transformer/ and vae/, else a GenbenchError saying what is missing."""
    if folder is None:
        raise GenbenchError("--backbone wan2.1-fun-inp needs --pretrained DIR: a local diffusers folder with "
                            "transformer/ and vae/ (Wan2.1-Fun-1.3B-InP)")
    folder = Path(folder)
    if not folder.is_dir():
        raise GenbenchError(f"--pretrained {folder}: no such folder")
    for sub in ("transformer", "vae"):
        if not (folder / sub / "config.json").is_file():
            raise GenbenchError(f"--pretrained {folder}: no {sub}/config.json; it must be a diffusers-layout "
                                "folder with transformer/ (WanTransformer3DModel) and vae/ (AutoencoderKLWan)")
    return folder


def load_vae(folder: Path) -> Any:
    from diffusers import AutoencoderKLWan

    vae = AutoencoderKLWan.from_pretrained(check_pretrained(folder) / "vae", local_files_only=True)
    vae.requires_grad_(False)
    return vae.eval()


def load_transformer(folder: Path, vae: Any) -> Any:
    """The pretrained transformer in float32; its input must be the Fun-InP layout for `vae`."""
    from diffusers import WanTransformer3DModel

    transformer = WanTransformer3DModel.from_pretrained(check_pretrained(folder) / "transformer",
                                                        local_files_only=True, torch_dtype=torch.float32)
    z, r = vae.config.z_dim, vae.config.scale_factor_temporal
    want = 2 * z + r
    if transformer.config.in_channels != want:
        raise GenbenchError(f"{folder}/transformer has in_channels {transformer.config.in_channels}, but the Fun-InP "
                            f"layout needs {want} ({z} noise + {r} mask + {z} video latents); pass a "
                            "Wan2.1-Fun-InP transformer")
    if transformer.config.out_channels != z:
        raise GenbenchError(f"{folder}/transformer has out_channels {transformer.config.out_channels}, "
                            f"not the VAE's {z} latent channels")
    return transformer


def add_lora(transformer: Any, config: WanCasperConfig) -> None:
    """LoRA adapters (peft) on `config.lora_targets`; afterwards only they require gradients."""
    try:
        from peft import LoraConfig
    except ImportError:
        raise GenbenchError("LoRA fine-tuning needs peft, which is not installed: pip install 'genbench[wan]'") \
            from None
    transformer.add_adapter(LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha or config.lora_rank,
                                       init_lora_weights=True, target_modules=list(config.lora_targets)))
    for name, p in transformer.named_parameters():
        p.requires_grad_("lora_" in name)


def trainable_state(transformer: Any) -> dict[str, torch.Tensor]:
    """The parameters being fine-tuned (all of them, or the LoRA adapters), by name."""
    return {n: p for n, p in transformer.named_parameters() if p.requires_grad}


# -- latents and conditioning ---------------------------------------------------------------------------------
def _stats(vae: Any, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(vae.config.latents_mean, dtype=like.dtype, device=like.device).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std, dtype=like.dtype, device=like.device).view(1, -1, 1, 1, 1)
    return mean, std


def encode(vae: Any, video: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) in [-1, 1], T = 4k + 1 -> normalised latents (B, z, k + 1, H / 8, W / 8)."""
    latents = vae.encode(video).latent_dist.mode()
    mean, std = _stats(vae, latents)
    return (latents - mean) / std


def decode(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    """Normalised latents -> (B, 3, T, H, W) in [-1, 1] (not clamped)."""
    mean, std = _stats(vae, latents)
    return vae.decode(latents * std + mean, return_dict=False)[0]


def keep_mask(trimask: torch.Tensor) -> torch.Tensor:
    """(B, 2, T, H, W) remove / preserve channels (`pipeline.encode_trimask`) -> (B, 1, T, H, W):
    0 remove, 128/255 uncertain, 1 preserve (genbench's trimask / 255)."""
    remove, preserve = trimask[:, :1], trimask[:, 1:2]
    return preserve + (1.0 - remove - preserve) * KEEP_UNCERTAIN


def mask_latents(keep: torch.Tensor, latent_shape: torch.Size, temporal: int) -> torch.Tensor:
    """(B, 1, T, H, W) keep mask, T = 4k + 1 -> (B, r, k + 1, h, w), r = `temporal`: the first frame
    repeated r times, frames grouped r per latent frame, resized to the latent grid (gen-omnimatte's
    ``resize_mask``; the first latent frame holds one frame, so resizing it apart changes nothing)."""
    m = torch.cat([keep[:, :, :1].repeat_interleave(temporal, dim=2), keep[:, :, 1:]], dim=2)
    b, _, f, h, w = m.shape
    m = m.view(b, f // temporal, temporal, h, w).transpose(1, 2)
    return F.interpolate(m, size=tuple(latent_shape[2:]), mode="trilinear", align_corners=False)


def condition(vae: Any, video: torch.Tensor, trimask: torch.Tensor) -> torch.Tensor:
    """The channels concatenated after the noisy latents: (B, r + z, k + 1, h, w).

    video: (B, 3, T, H, W) in [-1, 1]; trimask: (B, 2, T, H, W) remove / preserve; T = 4k + 1,
    H and W multiples of 16."""
    video_latents = encode(vae, video)
    masks = mask_latents(keep_mask(trimask).to(video_latents.dtype), video_latents.shape,
                         vae.config.scale_factor_temporal)
    return torch.cat([masks, video_latents], dim=1)


def velocity(transformer: Any, noisy: torch.Tensor, cond: torch.Tensor, timesteps: torch.Tensor,
             context: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    """The flow-matching prediction (noise - latents) for noisy latents (B, z, t, h, w)."""
    text, image = context
    b = noisy.shape[0]
    return transformer(hidden_states=torch.cat([noisy, cond], dim=1), timestep=timesteps,
                       encoder_hidden_states=text.expand(b, -1, -1),
                       encoder_hidden_states_image=None if image is None else image.expand(b, -1, -1),
                       return_dict=False)[0]


# -- text (and image) conditioning ----------------------------------------------------------------------------
def read_embeddings(path: Path, transformer: Any) -> dict[str, torch.Tensor]:
    """A safetensors file with ``prompt_embeds`` (L, text_dim) and optionally ``image_embeds`` (N, image_dim)."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise GenbenchError(f"--embeddings {path}: no such file")
    tensors = load_file(str(path))
    text = tensors.get("prompt_embeds")
    cfg = transformer.config
    if text is None or text.ndim != 2 or text.shape[1] != cfg.text_dim:
        raise GenbenchError(f"{path}: needs 'prompt_embeds' of shape (tokens, {cfg.text_dim}); got "
                            f"{None if text is None else tuple(text.shape)}")
    image = tensors.get("image_embeds")
    if image is not None and (cfg.image_dim is None or image.ndim != 2 or image.shape[1] != cfg.image_dim):
        raise GenbenchError(f"{path}: 'image_embeds' of shape {tuple(image.shape)} does not fit the transformer "
                            f"(image_dim {cfg.image_dim})")
    return tensors


def context(transformer: Any, config: WanCasperConfig, embeddings: dict[str, torch.Tensor] | None,
            device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(text (1, L, text_dim), image (1, N, image_dim) or None): from `embeddings`, else zeros."""
    cfg = transformer.config
    embeddings = embeddings or {}
    text = embeddings.get("prompt_embeds", torch.zeros(config.text_tokens, cfg.text_dim))
    image = None
    if cfg.image_dim is not None:
        image = embeddings.get("image_embeds", torch.zeros(config.image_tokens, cfg.image_dim))
    return text[None].float().to(device), None if image is None else image[None].float().to(device)


# -- checkpoints ----------------------------------------------------------------------------------------------
def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def save_checkpoint(folder: Path, transformer: Any, config: WanCasperConfig, pretrained: Path, *,
                    dtype: torch.dtype = torch.float32, info: dict[str, Any] | None = None) -> Path:
    """`folder`/config.json (format, config, the pretrained folder, provenance) + model.safetensors (the
    fine-tuned weights only: every transformer weight, or the LoRA adapters); the VAE and, for LoRA, the
    base transformer are read from `pretrained` when the checkpoint loads."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in trainable_state(transformer).items()}
    _atomic(folder / WEIGHTS_FILE, lambda p: save_file(tensors, str(p), metadata={"format": FORMAT}))
    data = {"format": FORMAT, "backbone": "wan2.1-fun-inp", "config": config.to_dict(),
            "pretrained": str(Path(pretrained).resolve()), "training": info or {}}
    _atomic(folder / CONFIG_FILE, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))
    return folder


def copy_embeddings(path: Path | None, folder: Path) -> None:
    """Keep the prompt embeddings with the checkpoint, so inference conditions on the same text."""
    if path is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        _atomic(Path(folder) / EMBEDDINGS_FILE, lambda p: shutil.copyfile(path, p))


@dataclass
class WanParts:
    """A loaded checkpoint: transformer (fine-tuned, eval mode), VAE, config, and the conditioning context."""

    transformer: Any
    vae: Any
    config: WanCasperConfig
    context: tuple[torch.Tensor, torch.Tensor | None]


def load_checkpoint(folder: Path, device: torch.device) -> WanParts:
    """The checkpoint in `folder` (see `save_checkpoint`) on `device`, float32."""
    from safetensors.torch import load_file

    folder = Path(folder)
    data = json.loads((folder / CONFIG_FILE).read_text())
    if data.get("format") != FORMAT:
        raise GenbenchError(f"{folder / CONFIG_FILE}: format {data.get('format')!r} is not {FORMAT!r}")
    config = WanCasperConfig.from_dict(data["config"])
    pretrained = Path(data["pretrained"])
    if not pretrained.is_dir():
        raise GenbenchError(f"{folder}: its pretrained folder {pretrained} is gone; the checkpoint holds only the "
                            "fine-tuned weights and reads the VAE (and a LoRA's base transformer) from there")
    vae = load_vae(pretrained)
    transformer = load_transformer(pretrained, vae)
    transformer.requires_grad_(config.lora_rank == 0)
    if config.lora_rank:
        add_lora(transformer, config)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise GenbenchError(f"{folder}: has {CONFIG_FILE} but no {WEIGHTS_FILE}")
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    expected = set(trainable_state(transformer))
    if set(state) != expected:
        raise GenbenchError(f"{weights}: holds {len(state)} tensors, the model expects {len(expected)} "
                            f"(first differences: {sorted(set(state) ^ expected)[:3]})")
    transformer.load_state_dict(state, strict=False)
    transformer.requires_grad_(False)
    embeddings = read_embeddings(folder / EMBEDDINGS_FILE, transformer) if (folder / EMBEDDINGS_FILE).is_file() \
        else None
    transformer, vae = transformer.to(device).eval(), vae.to(device)
    return WanParts(transformer, vae, config, context(transformer, config, embeddings, device))
