"""The torch device a Casper checkpoint runs on, from a name (`--device`). Kept apart from the trainer so that
loading a checkpoint for inference does not import the training stack (diffusers' training utilities, ~2 s)."""

from __future__ import annotations

import torch

from genbench.devices import torch_device


def resolve_device(name: str) -> torch.device:
    """`genbench.devices.torch_device` as a torch.device."""
    return torch.device(torch_device(name))
