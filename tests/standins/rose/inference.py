"""Stand-in for ROSE inference.py (mp4 in, resized to --sample_size, 16n+1 frames, results/example-1.mp4 out)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import fail, fill, read_mp4, resize, write_mp4

p = argparse.ArgumentParser()
p.add_argument("--validation_videos", nargs="+", required=True)
p.add_argument("--validation_masks", nargs="+", required=True)
p.add_argument("--validation_prompts", nargs="+", default=[""])
p.add_argument("--output_dir", default="results/")
p.add_argument("--video_length", type=int, default=49)
p.add_argument("--sample_size", type=int, nargs=2, default=[480, 720])
args = p.parse_args()
if not (os.path.isdir("weights/transformer") and os.path.isdir("models/Wan2.1-Fun-1.3B-InP")):
    fail("weights/transformer or models/Wan2.1-Fun-1.3B-InP missing in the working folder")
if (args.video_length - 1) % 16:
    fail("video_length needs to be 16n+1")
h, w = args.sample_size
for i, (video, mask) in enumerate(zip(args.validation_videos, args.validation_masks, strict=True), start=1):
    frames = resize(read_mp4(video), h, w)[: args.video_length]
    masks = resize(read_mp4(mask)[..., 0], h, w)[: args.video_length]
    if len(frames) != args.video_length:
        fail(f"{video} has {len(frames)} frames; the pipeline samples {args.video_length}")
    write_mp4(os.path.join(args.output_dir, f"example-{i}.mp4"), fill(frames, masks >= 240), fps=12)
