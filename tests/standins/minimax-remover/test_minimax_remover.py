"""Stand-in for zibojia/MiniMax-Remover test_minimax_remover.py: ./video.mp4 + ./mask.mp4 -> ./output.mp4."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from standin import fail, fill, read_mp4, resize, write_mp4

video_length = 81
for folder in ("./vae", "./transformer", "./scheduler"):
    if not os.path.isdir(folder):
        fail(f"{folder} not found in {os.getcwd()}")
images, masks = read_mp4("./video.mp4"), read_mp4("./mask.mp4")
if len(images) < video_length or len(masks) < video_length:  # decord get_batch(range(81)) fails on shorter videos
    fail(f"need {video_length} frames, got {len(images)} and {len(masks)}")
images = resize(images[:video_length], 480, 832)
hole = resize(masks[:video_length, :, :, 0], 480, 832) > 20
write_mp4("./output.mp4", fill(images, hole), fps=10)
