"""`genbench train casper --data DIR[,DIR...] [--backbone NAME] --config NAME --out DIR [--steps N] [--resume]`."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from genbench.errors import GenbenchError

if TYPE_CHECKING:
    from genbench.models.casper.config import CasperConfig


def _weights(value: str | None, count: int) -> list[float] | None:
    if value is None:
        return None
    try:
        weights = [float(w) for w in value.split(",")]
    except ValueError:
        raise GenbenchError(f"--weights {value!r}: give {count} numbers separated by commas") from None
    return weights


def _val_data(value: str | None) -> Path | str | None:
    from genbench.models.casper.train import DEFAULT_VALIDATION

    if value == "none":
        return None
    return Path(value) if value is not None else DEFAULT_VALIDATION


def _init(value: str | None, config_name: str | None) -> tuple[Path | None, CasperConfig | None]:
    """--init: the checkpoint folder to start from (`shipped`: the reference Casper; a shipped name: that one)
    and its config."""
    if value is None:
        return None, None
    from genbench.models.casper.checkpoint import read_config
    from genbench.models.casper.method import checkpoint_folder

    folder = checkpoint_folder(None if value == "shipped" else value)
    config, _ = read_config(folder)
    if config_name is not None and config_name != config.name:
        raise GenbenchError(f"--init {value} holds a {config.name!r} model, not {config_name!r}: drop --config")
    return folder, config


def run(args: argparse.Namespace) -> int:
    from genbench.models.casper.backbones import get_backbone

    backbone = get_backbone(args.backbone)
    named = backbone.config(args.config)  # an unknown config fails before any data is read
    wan_only = {"--pretrained": args.pretrained, "--lora-rank": args.lora_rank, "--embeddings": args.embeddings}
    given = [flag for flag, value in wan_only.items() if value is not None]
    if backbone.name == "pixel" and given:
        raise GenbenchError(f"{', '.join(given)}: only for --backbone wan2.1-fun-inp")
    pixel_only = [flag for flag, value in {"--init": args.init, "--prefill": args.prefill, "--crop": args.crop}.items()
                  if value]
    if backbone.name != "pixel" and pixel_only:
        raise GenbenchError(f"{', '.join(pixel_only)}: only for --backbone pixel (wan2.1-fun-inp starts from "
                            "--pretrained)")
    init, init_config = _init(args.init, args.config)
    config = init_config or named  # fine-tuning keeps the checkpoint's own config (inference settings included)
    if args.prefill and args.prefill != config.prefill:
        config = replace(config, prefill=args.prefill)
    if args.crop and args.crop != config.crop:
        config = replace(config, crop=args.crop)  # the config checks it against the stride
    data = [Path(d.strip()) for d in args.data.split(",") if d.strip()]
    for root in data:
        if not root.is_dir():
            raise GenbenchError(f"--data {root}: no such folder; make training data with `genbench render`, "
                                "`genbench paste` or `genbench tripod` first")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from genbench.models.casper.train import TrainSettings, train

    settings = TrainSettings(data=data, out=Path(args.out), config=config.name if config is named else config,
                             init=init, steps=args.steps,
                             backbone=backbone.name, pretrained=Path(args.pretrained) if args.pretrained else None,
                             lora_rank=args.lora_rank, embeddings=Path(args.embeddings) if args.embeddings else None,
                             weights=_weights(args.weights, len(data)), split=args.split, seed=args.seed,
                             batch_size=args.batch_size, learning_rate=args.lr, lr_schedule=args.lr_schedule,
                             resume=args.resume, device=args.device, precision=args.precision,
                             checkpoint_every=args.checkpoint_every, val_data=_val_data(args.val_data),
                             val_every=args.val_every, val_split=args.val_split)
    out = train(settings)
    print(f"{out}: Casper ({backbone.name}, {config.name}) trained to step {settings.steps}; "
          f"use it with `genbench eval --method casper:{out}`")
    return 0
