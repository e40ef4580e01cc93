"""Stand-in for OmnimatteZero self_attention_map.py: writes total_mask.mp4 beside object_mask.mp4."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import read_mp4, write_mp4

p = argparse.ArgumentParser()
p.add_argument("--video_folder", required=True)
p.add_argument("--height", type=int, default=512)
p.add_argument("--width", type=int, default=768)
args = p.parse_args()
mask = read_mp4(os.path.join(args.video_folder, "object_mask.mp4"))
write_mp4(os.path.join(args.video_folder, "total_mask.mp4"), mask)  # the stand-in finds no effects
