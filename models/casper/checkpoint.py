"""Checkpoints as folders: ``config.json`` + ``model.safetensors``, plus the state that resumes training.

A model folder loads with no other knowledge (`from_pretrained`). A training run's folder holds
the same two files (the EMA weights, used for inference) and ``training_state.safetensors`` +
``training_state.json`` (raw weights, optimiser moments, EMA shadow, step), so
``genbench train casper --resume`` continues exactly where it stopped. Every file is written
to a temporary name and renamed, so a killed run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from genbench.errors import GenbenchError
from genbench.models.casper.config import CasperConfig
from genbench.models.casper.model import CasperNet

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "training_state.safetensors"
STATE_JSON = "training_state.json"
FORMAT = "genbench-casper/1"


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _atomic(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def save_pretrained(model: CasperNet, folder: Path, *, dtype: torch.dtype = torch.float32,
                    info: dict[str, Any] | None = None) -> Path:
    """Write `model` as `folder`/config.json + model.safetensors (weights cast to `dtype`).

    info: provenance (steps, data, seeds, metrics) stored under "training" in config.json.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    _atomic(folder / WEIGHTS_FILE, lambda p: save_file(tensors, str(p), metadata={"format": FORMAT}))
    _write_json(folder / CONFIG_FILE, {"format": FORMAT, "config": model.config.to_dict(), "training": info or {}})
    return folder


def read_config(folder: Path) -> tuple[CasperConfig, dict[str, Any]]:
    """(config, training info) of a checkpoint folder."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise GenbenchError(f"{folder}: not a Casper checkpoint (no {CONFIG_FILE}); pass a folder written by "
                            "`genbench train casper`")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise GenbenchError(f"{path}: format {data.get('format')!r} is not {FORMAT!r}")
    return CasperConfig.from_dict(data["config"]), data.get("training", {})


def from_pretrained(folder: Path, device: str | torch.device = "cpu") -> CasperNet:
    """The model in `folder`, in float32 on `device`, in eval mode."""
    config, _ = read_config(folder)
    weights = Path(folder) / WEIGHTS_FILE
    if not weights.is_file():
        raise GenbenchError(f"{folder}: has {CONFIG_FILE} but no {WEIGHTS_FILE}")
    model = CasperNet(config)
    state = {k: v.float() for k, v in load_file(str(weights), device="cpu").items()}
    model.load_state_dict(state)
    return model.to(device).eval()


def save_training_state(folder: Path, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> None:
    """Raw weights, optimiser and EMA tensors (flat names) and a JSON of scalars (step, settings)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    _atomic(folder / STATE_FILE, lambda p: save_file(flat, str(p)))
    _write_json(folder / STATE_JSON, info)


def load_training_state(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    folder = Path(folder)
    if not (folder / STATE_FILE).is_file() or not (folder / STATE_JSON).is_file():
        raise GenbenchError(f"{folder}: no training state to resume ({STATE_FILE}); train without --resume first")
    return load_file(str(folder / STATE_FILE)), json.loads((folder / STATE_JSON).read_text())
