"""OmnimatteZero (Samuel et al., SIGGRAPH Asia 2025): training-free removal with LTX-Video 0.9.7.

Interface read at dvirsamuel/OmnimatteZero @ a97967e (object_removal.py, self_attention_map.py, README):
no options; object_removal.py reads every ``example_videos/<name>/{video.mp4, total_mask.mp4}`` under the
working folder (white = object and its effects), samples at 512x768 with ``num_frames = len(video)``, and
writes ``results/<name>.mp4``. From an object mask alone the README's route is
``self_attention_map.py --video_folder example_videos/<name>`` first, which writes ``total_mask.mp4``
(object plus attention-found effects) beside ``object_mask.mp4``; genbench runs both, in a fresh working
folder so the checkout is untouched. The weights come from the Hugging Face cache folder the script
names (``/inputs/huggingface_cache``); genbench runs it with ``HF_HUB_OFFLINE=1``, so nothing is fetched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genbench.baselines.external import run_program
from genbench.recipes.common import (
    PLAYBACK_FPS,
    Job,
    Recipe,
    Source,
    Weight,
    back_to_input,
    hole_mask,
    mirror_pad,
    next_length,
    read_mp4,
    write_mp4,
)

CLIP = "clip"


class OmnimatteZero(Recipe):
    name = "omnimattezero"
    source = Source("https://github.com/dvirsamuel/OmnimatteZero", "a97967e4ddde4ead5c8dee7dc0c3a1b8f886d8b3",
                    "OmnimatteZero: Fast Training-free Omnimatte with Pre-trained Video Diffusion Models "
                    "(SIGGRAPH Asia 2025)", ("object_removal.py", "self_attention_map.py", "README.md"))
    entry = ("object_removal.py", "self_attention_map.py")
    weights = (Weight("LTX-Video-0.9.7 in the Hugging Face cache object_removal.py names",
                      "/inputs/huggingface_cache/models--a-r-r-o-w--LTX-Video-0.9.7-diffusers", "HF_MODEL"),)
    settings: ClassVar[dict[str, Any]] = {
        "object_mask": "trimask == 0 as 255", "total_mask": "self_attention_map.py (its defaults)",
        "size": "512x768 (object_removal.py)", "num_inference_steps": 30, "prompt": "Empty", "seed": 1}
    resize = ("the method samples at 512x768 from its own loader; its output comes back to the input size by area "
              "averaging (bicubic when enlarging)")
    frames_rule = "8k+1 frames (LTX-Video): clips are ping-pong padded to the next 8k+1 and the first T outputs kept"
    hardware = "a CUDA GPU with 32 GB or more (README)"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "HF_HUB_OFFLINE": "1"}

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        count = next_length(len(frames), 8)
        folder = work / "example_videos" / CLIP
        write_mp4(folder / "video.mp4", mirror_pad(frames, count), PLAYBACK_FPS)
        write_mp4(folder / "object_mask.mp4", mirror_pad(hole_mask(trimask), count), PLAYBACK_FPS)
        (work / "results").mkdir()
        run_program([self.python, str(self.checkout / "self_attention_map.py"), "--video_folder", str(folder)],
                    f"method {self.name!r} (self_attention_map.py)", cwd=work, env=self.environment())
        return Job([str(self.checkout / "object_removal.py")], work, work / "results" / f"{CLIP}.mp4")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return back_to_input(read_mp4(job.output, shape[0]), shape)
