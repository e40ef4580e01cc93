"""MiniMax-Remover (Zi et al., 2025): a Wan2.1-based remover distilled to 12 steps; object masks only.

Interface read at zibojia/MiniMax-Remover @ 28e12b4 (test_minimax_remover.py, pipeline_minimax_remover.py,
README): the script takes no options; in its working folder it reads ``video.mp4`` and ``mask.mp4`` with
decord, exactly their first 81 frames (``video_length = 81``; mask: first channel > 20 is the hole, dilated
6 times by the pipeline), loads ``./vae``, ``./transformer`` and ``./scheduler`` (the README's
``huggingface-cli download zibojia/minimax-remover --local-dir .``), samples at 480x832 (the pipeline
resizes bilinearly) and writes ``output.mp4``. genbench runs it in the temporary folder with links to
the checkout's weight folders, so the checkout is untouched. The output is the whole generated video:
nothing of the input is pasted back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

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

FRAMES = 81  # video_length in test_minimax_remover.py


class MiniMaxRemover(Recipe):
    name = "minimax-remover"
    source = Source("https://github.com/zibojia/MiniMax-Remover", "28e12b450d8a72a7547b86940a4985e6ad90d75b",
                    "MiniMax-Remover: Taming Bad Noise Helps Video Object Removal (arXiv 2505.24873)",
                    ("test_minimax_remover.py", "pipeline_minimax_remover.py", "README.md"))
    entry = ("test_minimax_remover.py", "pipeline_minimax_remover.py", "transformer_minimax_remover.py")
    weights = tuple(Weight(f"{w}/ (huggingface-cli download zibojia/minimax-remover --local-dir CHECKOUT)", w)
                    for w in ("vae", "transformer", "scheduler"))
    settings: ClassVar[dict[str, Any]] = {
        "mask": "trimask == 0 as 255 (the script's hole: > 20)", "frames": FRAMES, "size": "480x832",
        "num_inference_steps": 12, "iterations": 6, "seed": 42}
    resize = ("the pipeline resizes to 480x832 (bilinear) itself; its output comes back to the input size by area "
              "averaging (bicubic when enlarging)")
    frames_rule = (f"exactly {FRAMES} frames: shorter clips are ping-pong padded and the first T outputs kept; longer "
                   f"clips are refused (pass --max-frames {FRAMES})")
    hardware = "a CUDA GPU (cuda:0 is fixed in the script; its README states no memory figure)"

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        self.refuse_longer(frames, FRAMES)
        write_mp4(work / "video.mp4", mirror_pad(frames, FRAMES), PLAYBACK_FPS)
        write_mp4(work / "mask.mp4", mirror_pad(hole_mask(trimask), FRAMES), PLAYBACK_FPS)
        for weight in self.weights:  # the script loads ./vae, ./transformer, ./scheduler of its working folder
            (work / weight.default).symlink_to(self.weight_path(weight, self.checkout), target_is_directory=True)
        return Job([str(self.checkout / "test_minimax_remover.py")], work, work / "output.mp4")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return back_to_input(read_mp4(job.output, shape[0]), shape)
