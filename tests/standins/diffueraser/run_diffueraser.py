"""Stand-in for lixiaowen-xw/DiffuEraser run_diffueraser.py (mp4 in, results/diffueraser_result.mp4 out)."""

import argparse
import os
import sys

import imageio_ffmpeg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import fail, fill, read_mp4, write_mp4

p = argparse.ArgumentParser()
p.add_argument("--input_video", required=True)
p.add_argument("--input_mask", required=True)
p.add_argument("--video_length", type=int, default=10)
p.add_argument("--mask_dilation_iter", type=int, default=8)
p.add_argument("--max_img_size", type=int, default=960)
p.add_argument("--save_path", default="results")
for name in ("--ref_stride", "--neighbor_length", "--subvideo_length"):
    p.add_argument(name, type=int)
for name in ("--base_model_path", "--vae_path", "--diffueraser_path", "--propainter_model_dir"):
    p.add_argument(name)
args = p.parse_args()
defaults = {"base_model_path": "weights/stable-diffusion-v1-5", "vae_path": "weights/sd-vae-ft-mse",
            "diffueraser_path": "weights/diffuEraser", "propainter_model_dir": "weights/propainter"}
for option, default in defaults.items():
    if not os.path.exists(getattr(args, option) or default):
        fail(f"--{option} {getattr(args, option) or default} not found")
if not os.path.exists("weights/PCM_Weights"):  # diffueraser.py loads PCM from this fixed relative path
    fail(f"weights/PCM_Weights not found in {os.getcwd()}")
fps_video = next(imageio_ffmpeg.read_frames(args.input_video))["fps"]
if next(imageio_ffmpeg.read_frames(args.input_mask))["fps"] != fps_video:
    fail("The frame rate of all input videos needs to be consistent.")
frames = read_mp4(args.input_video)[: int(args.video_length * fps_video)]
if max(frames.shape[1:3]) < 256:
    fail("The resolution of the uploaded video must be larger than 256x256.")
if frames.shape[1] % 8 or frames.shape[2] % 8:
    fail("this stand-in expects sizes genbench already cut to multiples of 8")
masks = read_mp4(args.input_mask)[: len(frames), ..., 0]
if len(frames) < 22:
    fail("The effective video duration is too short.")
os.makedirs(args.save_path, exist_ok=True)
write_mp4(os.path.join(args.save_path, "diffueraser_result.mp4"), fill(frames, masks > 0), fps=int(fps_video))
