"""ROSE (Miao et al., 2025): Remove Objects with Side Effects, a Wan2.1-Fun-1.3B-InP inpainter; object masks only.

Interface read at hakuturu583/ROSE @ 7ffb583 (a fork of Kunbyte-AI/ROSE, whose snapshot was not available
here; inference.py, rose/utils/utils.py): ``--validation_videos`` and ``--validation_masks`` mp4 files
(frames resized by cv2 to ``--sample_size H W``; mask: grey >= 240 is the hole), ``--video_length``
16n+1 frames, ``--output_dir`` gets ``example-1.mp4`` at the sample size. Base model in
``models/Wan2.1-Fun-1.3B-InP`` and ROSE's transformer in ``weights/transformer`` (relative: runs in the
checkout). The output is the whole generated video: nothing of the input is pasted back.
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
    next_length,
    read_mp4,
    write_mp4,
)


class Rose(Recipe):
    name = "rose"
    source = Source("https://github.com/Kunbyte-AI/ROSE", "7ffb5835b66952b69129d114305bb678362fafe0",
                    "ROSE: Remove Objects with Side Effects in Videos (arXiv 2508.18633)",
                    ("inference.py", "rose/utils/utils.py"))
    entry = ("inference.py",)
    weights = (Weight("ROSE transformer weights/transformer", "weights/transformer"),  # fixed in inference.py
               Weight("base model models/Wan2.1-Fun-1.3B-InP", "models/Wan2.1-Fun-1.3B-InP"))
    settings: ClassVar[dict[str, Any]] = {
        "mask": "trimask == 0 as 255 (hole), 0 elsewhere", "sample_size": [480, 720], "prompt": "",
        "num_inference_steps": 50}
    resize = ("ROSE resizes the inputs to 480x720 (cv2, bilinear) itself; its output comes back to the input size "
              "by area averaging (bicubic when enlarging)")
    frames_rule = "16n+1 frames: clips are ping-pong padded to the next 16n+1 and the first T outputs kept"
    hardware = "a CUDA GPU (the README states no figure; the pipeline runs Wan2.1-Fun-1.3B in fp16 on cuda)"

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        count = next_length(len(frames), 16)
        write_mp4(work / "video.mp4", mirror_pad(frames, count), PLAYBACK_FPS)
        write_mp4(work / "mask.mp4", mirror_pad(hole_mask(trimask), count), PLAYBACK_FPS)
        height, width = self.settings["sample_size"]
        args = [str(self.checkout / "inference.py"), "--validation_videos", str(work / "video.mp4"),
                "--validation_masks", str(work / "mask.mp4"), "--validation_prompts", self.settings["prompt"],
                "--output_dir", str(work / "results"), "--video_length", str(count),
                "--sample_size", str(height), str(width)]
        return Job(args, self.checkout, work / "results" / "example-1.mp4")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return back_to_input(read_mp4(job.output, shape[0]), shape)
