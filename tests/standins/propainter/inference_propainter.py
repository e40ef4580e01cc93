"""Stand-in for sczhou/ProPainter inference_propainter.py (command line, folders, --save_frames output)."""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from PIL import Image
from standin import fail, fill, read_masks, read_pngs

p = argparse.ArgumentParser()
p.add_argument("-i", "--video", required=True)
p.add_argument("-m", "--mask", required=True)
p.add_argument("-o", "--output", default="results")
for name, kind in (("--mask_dilation", int), ("--ref_stride", int), ("--neighbor_length", int),
                   ("--subvideo_length", int), ("--raft_iter", int), ("--height", int), ("--width", int)):
    p.add_argument(name, type=kind)
p.add_argument("--save_frames", action="store_true")
p.add_argument("--fp16", action="store_true")
args = p.parse_args()
for w in ("ProPainter.pth", "recurrent_flow_completion.pth", "raft-things.pth"):
    if not os.path.exists(os.path.join("weights", w)):  # the real script loads them relative to the working folder
        fail(f"weights/{w} not found in {os.getcwd()}")
frames, masks = read_pngs(args.video), read_masks(args.mask)
if len(masks) != len(frames):
    fail("mask count differs from frame count")
out = fill(frames, masks > 0)
root = os.path.join(args.output, os.path.basename(args.video))
if args.save_frames:
    os.makedirs(os.path.join(root, "frames"), exist_ok=True)
    for i, f in enumerate(out):
        Image.fromarray(np.ascontiguousarray(f)).save(os.path.join(root, "frames", str(i).zfill(4) + ".png"))
