"""DiffuEraser (Li et al., 2025): a Stable-Diffusion-1.5 video inpainter primed by ProPainter, object masks only.

Interface read at lixiaowen-xw/DiffuEraser @ 8e6f279 (run_diffueraser.py, diffueraser/diffueraser.py):
``--input_video`` and ``--input_mask`` are mp4 files of the same frame rate (the mask: grey > 0 is the
hole, eroded 1 then dilated ``--mask_dilation_iter`` times), ``--video_length`` is in seconds,
``--save_path`` gets ``diffueraser_result.mp4``. It refuses a longest side under 256 px and fewer than
22 frames, works at multiples of 8 (at most ``--max_img_size``), and blends its result into the input
with a blurred mask itself. Weights under ``weights/`` of the checkout (relative paths: runs there).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genbench.recipes.common import (
    BICUBIC,
    NEAREST,
    PLAYBACK_FPS,
    Job,
    Recipe,
    Source,
    Weight,
    back_to_input,
    hole_mask,
    mirror_pad,
    read_mp4,
    resize_video,
    write_mp4,
)

MIN_SIDE, MIN_FRAMES = 256, 22


def processing_size(height: int, width: int, smallest_long_side: int = MIN_SIDE) -> tuple[int, int]:
    """(h, w): enlarged so the longer side is at least `smallest_long_side`, then multiples of 8."""
    scale = max(1.0, smallest_long_side / max(height, width))
    return round(height * scale) // 8 * 8, round(width * scale) // 8 * 8


class DiffuEraser(Recipe):
    name = "diffueraser"
    source = Source("https://github.com/lixiaowen-xw/DiffuEraser", "8e6f279ac7531e27ad1849c6f8dab5372a8597e7",
                    "DiffuEraser: A Diffusion Model for Video Inpainting (arXiv 2501.10018)",
                    ("run_diffueraser.py", "diffueraser/diffueraser.py"))
    entry = ("run_diffueraser.py",)
    # the script's weight options; PCM's folder is fixed in diffueraser.py
    OPTIONS: ClassVar[tuple[tuple[str, Weight], ...]] = (
        ("--diffueraser_path", Weight("DiffuEraser weights", "weights/diffuEraser", "WEIGHTS")),
        ("--base_model_path", Weight("Stable Diffusion 1.5", "weights/stable-diffusion-v1-5", "BASE_MODEL")),
        ("--vae_path", Weight("sd-vae-ft-mse VAE", "weights/sd-vae-ft-mse", "VAE")),
        ("--propainter_model_dir", Weight("ProPainter weights", "weights/propainter", "PROPAINTER")))
    weights = (*(w for _, w in OPTIONS), Weight("PCM weights weights/PCM_Weights", "weights/PCM_Weights"))
    settings: ClassVar[dict[str, Any]] = {
        "mask": "trimask == 0 as 255 (hole), 0 elsewhere", "mask_dilation_iter": 8, "max_img_size": 960,
        "ref_stride": 10, "neighbor_length": 10, "subvideo_length": 50, "fps": PLAYBACK_FPS,
        "pcm": "2-Step (run_diffueraser.py's fixed choice)"}
    resize = ("frames whose longer side is under 256 px are enlarged bicubically (mask: nearest) so it is 256, "
              "then cut to multiples of 8; the output comes back by area averaging (bicubic when enlarging)")
    frames_rule = "at least 22 frames: shorter clips are ping-pong padded to 22 and the first T outputs kept"
    hardware = "a CUDA GPU: 12 GB at 640x360, 20 GB at 960x540 (README); fp16 on CUDA"

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        height, width = processing_size(*frames.shape[1:3])
        count = max(len(frames), MIN_FRAMES)
        video = mirror_pad(resize_video(frames, height, width, BICUBIC), count)
        mask = mirror_pad(resize_video(hole_mask(trimask), height, width, NEAREST), count)
        write_mp4(work / "video.mp4", video, PLAYBACK_FPS)
        write_mp4(work / "mask.mp4", mask, PLAYBACK_FPS)
        s, out = self.settings, work / "results"
        args = [str(self.checkout / "run_diffueraser.py"), "--input_video", str(work / "video.mp4"),
                "--input_mask", str(work / "mask.mp4"), "--video_length", str(math.ceil(count / PLAYBACK_FPS)),
                "--mask_dilation_iter", str(s["mask_dilation_iter"]), "--max_img_size", str(s["max_img_size"]),
                "--save_path", str(out), "--ref_stride", str(s["ref_stride"]),
                "--neighbor_length", str(s["neighbor_length"]), "--subvideo_length", str(s["subvideo_length"])]
        for option, weight in self.OPTIONS:
            args += [option, str(self.weight_path(weight, self.checkout))]
        return Job(args, self.checkout, out / "diffueraser_result.mp4")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return back_to_input(read_mp4(job.output, shape[0]), shape)
