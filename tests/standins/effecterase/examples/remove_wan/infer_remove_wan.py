"""Stand-in for EffectErase examples/remove_wan/infer_remove_wan.py (two mp4s in, 81 frames, 480x832 mp4 out)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from standin import fail, fill, read_mp4, resize, write_mp4

p = argparse.ArgumentParser()
for name in ("fg_bg_path", "mask_path", "output_path", "text_encoder_path", "vae_path", "dit_path",
             "image_encoder_path", "pretrained_lora_path"):
    p.add_argument(f"--{name}", required=True)
p.add_argument("--num_frames", type=int, default=81)
p.add_argument("--frame_interval", type=int, default=1)
p.add_argument("--height", type=int, default=480)
p.add_argument("--width", type=int, default=832)
p.add_argument("--seed", type=int, default=2025)
p.add_argument("--cfg", type=float, default=1.0)
p.add_argument("--lora_alpha", type=float, default=1.0)
p.add_argument("--num_inference_steps", type=int, default=50)
args = p.parse_args()
for weight in (args.text_encoder_path, args.vae_path, args.dit_path, args.image_encoder_path,
               args.pretrained_lora_path):
    if not os.path.exists(weight):
        fail(f"{weight} missing")
if args.num_frames != 81:
    fail("the pipeline's noise is 81 frames long: num_frames must be 81")
frames, masks = read_mp4(args.fg_bg_path), read_mp4(args.mask_path).max(axis=-1)
if len(frames) < args.num_frames or len(masks) < args.num_frames:
    fail(f"Video has only {min(len(frames), len(masks))} frames, less than required num_frames={args.num_frames}.")
frames, masks = frames[: args.num_frames], masks[: args.num_frames]
if not (masks[0] > 0).any():
    fail(f"{args.mask_path} has no valid mask region in first frame")
h, w = args.height, args.width
write_mp4(args.output_path, fill(resize(frames, h, w), resize(masks, h, w) > 127), fps=24)
