"""Generative Omnimatte's public Casper models (Lee et al., CVPR 2025): CogVideoX-Fun-5B and Wan2.1-Fun-1.3B.

Interface read at gen-omnimatte/gen-omnimatte-public @ 96d7e65 (inference/*/predict_v2v.py,
videox_fun/utils/utils.py get_video_mask_input, config/default_*.py): a data folder with one folder per
sequence holding ``input_video.mp4``, ``prompt.json`` ({"bg": text}) and either ``mask_XX.mp4`` or, as
here, ``trimask_00.mp4``, whose values (> 192 keep, 64..192 neutral, < 64 remove, after area resizing)
are genbench's own trimask convention (255 preserve, 128 uncertain, 0 remove), so the trimask is passed
as it is. Options are ml_collections flags ``--config.<group>.<key>=value``; the result is
``<save_path>/<seq>-fg=-1-0001.mp4`` at ``sample_size``. It runs in the checkout (the config path is
relative). The output is the whole generated video: nothing of the input is pasted back.
"""

from __future__ import annotations

import json
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
    read_mp4,
    write_mp4,
)

SEQ = "clip"
MAX_FRAMES = 197  # config.data.max_video_length: longer clips are cut by the method
SOURCE = Source("https://github.com/gen-omnimatte/gen-omnimatte-public", "96d7e65ceb681a000674f6c619abe3736dc0db75",
                "Generative Omnimatte: Learning to Decompose Video into Layers (CVPR 2025)",
                ("inference/wan2.1_fun/predict_v2v.py", "inference/cogvideox_fun/predict_v2v.py",
                 "videox_fun/utils/utils.py", "config/default_wan.py", "config/default_cogvideox.py"))


class GenOmnimatte(Recipe):
    """One public Casper model; subclasses name the backbone's script, config and default sample size."""

    source = SOURCE
    script: ClassVar[str]
    config: ClassVar[str]
    frames_rule = (f"up to {MAX_FRAMES} frames (longer clips are refused); the method pads shorter clips to its "
                   "temporal window by ping-pong itself and genbench keeps the first T outputs")

    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        self.refuse_longer(frames, MAX_FRAMES)
        seq = work / "data" / SEQ
        write_mp4(seq / "input_video.mp4", frames, PLAYBACK_FPS)
        write_mp4(seq / "trimask_00.mp4", trimask, PLAYBACK_FPS)
        (seq / "prompt.json").write_text(json.dumps({"bg": self.settings["prompt"]}))
        out = work / "results"
        model, transformer = (self.weight_path(w, self.checkout) for w in self.weights)
        args = [str(self.checkout / self.script), f"--config={self.config}",
                f"--config.data.data_rootdir={work / 'data'}", f"--config.experiment.run_seqs={SEQ}",
                f"--config.experiment.save_path={out}", f"--config.data.sample_size={self.settings['sample_size']}",
                f"--config.video_model.model_name={model}", f"--config.video_model.transformer_path={transformer}",
                "--config.experiment.skip_if_exists=False"]
        return Job(args, self.checkout, out / f"{SEQ}-fg=-1-0001.mp4")

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        return back_to_input(read_mp4(job.output, shape[0]), shape)


class GenOmnimatteWan(GenOmnimatte):
    name = "gen-omnimatte-wan"
    script = "inference/wan2.1_fun/predict_v2v.py"
    config = "config/default_wan.py"
    entry = (script, config)
    weights = (Weight("Wan2.1-Fun-1.3B-InP base model", "models/Diffusion_Transformer/Wan2.1-Fun-1.3B-InP",
                      "BASE_MODEL"),
               Weight("Casper transformer .safetensors (Wan2.1-Fun-1.3B, the repo's Google Drive link)", None,
                      "TRANSFORMER"))
    settings: ClassVar[dict[str, Any]] = {
        "trimask": "genbench's trimask as trimask_00.mp4 (same convention)", "sample_size": "480x832", "prompt": "",
        "num_inference_steps": 50, "temporal_window_size": 81, "seed": 43}
    resize = ("the method resizes to 480x832 by area averaging itself; its output comes back to the input size by "
              "area averaging (bicubic when enlarging)")
    hardware = "a CUDA GPU: about 10 min per clip on an A6000 with 48 GB (README)"


class GenOmnimatteCogVideoX(GenOmnimatte):
    name = "gen-omnimatte-cogvideox"
    script = "inference/cogvideox_fun/predict_v2v.py"
    config = "config/default_cogvideox.py"
    entry = (script, config)
    weights = (Weight("CogVideoX-Fun-V1.5-5b-InP base model", "models/Diffusion_Transformer/CogVideoX-Fun-V1.5-5b-InP",
                      "BASE_MODEL"),
               Weight("Casper transformer .safetensors (CogVideoX-Fun-5B, the repo's Google Drive link)", None,
                      "TRANSFORMER"))
    settings: ClassVar[dict[str, Any]] = {
        "trimask": "genbench's trimask as trimask_00.mp4 (same convention)", "sample_size": "384x672", "prompt": "",
        "num_inference_steps": 50, "temporal_window_size": 85, "seed": 43}
    resize = ("the method resizes to 384x672 by area averaging itself; its output comes back to the input size by "
              "area averaging (bicubic when enlarging)")
    hardware = "a CUDA GPU: 1-2 min per clip on an A100, 4-5 min on an A6000 with 48 GB (README)"
