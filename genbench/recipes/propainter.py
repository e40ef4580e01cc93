"""ProPainter (Zhou et al., ICCV 2023): flow-guided video inpainting, object masks only.

Interface read at sczhou/ProPainter @ e870e79 (inference_propainter.py): ``--video`` a folder of frames
(sorted names, read with cv2), ``--mask`` a folder of per-frame masks (any value > 0 is the hole; dilated
by ``--mask_dilation``), ``--save_frames`` writes ``<output>/<video folder name>/frames/0000.png ...``
(4 digits, lossless; besides the lossy mp4 that is not read here). Weights in ``weights/`` of the
checkout (relative to the working folder, so it runs there). ProPainter works at the input size rounded
down to multiples of 8 and resizes back itself (bicubic), and composites the input outside its dilated
mask itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genbench.recipes.common import Job, Recipe, Source, Weight, hole_mask, read_pngs, write_pngs

CLIP = "clip"


class ProPainter(Recipe):
    name = "propainter"
    source = Source("https://github.com/sczhou/ProPainter", "e870e79321c31b733e2031af5aa2fb1fe3ac7eec",
                    "ProPainter: Improving Propagation and Transformer for Video Inpainting (ICCV 2023)",
                    ("inference_propainter.py", "utils/download_util.py"))
    entry = ("inference_propainter.py",)
    weights = tuple(Weight(f"weights/{w}", f"weights/{w}")  # the script loads them from weights/ of its working folder
                    for w in ("ProPainter.pth", "recurrent_flow_completion.pth", "raft-things.pth"))
    settings: ClassVar[dict[str, Any]] = {
        "mask": "trimask == 0 as 255 (hole), 0 elsewhere", "mask_dilation": 4, "ref_stride": 10,
        "neighbor_length": 10, "subvideo_length": 80, "raft_iter": 20, "fp16": False}
    resize = ("none by genbench: ProPainter runs at the input size rounded down to multiples of 8 and resizes "
              "back bicubically itself")
    frames_rule = "any length (sub-videos of 80 frames inside ProPainter)"
    hardware = "a CUDA GPU: 4 GB at 320x240, 13 GB at 720x480 for 80-frame sub-videos in fp32 (README)"

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        video, masks, out = work / CLIP, work / f"{CLIP}_mask", work / "results"
        write_pngs(video, frames)
        write_pngs(masks, hole_mask(trimask))
        s = self.settings
        args = [str(self.checkout / "inference_propainter.py"), "--video", str(video), "--mask", str(masks),
                "--output", str(out), "--save_frames", "--mask_dilation", str(s["mask_dilation"]),
                "--ref_stride", str(s["ref_stride"]), "--neighbor_length", str(s["neighbor_length"]),
                "--subvideo_length", str(s["subvideo_length"]), "--raft_iter", str(s["raft_iter"])]
        return Job(args, self.checkout, out / CLIP / "frames")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return read_pngs(job.output, shape[0])
