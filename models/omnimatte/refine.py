"""The learned start: a small network that corrects one removal model's starting alpha.

The start (`evidence.gather`) turns every difference between a solo video and the clean plate into alpha, above a
noise floor. A removal model errs in the same ways from scene to scene: its clean plate keeps part of every strong
shadow, its solo videos lose part of the object's own effect (docs/omnimatte.md, "What limits the layers"). Those
errors have a shape a network can learn from examples: where the true layers are known (rendered scenes) and the
removal model's bg and solos are what omnimatte would be given, a few convolutions over the same evidence the start
sees (the input, the plate, the solo, the object masks, the start and the unfloored alphas) learn a correction of the
start's logits. It is trained for one removal model and used only with it (`Refiner.removal_fingerprint`); its last
layer starts at zero, so an untrained refiner returns the start.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from genbench.atomic import atomic_folder
from genbench.errors import GenbenchError
from genbench.models.omnimatte.evidence import LayerEvidence
from genbench.pixels import minimal_alpha

FEATURES = 14  # input, plate, solo (3 each); own mask, other objects; start; solo and input over the plate
EPS = 1e-3  # the start is clipped to [EPS, 1 - EPS] before the logit
DILATIONS = (1, 2, 4, 8, 16, 1)  # a 3x3 stack that sees about 65 px around each pixel
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "genbench-omnimatte-start-refiner/1"
SHIPPED = Path(__file__).resolve().parent / "refiner-casper"  # trained for the shipped Casper (docs/omnimatte.md)


def refiner_inputs(frames: np.ndarray, plate: np.ndarray, solo: np.ndarray, own: np.ndarray, others: np.ndarray,
                   start: np.ndarray) -> np.ndarray:
    """(T, FEATURES, H, W) float32 for one layer. frames, plate, solo: (T, H, W, 3) uint8; own, others: (T, H, W)
    bool (the layer's object, every other object); start: (T, H, W) float in [0, 1]."""
    f, b, s = (v.astype(np.float64) / 255.0 for v in (frames, plate, solo))
    channels = [f, b, s, own[..., None], others[..., None], start[..., None],
                minimal_alpha(s, b, 0.0)[..., None], minimal_alpha(f, b, 0.0)[..., None]]
    return np.concatenate(channels, axis=-1).transpose(0, 3, 1, 2).astype(np.float32)


class StartRefiner(nn.Module):
    """(N, FEATURES, H, W) -> (N, 1, H, W) alpha: sigmoid(logit(start) + correction), 1 on the own mask."""

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = FEATURES
        for dilation in DILATIONS:
            layers += [nn.Conv2d(width, channels, 3, padding=dilation, dilation=dilation, padding_mode="replicate"),
                       nn.GELU()]
            width = channels
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start = x[:, 11:12].clamp(EPS, 1 - EPS)
        alpha = torch.sigmoid(torch.logit(start) + self.head(self.body(x)))
        return torch.maximum(alpha, x[:, 9:10])


def soft_iou_loss(alpha: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """1 - the soft IoU (sum of minima over sum of maxima) per image, averaged: the benchmark's alpha score."""
    inter = torch.minimum(alpha, truth).sum(dim=(1, 2, 3))
    union = torch.maximum(alpha, truth).sum(dim=(1, 2, 3))
    return (1 - inter / union.clamp_min(1e-6)).mean()


@torch.no_grad()
def refine_alpha(net: StartRefiner, features: np.ndarray, chunk: int = 8) -> np.ndarray:
    """(T, H, W) float32 refined alpha from `refiner_inputs`, quantised to uint8 levels (a start of 0 stays a start
    the fit's mask supervision holds at 0)."""
    out = [net(torch.from_numpy(features[i:i + chunk]))[:, 0].numpy() for i in range(0, len(features), chunk)]
    return (np.round(np.concatenate(out) * 255) / 255).astype(np.float32)


def refine_evidence(evidence: dict[int, LayerEvidence], frames: np.ndarray, plate: np.ndarray,
                    solos: dict[int, np.ndarray], masks: dict[int, np.ndarray], net: StartRefiner
                    ) -> dict[int, LayerEvidence]:
    """Every layer's start replaced by the refiner's (the fit's ceiling raised to it where it is above).
    frames, plate, solos: (T, H, W, 3) uint8 (the input, the removal model's bg and solo videos); masks: id -> (T, H,
    W) bool, the visible masks the start was gathered with."""
    out = {}
    for k, e in evidence.items():
        others = np.zeros(frames.shape[:3], dtype=bool)
        for j, mask in masks.items():
            if j != k:
                others |= mask.astype(bool)
        own = masks[k].astype(bool)
        alpha = refine_alpha(net, refiner_inputs(frames, plate, solos[k], own, others & ~own, e.alpha))
        out[k] = replace(e, alpha=alpha, ceiling=np.maximum(e.ceiling, alpha))
    return out


@dataclass(frozen=True)
class Refiner:
    """A trained refiner and its record (`config.json`): the removal model it was trained for (spec and fingerprint),
    its width, and how it was trained and scored."""

    net: StartRefiner
    record: dict[str, Any]
    folder: Path

    @property
    def removal_fingerprint(self) -> str | None:
        return self.record.get("removal_fingerprint")

    def fingerprint(self) -> str:
        """sha256 over config.json and model.safetensors: new weights, new layers."""
        digest = hashlib.sha256()
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            digest.update((self.folder / name).read_bytes())
        return digest.hexdigest()


def load_refiner(folder: Path | str) -> Refiner:
    """A refiner from its folder (`config.json` + `model.safetensors`); a clear error when it is not one."""
    folder = Path(folder)
    config = folder / CONFIG_FILE
    if not (config.is_file() and (folder / WEIGHTS_FILE).is_file()):
        raise GenbenchError(f"{folder}: not a start refiner (needs {CONFIG_FILE} and {WEIGHTS_FILE}); train one with "
                            "python -m genbench.models.omnimatte.train_start")
    record = json.loads(config.read_text())
    if record.get("format") != FORMAT:
        raise GenbenchError(f"{config}: format {record.get('format')!r}, expected {FORMAT!r}")
    net = StartRefiner(int(record["channels"]))
    net.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return Refiner(net.eval(), record, folder)


def save_refiner(net: StartRefiner, record: dict[str, Any], folder: Path) -> None:
    """Write `folder` (config.json + model.safetensors) whole: an existing one is replaced once both are written."""
    with atomic_folder(folder) as tmp:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps({**record, "format": FORMAT}, indent=2, sort_keys=True) + "\n")


def shipped_refiner(removal: str) -> Refiner | None:
    """The shipped refiner when it was trained for exactly this removal model (same spec fingerprint), else None."""
    from genbench.methods import method_fingerprint

    if not (SHIPPED / CONFIG_FILE).is_file():
        return None
    refiner = load_refiner(SHIPPED)
    return refiner if refiner.removal_fingerprint == method_fingerprint(removal) else None
