"""Stand-in for OmnimatteZero object_removal.py: every example_videos/<name>/ -> results/<name>.mp4 at 512x768."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import fail, fill, read_mp4, resize, write_mp4

if os.environ.get("HF_HUB_OFFLINE") != "1":
    fail("expected to run offline")
for name in os.listdir("example_videos"):
    video = read_mp4(f"example_videos/{name}/video.mp4")
    if (len(video) - 1) % 8:
        fail("LTX-Video samples 8k+1 frames")
    mask = read_mp4(f"example_videos/{name}/total_mask.mp4")[..., 0]
    write_mp4(f"results/{name}.mp4", fill(resize(video, 512, 768), resize(mask, 512, 768) > 127), fps=24)
