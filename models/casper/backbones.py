"""The backbones Casper trains and runs on: one registry, so training and inference never branch on a name.

A backbone names, as lazy ``"module:attr"`` strings (nothing heavy is imported to list them):
its named configs, the trainer class behind ``genbench train casper --backbone NAME``, and the
loader that turns a checkpoint folder into a ``remove(frames, trimask)`` callable. Its checkpoints
carry its ``format`` in ``config.json``, so ``casper:DIR`` finds the backbone from the folder alone.

- ``pixel``: the small pixel-space `CasperNet` (configs ``tiny``, ``small``, ``base``);
- ``wan2.1-fun-inp``: diffusers' `WanTransformer3DModel` + `AutoencoderKLWan` with the Fun-InP
  input layout, fine-tuned from a local pretrained folder (`wan`).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genbench.errors import GenbenchError
from genbench.registry import Registry


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Backbone:
    """name: what --backbone takes; format: the ``format`` field of its checkpoints' config.json;
    configs: ``"module:attr"`` of a dict name -> config; default_config: the name used without --config;
    trainer: ``"module:Class"`` constructed with a `TrainSettings`, with ``run() -> Path``;
    pipeline: ``"module:function"`` (folder, device, *, steps, seed, snap, views) -> remove(frames, trimask)."""

    name: str
    format: str
    configs: str
    default_config: str
    trainer: str
    pipeline: str

    def config(self, name: str | None) -> Any:
        configs = _resolve(self.configs)
        name = name or self.default_config
        if name not in configs:
            raise GenbenchError(f"unknown Casper config {name!r}; use one of {', '.join(configs)} "
                                f"(backbone {self.name})")
        return configs[name]

    def trainer_class(self) -> type:
        return _resolve(self.trainer)

    def load_pipeline(self, folder: Path, device: str, **options: Any) -> Any:
        return _resolve(self.pipeline)(folder, device, **options)


BACKBONES = Registry("Casper backbone")
BACKBONES.register("pixel", Backbone(
    "pixel", "genbench-casper/1", "genbench.models.casper.config:CONFIGS", "tiny",
    "genbench.models.casper.train:Trainer", "genbench.models.casper.pipeline:load_pipeline"))
BACKBONES.register("wan2.1-fun-inp", Backbone(
    "wan2.1-fun-inp", "genbench-casper-wan/1", "genbench.models.casper.wan:CONFIGS", "1.3b",
    "genbench.models.casper.wan_train:WanTrainer", "genbench.models.casper.wan_pipeline:load_pipeline"))


def get_backbone(name: str) -> Backbone:
    return BACKBONES.get(name)


def backbone_of(folder: Path) -> Backbone:
    """The backbone that wrote the checkpoint in `folder` (from its config.json's format)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise GenbenchError(f"{folder}: not a Casper checkpoint (no config.json); pass a folder written by "
                            "`genbench train casper`")
    fmt = json.loads(path.read_text()).get("format")
    for name in BACKBONES:
        backbone = get_backbone(name)
        if backbone.format == fmt:
            return backbone
    raise GenbenchError(f"{path}: format {fmt!r} is not one of genbench's Casper backbones "
                        f"({', '.join(get_backbone(n).format for n in BACKBONES)})")
