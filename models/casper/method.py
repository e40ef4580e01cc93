"""The registered removal method ``casper``: a shipped checkpoint (``casper``, ``casper:tiny``), or ``casper:PATH``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from genbench.baselines.common import check_removal_inputs
from genbench.errors import GenbenchError
from genbench.methods import RemovalMethod
from genbench.models.threads import torch_threads

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "weights"  # the reference checkpoint shipped with the package: `small`, trained on a GPU
SHIPPED = {"small": WEIGHTS, "tiny": HERE / "weights-tiny"}  # `casper:NAME`; `tiny`: the CPU-trained one before it


def checkpoint_folder(checkpoint: str | Path | None) -> Path:
    """The folder of `checkpoint`: None is the reference checkpoint, a name in SHIPPED a shipped one (a local
    folder of that name is `./NAME`), anything else a path."""
    if checkpoint is None or checkpoint == "":
        return WEIGHTS
    return SHIPPED.get(str(checkpoint), Path(checkpoint))


class Casper(RemovalMethod):
    """Removes the trimask's 0-region and its effects (shadows, reflections) with a trained Casper model.

    checkpoint: a folder with config.json + model.safetensors, or a shipped checkpoint's name (default: the
    reference checkpoint, `small`); its backbone (`backbones`) is read from its
    config.json, so a pixel-space CasperNet and a fine-tuned Wan2.1-Fun-InP load the same way.
    Sampling is deterministic (noise from `seed`), uses `steps` sampler steps (default: the
    checkpoint's), sliding temporal windows with overlap blending, and copies the preserve region
    (trimask 255) from the input. snap, views: the pixel backbone's inference settings (default: the
    checkpoint's; ignored by Wan).
    threads: torch CPU threads while it runs (default 1; None: torch's setting).
    """

    def __init__(self, checkpoint: str | Path | None = None, *, steps: int | None = None, seed: int = 0,
                 snap: int | None = None, views: int | None = None, device: str = "auto",
                 threads: int | None = 1) -> None:
        from genbench.models.casper.backbones import backbone_of

        folder = checkpoint_folder(checkpoint)
        if not folder.is_dir():
            raise GenbenchError(f"Casper checkpoint {folder} does not exist; pass casper:PATH to a folder written "
                                f"by `genbench train casper`, or a shipped name ({', '.join(SHIPPED)})")
        self.checkpoint = folder
        self.threads = threads
        self.backbone = backbone_of(folder)
        self.pipeline = self.backbone.load_pipeline(folder, device, steps=steps, seed=seed, snap=snap,
                                                     views=views)

    @classmethod
    def fingerprint(cls, checkpoint: str | None = None) -> str:
        """sha256 over the checkpoint's config.json and model.safetensors, and over the listing (name, size,
        modification time) of the pretrained folder a checkpoint builds on: new weights, new predictions."""
        import hashlib
        import json

        folder = checkpoint_folder(checkpoint)
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
        return self._run(self.pipeline, frames, trimask)

    def remove_sample(self, frames: np.ndarray, trimask: np.ndarray, sample: int) -> np.ndarray:
        """The removal sampled from the starting noise of seed `seed + sample`, on the clip as it is shown."""
        return self._run(self.pipeline.one_draw(sample), frames, trimask)

    def _run(self, pipeline: Callable[[np.ndarray, np.ndarray], np.ndarray], frames: np.ndarray,
             trimask: np.ndarray) -> np.ndarray:
        check_removal_inputs(frames, trimask)
        with torch_threads(self.threads):
            return pipeline(frames, trimask)
