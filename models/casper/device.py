"""The torch device a Casper checkpoint runs on, from a name (`--device`). Kept apart from the trainer so that
loading a checkpoint for inference does not import the training stack (diffusers' training utilities, ~2 s)."""

from __future__ import annotations

import torch

from genbench.errors import GenbenchError


def resolve_device(name: str) -> torch.device:
    """"auto": CUDA when available, else the CPU; "cuda..." without a CUDA device is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GenbenchError(f"--device {name}: no CUDA device here; use --device cpu")
    return torch.device(name)
