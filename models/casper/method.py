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
    """Removes the trimask's 0-region and its effects (shadows, reflections) with a trained Casper model.

    checkpoint: a folder with config.json + model.safetensors (default: the shipped reference
    checkpoint, trained on Kubric renders at 64x64); its backbone (`backbones`) is read from its
    config.json, so a pixel-space CasperNet and a fine-tuned Wan2.1-Fun-InP load the same way.
    Sampling is deterministic (noise from `seed`), uses `steps` sampler steps (default: the
    checkpoint's), sliding temporal windows with overlap blending, and copies the preserve region
    (trimask 255) from the input. snap: the pixel backbone's inference setting (ignored by Wan).
    threads: torch CPU threads while it runs (default 1; None: torch's setting).
    """

    def __init__(self, checkpoint: str | Path | None = None, *, steps: int | None = None, seed: int = 0,
                 snap: int | None = None, device: str = "auto", threads: int | None = 1) -> None:
        from genbench.models.casper.backbones import backbone_of

        folder = Path(checkpoint) if checkpoint else WEIGHTS
        if not folder.is_dir():
            raise GenbenchError(f"Casper checkpoint {folder} does not exist; pass casper:PATH to a folder written "
                                "by `genbench train casper`")
        self.checkpoint = folder
        self.threads = threads
        self.backbone = backbone_of(folder)
        self.pipeline = self.backbone.load_pipeline(folder, device, steps=steps, seed=seed, snap=snap)

    @classmethod
    def fingerprint(cls, checkpoint: str | None = None) -> str:
        """sha256 over the checkpoint's config.json and model.safetensors, and over the listing (name, size,
        modification time) of the pretrained folder a checkpoint builds on: new weights, new predictions."""
        import hashlib
        import json

        folder = Path(checkpoint) if checkpoint else WEIGHTS
        digest = hashlib.sha256()
        for name in ("config.json", "model.safetensors"):
            path = folder / name
            digest.update(path.read_bytes() if path.is_file() else b"")
        config = folder / "config.json"
        pretrained = json.loads(config.read_text()).get("pretrained") if config.is_file() else None
        if pretrained and Path(pretrained).is_dir():
            for path in sorted(p for p in Path(pretrained).rglob("*") if p.is_file()):
                stat = path.stat()
                digest.update(f"{path.relative_to(pretrained)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> (T, H, W, 3) uint8."""
        check_removal_inputs(frames, trimask)
        with torch_threads(self.threads):
            return self.pipeline(frames, trimask)
