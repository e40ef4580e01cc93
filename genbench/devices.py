"""The torch device a command runs on, from its `--device` name (one rule for the benchmark and the models)."""

from __future__ import annotations

from genbench.errors import GenbenchError


def torch_device(name: str | None = None) -> str:
    """"auto" or None: CUDA when available, else the CPU; "cuda..." without a CUDA device is a one-line error
    (torch's own is a traceback deep in the first tensor moved there); any other name as given."""
    import torch

    if not name or name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GenbenchError(f"--device {name}: no CUDA device here; use --device cpu")
    return name
