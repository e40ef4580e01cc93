"""Shared body of the two gen-omnimatte-public predict_v2v.py stand-ins (ml_collections-style flags)."""

import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import fail, fill, read_mp4, resize, write_mp4


def temporal_padding(video: np.ndarray, min_length: int, max_length: int = 197) -> np.ndarray:
    """As videox_fun.utils.utils.temporal_padding: 4k+1 with k odd, at least the window, padded by flipping."""
    length = len(video)
    min_len = (length // 4) * 4 + 1
    if min_len < length:
        min_len += 4
    if (min_len // 4) % 2 == 0:
        min_len += 4
    target = max(min_length, min(min_len, max_length))
    video = video[:target]
    while len(video) < target:
        video = np.concatenate([video, video[::-1]])[:target]
    return video


def main(default_size: str, window: int) -> None:
    flags = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    if not os.path.isfile(flags.get("config", "")):
        fail(f"config file {flags.get('config')} not found in {os.getcwd()}")
    for key in ("video_model.model_name", "video_model.transformer_path"):
        if not os.path.exists(flags.get(f"config.{key}", "")):
            fail(f"{key} {flags.get(f'config.{key}')} does not exist")
    root, save = flags["config.data.data_rootdir"], flags["config.experiment.save_path"]
    h, w = (int(v) for v in flags.get("config.data.sample_size", default_size).split("x"))
    for seq in flags["config.experiment.run_seqs"].split(","):
        folder = os.path.join(root, seq)
        if glob.glob(os.path.join(folder, "mask_*.mp4")):
            fail("this stand-in reads trimask_*.mp4 only")
        with open(os.path.join(folder, "prompt.json")) as f:
            json.load(f)["bg"]
        video = resize(read_mp4(os.path.join(folder, "input_video.mp4")), h, w)
        tri = resize(read_mp4(sorted(glob.glob(os.path.join(folder, "trimask_*.mp4")))[0])[..., 0], h, w)
        hole = tri < 64  # > 192 keep, 64..192 neutral, < 64 remove
        order = temporal_padding(np.arange(len(video)), window)  # which input frame each output frame pads from
        out = fill(video[order], hole[order])
        write_mp4(os.path.join(save, f"{seq}-fg=-1-0001.mp4"), out)
