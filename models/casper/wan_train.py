"""The training loop of the Wan2.1-Fun-InP backbone (``genbench train casper --backbone wan2.1-fun-inp``).

The same run as the pixel backbone's `train.Trainer` (data, the (seed, step) random streams,
checkpoint cadence, validation through the benchmark, resume), with the model step of Wan's
flow matching as gen-omnimatte-public trains it (``scripts/wan2.1_fun/train.py``, see `wan`):
target and input clip encoded by the frozen VAE, a timestep index drawn uniformly from the
`FlowMatchEulerDiscreteScheduler`'s 1000 (shifted) sigmas, ``noisy = (1 - sigma) x + sigma n``,
the transformer predicts ``n - x`` and the loss is its MSE. AdamW with weight decay, gradient
clipping, bf16 autocast on a GPU, gradient checkpointing, all transformer weights or LoRA
adapters (peft) trained; no EMA (a second copy of 1.3 B weights; gen-omnimatte does not use one).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.optimization import get_scheduler

from genbench.errors import GenbenchError
from genbench.models.casper import checkpoint as ckpt
from genbench.models.casper import wan
from genbench.models.casper.data import make_batch
from genbench.models.casper.train import Trainer, TrainSettings, log


def flow_scheduler(config: wan.WanCasperConfig) -> FlowMatchEulerDiscreteScheduler:
    """Wan Fun's schedule: 1000 training timesteps, sigmas shifted by `config.shift`."""
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=config.train_timesteps, shift=config.shift)


class WanTrainer(Trainer):
    """Fine-tunes a pretrained Wan2.1-Fun-InP transformer as Casper; `run()` (inherited) trains to `steps`."""

    def __init__(self, settings: TrainSettings) -> None:
        config = settings.config
        if not isinstance(config, wan.WanCasperConfig):
            from genbench.models.casper.backbones import get_backbone

            config = get_backbone(settings.backbone).config(config)
        if settings.lora_rank is not None:
            config = replace(config, lora_rank=settings.lora_rank)
        self.config = config
        self.pretrained = wan.check_pretrained(settings.pretrained)
        self._open_run(settings, config.prefill)
        settings = self.s
        torch.manual_seed(settings.seed)  # LoRA's initial weights
        self.vae = wan.load_vae(self.pretrained).to(self.device)
        self.model = wan.load_transformer(self.pretrained, self.vae)
        self.model.requires_grad_(config.lora_rank == 0)
        if config.lora_rank:
            wan.add_lora(self.model, config)
        if config.gradient_checkpointing:
            self.model.enable_gradient_checkpointing()
        self.model.to(self.device)
        kept = self.out / wan.EMBEDDINGS_FILE  # a resumed run conditions on the embeddings it started with
        source = settings.embeddings or (kept if settings.resume and kept.is_file() else None)
        embeddings = wan.read_embeddings(source, self.model) if source else None
        self.context = wan.context(self.model, config, embeddings, self.device)
        self.params = wan.trainable_state(self.model)
        self.lr = settings.learning_rate or config.learning_rate
        self.batch_size = settings.batch_size or config.batch_size
        self.optimizer = torch.optim.AdamW(self.params.values(), lr=self.lr, weight_decay=config.weight_decay)
        self.lr_scheduler = get_scheduler("cosine" if settings.lr_schedule == "cosine" else "constant_with_warmup",
                                          self.optimizer, num_warmup_steps=settings.warmup,
                                          num_training_steps=settings.steps)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == torch.float16)
        self.noise_scheduler = flow_scheduler(config)
        self.step = 0
        self.losses: list[float] = []
        self.validations: list[dict] = []
        if settings.resume:
            self._load()
        elif (self.out / ckpt.STATE_FILE).exists():
            raise GenbenchError(f"{self.out} already holds a training run; pass --resume to continue it or "
                                "choose another --out")
        wan.copy_embeddings(settings.embeddings, self.out)

    def train_step(self) -> float:
        """One optimisation step on the batch of (seed, step); returns the loss."""
        seeds = np.random.SeedSequence((self.s.seed, self.step))
        rng = np.random.default_rng(seeds)
        batch = make_batch(self.sources, self.batch_size, self.config.frames, self.config.crop, rng,
                           self.config.change_weight)
        gen = torch.Generator("cpu").manual_seed(int(seeds.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        autocast = torch.autocast(self.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None)
        with torch.no_grad(), autocast:
            latents = wan.encode(self.vae, batch["target"].to(self.device)).float()
            cond = wan.condition(self.vae, batch["video"].to(self.device), batch["trimask"].to(self.device)).float()
        noise = torch.randn(latents.shape, generator=gen).to(self.device)
        index = torch.randint(0, self.config.train_timesteps, (latents.shape[0],), generator=gen)
        timesteps = self.noise_scheduler.timesteps[index].to(self.device)
        sigmas = self.noise_scheduler.sigmas[index].to(self.device, latents.dtype).view(-1, 1, 1, 1, 1)
        noisy = (1.0 - sigmas) * latents + sigmas * noise
        self.model.train()
        with autocast:
            pred = wan.velocity(self.model, noisy, cond, timesteps, self.context)
        loss = torch.nn.functional.mse_loss(pred.float(), noise - latents)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params.values(), self.config.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.lr_scheduler.step()
        self.step += 1
        value = float(loss.detach())
        self.losses.append(value)
        return value

    def info(self) -> dict:
        return {**super().info(), "backbone": self.s.backbone, "pretrained": str(self.pretrained)}

    def save(self, *, quiet: bool = False) -> None:
        """The fine-tuned weights as the model (`wan.save_checkpoint`), and the optimiser state to resume."""
        names = list(self.params)
        tensors = {f"model.{n}": p for n, p in self.params.items()}
        opt = self.optimizer.state_dict()
        for index, state in opt["state"].items():
            for key, value in state.items():
                tensors[f"opt.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
        info = {"step": self.step, "config": self.config.name, "seed": self.s.seed, "params": names,
                "param_groups": opt["param_groups"], "lr_scheduler": self.lr_scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "losses": self.losses, "validations": self.validations}
        ckpt.save_training_state(self.out, tensors, info)
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[self.s.save_dtype]
        wan.save_checkpoint(self.out, self.model, self.config, self.pretrained, dtype=dtype, info=self.info())
        if not quiet:
            log.info("step %d: checkpoint written to %s", self.step, self.out)

    def _load(self) -> None:
        tensors, info = ckpt.load_training_state(self.out)
        if info.get("config") != self.config.name or info.get("params") != list(self.params):
            raise GenbenchError(f"{self.out} was trained with config {info.get('config')!r} and other trainable "
                                f"weights; pass the same --config and --lora-rank to resume it")
        with torch.no_grad():
            for name, p in self.params.items():
                p.copy_(tensors[f"model.{name}"])
        self._restore_progress(tensors, info)

