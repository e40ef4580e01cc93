"""The training loop behind ``genbench train casper``.

Per step: a batch of augmented windows (`data.make_batch`, drawn from a stream seeded by
(seed, step)), a timestep and noise per clip from a torch generator seeded the same way, the
DDPM forward process (`pipeline.training_scheduler`), x0 prediction, a change-weighted MSE,
AdamW with gradient clipping, and an EMA of the weights (diffusers' `EMAModel`). Because every
random draw depends only on (seed, step), a resumed run repeats an uninterrupted one exactly.
Checkpoints (`checkpoint`) are written every `checkpoint_every` steps, every `checkpoint_minutes`
and at the end; validation on the benchmark split through `genbench.benchmark` runs every
`val_every` steps and its numbers go into ``OUT/validation.jsonl`` and the checkpoint's config.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel

from genbench.errors import GenbenchError, require_at_least
from genbench.models.casper import checkpoint as ckpt
from genbench.models.casper.config import CasperConfig, get_config
from genbench.models.casper.data import make_batch, open_sources
from genbench.models.casper.device import resolve_device
from genbench.models.casper.model import CasperNet
from genbench.models.casper.pipeline import training_scheduler
from genbench.progress import get_logger, make_progress

log = get_logger("train")
VALIDATION_FILE = "validation.jsonl"
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainSettings:
    """What `train` does. batch_size / learning_rate None: the config's. precision: auto (bf16 on a
    GPU that has it, else fp32), fp32, bf16 or fp16 (fp16 with a gradient scaler)."""

    data: list[Path]
    out: Path
    config: Any = None  # a name from the backbone's configs (None: its default), or a config of your own
    backbone: str = "pixel"  # a name in `backbones.BACKBONES`
    pretrained: Path | None = None  # wan2.1-fun-inp: the local diffusers folder (transformer/, vae/)
    lora_rank: int | None = None  # wan2.1-fun-inp: 0 full fine-tuning, > 0 LoRA of that rank (None: the config's)
    embeddings: Path | None = None  # wan2.1-fun-inp: precomputed prompt embeddings (None: zeros)
    init: Path | None = None  # pixel: fine-tune from this checkpoint's weights (config: its own, passed as `config`)
    steps: int = 1000
    weights: list[float] | None = None
    split: str = "train"
    seed: int = 0
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_schedule: str = "constant"
    warmup: int = 50
    resume: bool = False
    device: str = "auto"
    precision: str = "auto"
    checkpoint_every: int = 500
    checkpoint_minutes: float = 5.0
    val_data: Path | str | None = None  # a dataset, None (no validation) or DEFAULT_VALIDATION
    val_split: str | None = None  # None: val, or the validation data's only split
    val_every: int = 0  # 0: validate only at the end, when val_data is set
    val_max_frames: int | None = None
    log_every: int = 50
    save_dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_at_least("--steps", self.steps)
        if self.batch_size is not None:
            require_at_least("--batch-size", self.batch_size)
        if self.learning_rate is not None and not self.learning_rate >= 0:  # NaN too
            raise GenbenchError(f"--lr must be >= 0, got {self.learning_rate}")
        require_at_least("--val-every", self.val_every, 0, what="0: validate only at the end")
        require_at_least("--checkpoint-every", self.checkpoint_every, 0, what="0: by time and at the end only")
        if self.lr_schedule not in LR_SCHEDULES:
            raise GenbenchError(f"unknown learning-rate schedule {self.lr_schedule!r}; use one of {LR_SCHEDULES}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise GenbenchError(f"unknown precision {self.precision!r}; use auto, fp32, bf16 or fp16")


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


DEFAULT_VALIDATION = "default"  # genbench's validation split (seeds disjoint from the benchmark), built on first use


class Trainer:
    """Holds the model, EMA, optimiser and data of one run; `run()` trains to `settings.steps`."""

    def __init__(self, settings: TrainSettings) -> None:
        self.config = settings.config if isinstance(settings.config, CasperConfig) else get_config(
            settings.config or "tiny")
        self._open_run(settings, self.config.prefill)
        settings = self.s
        torch.manual_seed(settings.seed)  # the initial weights
        self.model = CasperNet(self.config).to(self.device)
        if settings.init is not None and not settings.resume:  # fine-tuning: a trained model's weights
            self.model.load_state_dict(ckpt.from_pretrained(settings.init).state_dict())
        self.ema = EMAModel(self.model.parameters(), decay=self.config.ema_decay)
        self.ema.to(self.device)
        self.lr = self.config.learning_rate if settings.learning_rate is None else settings.learning_rate
        self.batch_size = self.config.batch_size if settings.batch_size is None else settings.batch_size
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=0.0)
        self.lr_scheduler = get_scheduler("cosine" if settings.lr_schedule == "cosine" else "constant_with_warmup",
                                          self.optimizer, num_warmup_steps=settings.warmup,
                                          num_training_steps=settings.steps)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == torch.float16)
        self.noise_scheduler = training_scheduler(self.config)
        self.step = 0
        self.losses: list[float] = []
        self.validations: list[dict[str, Any]] = []
        if settings.resume:
            self._load()
        elif (self.out / ckpt.STATE_FILE).exists():
            raise GenbenchError(f"{self.out} already holds a training run; pass --resume to continue it or "
                                "choose another --out")

    def _open_run(self, settings: TrainSettings, prefill: str) -> None:
        """What every backbone's trainer does first: the output folder, training and validation data
        (a bad validation set fails now, not after training), the device and autocast dtype."""
        self.s = settings
        self.out = Path(settings.out)
        self.sources = open_sources(settings.data, settings.weights, settings.split, prefill)
        if settings.val_data is not None:
            from genbench.benchmark.split import refuse_benchmark_content, validation_split
            from genbench.samples import removal_samples

            val_data = validation_split() if settings.val_data == DEFAULT_VALIDATION else Path(settings.val_data)
            refuse_benchmark_content(val_data, "validation (model selection)")
            val_split = removal_samples(val_data, settings.val_split, prefer="val")[0].split
            self.s = replace(settings, val_data=val_data, val_split=val_split)
        self.device = resolve_device(self.s.device)
        self.amp = _autocast_dtype(self.s.precision, self.device)

    # -- one step ------------------------------------------------------------------------------------
    def train_step(self) -> float:
        """One optimisation step on the batch of (seed, step); returns the loss."""
        seeds = np.random.SeedSequence((self.s.seed, self.step))
        rng = np.random.default_rng(seeds)
        batch = make_batch(self.sources, self.batch_size, self.config.frames, self.config.crop, rng,
                           self.config.change_weight)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        gen = torch.Generator("cpu").manual_seed(int(seeds.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        target = batch["target"]
        noise = torch.randn(target.shape, generator=gen).to(self.device)
        t = torch.randint(0, self.config.train_timesteps, (target.shape[0],), generator=gen).to(self.device)
        noisy = self.noise_scheduler.add_noise(target, noise, t)
        self.model.train()
        with torch.autocast(self.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None):
            pred = self.model(noisy, batch["video"], batch["trimask"], t, batch["prefill"])
        w = batch["weight"]
        loss = (w * (pred.float() - target) ** 2).sum() / (w.sum() * 3)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.lr_scheduler.step()
        self.ema.step(self.model.parameters())
        self.step += 1
        value = float(loss.detach())
        self.losses.append(value)
        return value

    # -- the run -------------------------------------------------------------------------------------
    def run(self) -> Path:
        """Train from the current step to `settings.steps`; returns the checkpoint folder."""
        s = self.s
        last_save = time.monotonic()
        start_step, t0 = self.step, time.perf_counter()
        with make_progress("steps") as progress:
            task = progress.add_task("casper: training", total=s.steps, completed=self.step)
            while self.step < s.steps:
                loss = self.train_step()
                recent = float(np.mean(self.losses[-50:]))
                progress.update(task, advance=1, description=f"casper: training  loss {recent:.4f}")
                if s.log_every and self.step % s.log_every == 0:
                    rate = (self.step - start_step) / max(time.perf_counter() - t0, 1e-9)
                    log.info("step %d/%d  loss %.5f (last 50: %.5f)  %.2f steps/s", self.step, s.steps, loss,
                             recent, rate)
                due = (s.checkpoint_every and self.step % s.checkpoint_every == 0) or \
                    time.monotonic() - last_save > 60 * s.checkpoint_minutes
                if due and self.step < s.steps:
                    self.save()
                    last_save = time.monotonic()
                if s.val_data is not None and s.val_every and self.step % s.val_every == 0 and self.step < s.steps:
                    self.validate()
        if s.val_data is not None:
            self.validate()  # saves before and after scoring
        else:
            self.save()
        return self.out

    # -- checkpoints ---------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.s).items()}
        settings["data"] = [str(p) for p in self.s.data]
        return {"step": self.step, "settings": settings, "batch_size": self.batch_size, "learning_rate": self.lr,
                "data": [{"root": str(src.root), "generator": src.generator, "weight": src.weight,
                          "samples": len(src.samples)} for src in self.sources],
                "loss_last_100": float(np.mean(self.losses[-100:])) if self.losses else None,
                "validation": self.validations[-1] if self.validations else None}

    def save(self, *, quiet: bool = False) -> None:
        """EMA weights as the model (config.json + model.safetensors), and the full training state."""
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        names = [n for n, _ in self.model.named_parameters()]
        tensors.update({f"ema.{n}": p for n, p in zip(names, self.ema.shadow_params, strict=True)})
        opt = self.optimizer.state_dict()
        for index, state in opt["state"].items():
            for key, value in state.items():
                tensors[f"opt.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
        info = {"step": self.step, "config": self.config.name, "seed": self.s.seed,
                "ema_optimization_step": self.ema.optimization_step, "param_groups": opt["param_groups"],
                "lr_scheduler": self.lr_scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "losses": self.losses, "validations": self.validations}
        ckpt.save_training_state(self.out, tensors, info)
        self.ema.store(self.model.parameters())
        self.ema.copy_to(self.model.parameters())
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[self.s.save_dtype]
        ckpt.save_pretrained(self.model, self.out, dtype=dtype, info=self.info())
        self.ema.restore(self.model.parameters())
        if not quiet:
            log.info("step %d: checkpoint written to %s", self.step, self.out)

    def _load(self) -> None:
        tensors, info = ckpt.load_training_state(self.out)
        if info.get("config") != self.config.name:
            raise GenbenchError(f"{self.out} was trained with config {info.get('config')!r}, not "
                                f"{self.config.name!r}; pass --config {info.get('config')}")
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        names = [n for n, _ in self.model.named_parameters()]
        self.ema.load_state_dict({"optimization_step": int(info["ema_optimization_step"]),
                                  "shadow_params": [tensors[f"ema.{n}"].to(self.device) for n in names]})
        self._restore_progress(tensors, info)

    def _restore_progress(self, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> None:
        """Optimizer, lr schedule, loss scaler, step and history of a saved run (any backbone)."""
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("opt."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
        for group in self.optimizer.param_groups:  # the lr schedule of this run, from its own step count
            group["initial_lr"] = self.lr
        self.lr_scheduler.load_state_dict(info["lr_scheduler"])
        self.scaler.load_state_dict(info["scaler"])
        self.step = int(info["step"])
        self.losses = list(info.get("losses", []))
        self.validations = list(info.get("validations", []))
        if self.step >= self.s.steps:
            log.info("%s is already at step %d of %d; nothing to train", self.out, self.step, self.s.steps)

    # -- validation ----------------------------------------------------------------------------------
    def validate(self) -> dict[str, Any]:
        """Score the EMA checkpoint on the validation split with genbench.benchmark; returns per-region means."""
        from genbench.benchmark.harness import EvalSettings, evaluate
        from genbench.benchmark.results import summarize

        self.save(quiet=True)
        val_out = self.out / "val"
        shutil.rmtree(val_out / "predictions", ignore_errors=True)  # the cache key cannot see new weights
        result = evaluate([f"casper:{self.out}"], self.s.val_data, val_out,
                          EvalSettings(split=self.s.val_split, max_frames=self.s.val_max_frames,
                                       device=str(self.device)))
        regions = summarize(result.runs[0].clips)["regions"]
        record = {"step": self.step, "regions": regions}
        self.validations.append(record)
        with (self.out / VALIDATION_FILE).open("a") as f:
            f.write(json.dumps(record) + "\n")
        log.info("step %d validation: %s", self.step, "  ".join(
            f"{r} PSNR {m['psnr']:.2f} LPIPS {m['lpips']:.4f}" for r, m in regions.items()))
        self.save()  # the config now carries the validation numbers
        return record


def train(settings: TrainSettings) -> Path:
    """Train (or resume) a Casper model on `settings.backbone` as `settings` say; returns the checkpoint folder."""
    from genbench.models.casper.backbones import get_backbone

    return get_backbone(settings.backbone).trainer_class()(settings).run()
