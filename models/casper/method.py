"""The registered removal method ``casper``: the shipped checkpoint, or ``casper:PATH`` for another one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genbench.baselines.common import check_removal_inputs
from genbench.errors import GenbenchError
from genbench.methods import RemovalMethod
from genbench.models.threads import torch_threads

WEIGHTS = Path(__file__).resolve().parent / "weights"  # the reference checkpoint shipped with the package


class Casper(RemovalMethod):
    """Removes the trimask's 0-region and its effects (shadows, reflections) with a trained CasperNet.

    checkpoint: a folder with config.json + model.safetensors (default: the shipped reference
    checkpoint, trained on Kubric renders at 64x64). Sampling is deterministic (DDIM, eta 0,
    noise from `seed`), uses `steps` DDIM steps (default: the checkpoint's), sliding temporal windows
    with overlap blending, and copies the preserve region (trimask 255) from the input.
    threads: torch CPU threads while it runs (default 1; None: torch's setting).
    """

    def __init__(self, checkpoint: str | Path | None = None, *, steps: int | None = None, seed: int = 0,
                 snap: int | None = None, device: str = "auto", threads: int | None = 1) -> None:
        from genbench.models.casper.checkpoint import from_pretrained
        from genbench.models.casper.pipeline import CasperPipeline
        from genbench.models.casper.train import resolve_device

        folder = Path(checkpoint) if checkpoint else WEIGHTS
        if not folder.is_dir():
            raise GenbenchError(f"Casper checkpoint {folder} does not exist; pass casper:PATH to a folder written "
                                "by `genbench train casper`")
        self.checkpoint = folder
        self.threads = threads
        self.pipeline = CasperPipeline(from_pretrained(folder, resolve_device(device)), steps=steps, seed=seed,
                                       snap=snap)

    @classmethod
    def fingerprint(cls, checkpoint: str | None = None) -> str:
        """sha256 over the checkpoint's config.json and model.safetensors: new weights, new predictions."""
        import hashlib

        folder = Path(checkpoint) if checkpoint else WEIGHTS
        digest = hashlib.sha256()
        for name in ("config.json", "model.safetensors"):
            path = folder / name
            digest.update(path.read_bytes() if path.is_file() else b"")
        return digest.hexdigest()

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        check_removal_inputs(frames, trimask)
        with torch_threads(self.threads):
            return self.pipeline(frames, trimask)
