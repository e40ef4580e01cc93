"""EffectErase (Fu et al., CVPR 2026): Wan2.1-Fun-1.3B-InP with a removal LoRA, object masks only.

The official repository (FudanCVL/EffectErase) had no snapshot to read here; its code is vendored whole under
``EffectErase/`` in alisson-anjos/ComfyUI-EffectErase, read at 917f359 (README.md, script/test_remove.sh,
examples/remove_wan/infer_remove_wan.py, diffsynth/pipelines/wan_video.py). Interface:
``examples/remove_wan/infer_remove_wan.py --fg_bg_path VIDEO --mask_path MASK --output_path OUT`` plus five
weight paths; it reads exactly ``--num_frames`` frames (default 81) with cv2, resizes them bilinearly to
``--height`` x ``--width`` (480x832), and the pipeline's noise is always 81 frames long (``num_frames`` is not
passed to it), so the clip must be 81 frames. The mask video is white on the object: the first frame's
pixels > 0 choose the object crop that conditions the model (the script stops if that frame has none), and
the whole mask video goes through the VAE as [-1, 1]. The output is an mp4 at 480x832 (yuv420p, lossy),
the whole generated video: nothing of the input is pasted back. ``pip install -e .`` in the checkout
installs its ``diffsynth``, so the script runs from any folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genbench.errors import GenbenchError
from genbench.recipes.common import (
    PLAYBACK_FPS,
    Job,
    Recipe,
    Source,
    Weight,
    back_to_input,
    hole_mask,
    mirror_pad,
    read_mp4,
    write_mp4,
)

FRAMES = 81  # the pipeline's fixed num_frames (WanRemovePipeline.__call__ default; the script does not pass it)
SCRIPT = "examples/remove_wan/infer_remove_wan.py"
BASE = "Wan-AI/Wan2.1-Fun-1.3B-InP"  # where the README's `hf download` puts the base model


class EffectErase(Recipe):
    name = "effecterase"
    source = Source("https://github.com/FudanCVL/EffectErase", "917f3594b3b56c5a01ca32c4591abe78247ddebf",
                    "EffectErase: Joint Video Object Removal and Insertion for High-Quality Effect Erasing "
                    "(CVPR 2026, arXiv 2603.19224)",
                    ("README.md", "script/test_remove.sh", SCRIPT, "diffsynth/pipelines/wan_video.py"))
    entry = (SCRIPT,)
    weights = (Weight("Wan2.1-Fun-1.3B-InP DiT", f"{BASE}/diffusion_pytorch_model.safetensors", "DIT"),
               Weight("Wan2.1-Fun-1.3B-InP text encoder", f"{BASE}/models_t5_umt5-xxl-enc-bf16.pth", "TEXT_ENCODER"),
               Weight("Wan2.1-Fun-1.3B-InP VAE", f"{BASE}/Wan2.1_VAE.pth", "VAE"),
               Weight("Wan2.1-Fun-1.3B-InP image encoder",
                      f"{BASE}/models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth", "IMAGE_ENCODER"),
               Weight("EffectErase LoRA (hf download FudanCVL/EffectErase EffectErase.ckpt)", "EffectErase.ckpt",
                      "LORA"))
    settings: ClassVar[dict[str, Any]] = {
        "mask": "trimask == 0 as 255 (the script: > 0 is the object)", "frames": FRAMES, "height": 480,
        "width": 832, "num_inference_steps": 50, "cfg": 1.0, "seed": 2025, "lora_alpha": 1.0,
        "frame_order": "played backwards when the object is absent from the first frame but in the last"}
    resize = ("the script resizes to 480x832 (torchvision, bilinear) itself; its output comes back to the input size "
              "by area averaging (bicubic when enlarging)")
    frames_rule = (f"exactly {FRAMES} frames: shorter clips are ping-pong padded and the first T outputs kept; longer "
                   f"clips are refused (pass --max-frames {FRAMES}). The script crops the object from the first "
                   f"frame: a clip whose object appears only later is given backwards (and its output turned round) "
                   f"when the object is in its last frame, else refused")
    hardware = "a CUDA GPU (cuda is fixed in the script; bf16, 6e9 DiT parameters kept resident; no figure given)"

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        self.refuse_longer(frames, FRAMES)
        hole = hole_mask(trimask)
        backwards = plays_backwards(hole)
        if backwards:
            frames, hole = frames[::-1], hole[::-1]
        write_mp4(work / "fg_bg.mp4", mirror_pad(frames, FRAMES), PLAYBACK_FPS)
        write_mp4(work / "mask.mp4", mirror_pad(hole, FRAMES), PLAYBACK_FPS)
        output = work / ("remove_backwards.mp4" if backwards else "remove.mp4")
        args = [str(self.checkout / SCRIPT), "--fg_bg_path", str(work / "fg_bg.mp4"),
                "--mask_path", str(work / "mask.mp4"), "--output_path", str(output),
                "--num_frames", str(FRAMES), "--height", str(self.settings["height"]),
                "--width", str(self.settings["width"]), "--seed", str(self.settings["seed"]),
                "--cfg", str(self.settings["cfg"]), "--lora_alpha", str(self.settings["lora_alpha"]),
                "--num_inference_steps", str(self.settings["num_inference_steps"])]
        for weight, option in zip(self.weights, ("--dit_path", "--text_encoder_path", "--vae_path",
                                                 "--image_encoder_path", "--pretrained_lora_path"), strict=True):
            args += [option, str(self.weight_path(weight, self.checkout))]
        return Job(args, work, output)

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        out = back_to_input(read_mp4(job.output, shape[0]), shape)
        return out[::-1].copy() if job.output.name == "remove_backwards.mp4" else out


def plays_backwards(hole: np.ndarray) -> bool:
    """Whether the clip goes in backwards for the script's first-frame object crop; raises when neither end helps."""
    if hole[0].any():
        return False
    if hole[-1].any():
        return True
    raise GenbenchError("method 'effecterase' needs the object in the first or the last frame (its script crops the "
                        "object from the first frame it reads); this clip's remove region is empty in both")
