"""Play a scene with known ground truth as tripod footage and degrade it the way cameras do.

A `Truth` is a static-camera clip whose background, object masks and effect masks are exact
(a toy scene, or a Kubric render with a static camera). `degrade(truth, level, rng=...)`
turns it into what a real camera would have recorded, in this order:

1. sub-pixel jitter: each frame translated by a small random offset (the camera shakes);
2. light: a slow, soft-edged change of illumination rolling across the frame (a cloud's
   shadow), then per-frame exposure flicker and white-balance drift (gain per channel);
3. sensor noise: Gaussian with a variance that grows with the signal (shot noise + read noise);
4. rounding to uint8 and lossy encoding (H.264 or H.265 through the ffmpeg that imageio-ffmpeg
   bundles, at a bitrate given in bits per pixel per frame), decoded back to frames.

Steps 1-2 move the ground truth with the frames: the true background of each frame is the
degraded clean plate before noise and encoding. Every function takes its randomness as `rng`.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from genbench import contract

if TYPE_CHECKING:
    from genbench.scene import Scene

MID_GREY = 128.0


@dataclass(frozen=True)
class Truth:
    """A clip with exact ground truth. bg, full: (T, H, W, 3) float32 levels in [0, 255], the clean plate
    and the input of each frame; objects: (T, H, W) bool, where a foreground object is; effects: (T, H, W)
    bool, where an object's shadow or reflection changes the background (outside every object)."""

    bg: np.ndarray
    full: np.ndarray
    objects: np.ndarray
    effects: np.ndarray


@dataclass(frozen=True)
class Degradation:
    """How badly a camera records a scene.

    noise_sigma: sensor noise standard deviation at mid grey (levels); shot_share: the share of that
    variance that is shot noise (grows with the signal; the rest is read noise, the same everywhere).
    codec: "h264", "h265" or None (lossless); bpp: bitrate in bits per pixel per frame (web video is
    about 0.05-0.1: 1080p30 at 3-6 Mbit/s). flicker: standard deviation of the per-frame exposure gain;
    white_balance: of each channel's gain drift. jitter: standard deviation of the per-frame offset in
    pixels. light: depth of the rolling light change (0.1 = a soft shadow that darkens by 10%).
    """

    noise_sigma: float = 0.0
    shot_share: float = 0.6
    codec: str | None = None
    bpp: float = 0.1
    flicker: float = 0.0
    white_balance: float = 0.0
    jitter: float = 0.0
    light: float = 0.0


LEVELS: dict[str, Degradation] = {
    "clean": Degradation(),
    "light": Degradation(noise_sigma=1.5, codec="h264", bpp=0.3, flicker=0.01, white_balance=0.005, jitter=0.1,
                         light=0.03),
    "middle": Degradation(noise_sigma=3.0, codec="h264", bpp=0.1, flicker=0.02, white_balance=0.01, jitter=0.2,
                          light=0.06),
    "heavy": Degradation(noise_sigma=6.0, codec="h264", bpp=0.04, flicker=0.04, white_balance=0.02, jitter=0.35,
                         light=0.12),
}

CODECS = {"h264": "libx264", "h265": "libx265"}


def tripod_clip(bg: np.ndarray, full: np.ndarray, objects: np.ndarray, effects: np.ndarray,
                plate_frames: int) -> Truth:
    """A clip played as a tripod capture: `plate_frames` frames of the empty scene, the scene with its
    objects, then the empty scene again (as `genbench.benchmark.split.tripod_footage` does).

    bg, full: (T, H, W, 3) uint8 or float; objects, effects: (T, H, W) bool."""
    empty = np.zeros((plate_frames, *objects.shape[1:]), dtype=bool)
    as_float = [np.asarray(v, dtype=np.float32) for v in (bg, full)]
    return Truth(
        bg=np.concatenate([as_float[0][:plate_frames], as_float[0], as_float[0][-plate_frames:]]),
        full=np.concatenate([as_float[0][:plate_frames], as_float[1], as_float[0][-plate_frames:]]),
        objects=np.concatenate([empty, objects.astype(bool), empty]),
        effects=np.concatenate([empty, effects.astype(bool) & ~objects.astype(bool), empty]),
    )


def texture(height: int, width: int, strength: float, *, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 1) float32 multiplicative albedo around 1: fine grain (grass, gravel) plus blotches a few
    pixels across, with a standard deviation of about `strength` (0.1 = +-10%)."""
    fine = rng.normal(0.0, 1.0, size=(height, width)).astype(np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), 0.7)
    coarse = cv2.resize(rng.normal(0.0, 1.0, size=(height // 6 + 2, width // 6 + 2)).astype(np.float32),
                        (width, height), interpolation=cv2.INTER_CUBIC)
    field = fine / max(float(fine.std()), 1e-6) + coarse / max(float(coarse.std()), 1e-6)
    return (1.0 + strength * field / math.sqrt(2.0))[..., None].clip(0.2, 2.0)


def add_texture(truth: Truth, strength: float, *, rng: np.random.Generator) -> Truth:
    """The same scene on a textured ground: the background, and every non-object pixel of the input (its
    shadows too, which darken the ground whatever its albedo), multiplied by one `texture`. Exact when
    shadows and reflections multiply the ground (toy scenes' shadows do)."""
    h, w = truth.objects.shape[1:]
    albedo = texture(h, w, strength, rng=rng)
    full = np.where(truth.objects[..., None], truth.full, truth.full * albedo)
    return replace(truth, bg=(truth.bg * albedo).clip(0, 255), full=full.clip(0, 255))


def jitter_offsets(count: int, sigma: float, *, rng: np.random.Generator) -> np.ndarray:
    """(T, 2) float32 per-frame (dx, dy) offsets in pixels, Gaussian with standard deviation `sigma`."""
    return rng.normal(0.0, sigma, size=(count, 2)).astype(np.float32) if sigma > 0 else np.zeros((count, 2),
                                                                                                   np.float32)


def shift_image(image: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(H, W[, C]) float32 image translated by `offset` = (dx, dy) pixels (bicubic, border reflected)."""
    h, w = image.shape[:2]
    matrix = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def shift_mask(mask: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(H, W) bool mask translated by `offset` (a pixel is in when at least half of it is covered)."""
    return shift_image(mask.astype(np.float32), offset) >= 0.5


def rolling_light(count: int, height: int, width: int, depth: float, *, rng: np.random.Generator) -> np.ndarray:
    """(T, H, W) float32 illumination gain: a soft shadow edge (a quarter of the diagonal wide) that
    crosses the frame in a random direction over the clip, darkening by `depth` where it has passed."""
    if depth <= 0:
        return np.ones((count, height, width), np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    along = (xx - width / 2) * np.cos(angle) + (yy - height / 2) * np.sin(angle)
    half = 0.5 * float(np.hypot(height, width))
    softness = 0.25 * half
    fronts = np.linspace(-half, half, count) * rng.uniform(0.6, 1.0)
    return np.stack([1.0 - depth / (1.0 + np.exp((along - f) / softness)) for f in fronts]).astype(np.float32)


def exposure_gains(count: int, flicker: float, white_balance: float, *, rng: np.random.Generator) -> np.ndarray:
    """(T, 3) float32 per-frame, per-channel gains: exposure flicker (a slow beat plus frame-to-frame jumps,
    shared by the channels) times a white balance that drifts per channel (a random walk)."""
    t = np.arange(count)
    beat = np.sin(2 * np.pi * t / rng.uniform(6, 14) + rng.uniform(0, 2 * np.pi))
    exposure = 1.0 + flicker * (0.7 * beat + 0.7 * rng.normal(0, 1, count))
    walk = np.cumsum(rng.normal(0, 1, (count, 3)), axis=0) / math.sqrt(max(count, 1))
    balance = 1.0 + white_balance * (walk - walk.mean(axis=0))
    return (exposure[:, None] * balance).astype(np.float32)


def sensor_noise(frames: np.ndarray, sigma: float, shot_share: float, *, rng: np.random.Generator) -> np.ndarray:
    """(T, H, W, 3) float32 frames plus Gaussian noise of variance
    ``sigma^2 * ((1 - shot_share) + shot_share * level / 128)``: `sigma` at mid grey."""
    if sigma <= 0:
        return frames
    variance = sigma**2 * ((1 - shot_share) + shot_share * np.clip(frames, 0, 255) / MID_GREY)
    return frames + rng.standard_normal(frames.shape, dtype=np.float32) * np.sqrt(variance)


def available_codecs() -> list[str]:
    """The codecs of `CODECS` the bundled ffmpeg can encode."""
    import subprocess

    import imageio_ffmpeg

    listing = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True,
                             text=True, check=False).stdout
    return [name for name, encoder in CODECS.items() if f" {encoder} " in listing]


def encode(frames: np.ndarray, codec: str, bpp: float, fps: float = 25.0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames (H, W even) encoded with `codec` ("h264", "h265") at `bpp` bits per pixel
    per frame (yuv420p, one thread: deterministic) and decoded back: (T, H, W, 3) uint8."""
    import imageio_ffmpeg

    n, h, w = frames.shape[:3]
    if h % 2 or w % 2:
        raise ValueError(f"{codec} in yuv420p needs an even frame size, got {h}x{w}")
    kbps = max(1, round(bpp * h * w * fps / 1000))
    threads = ["-x265-params", "pools=1:frame-threads=1:log-level=error"] if codec == "h265" else ["-threads", "1"]
    with tempfile.TemporaryDirectory(prefix="genbench-degrade-") as tmp:
        path = str(Path(tmp) / "clip.mp4")
        writer = imageio_ffmpeg.write_frames(path, (w, h), fps=fps, codec=CODECS[codec], bitrate=f"{kbps}k",
                                             pix_fmt_out="yuv420p", macro_block_size=1, quality=None,
                                             output_params=threads, ffmpeg_log_level="error")
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        reader = imageio_ffmpeg.read_frames(path)
        meta = next(reader)
        size = meta["size"]
        decoded = [np.frombuffer(b, np.uint8).reshape(size[1], size[0], 3) for b in reader]
    return np.stack(decoded[:n])


@dataclass(frozen=True)
class Footage:
    """Degraded footage and its ground truth. frames: (T, H, W, 3) uint8, what the camera wrote; truth: the
    background, objects and effects moved and lit like the frames (bg without noise or encoding)."""

    frames: np.ndarray
    truth: Truth


def degrade(truth: Truth, level: Degradation, *, rng: np.random.Generator, fps: float = 25.0) -> Footage:
    """`truth` recorded by a camera as bad as `level` (see the module docstring for the order of steps)."""
    n, h, w = truth.objects.shape
    offsets = jitter_offsets(n, level.jitter, rng=rng)
    light = rolling_light(n, h, w, level.light, rng=rng)
    gains = exposure_gains(n, level.flicker, level.white_balance, rng=rng)
    moved = level.jitter > 0
    bg = np.empty_like(truth.bg)
    full = np.empty_like(truth.full)
    objects = truth.objects.copy()
    effects = truth.effects.copy()
    for t in range(n):
        scale = light[t][..., None] * gains[t]
        if moved:
            bg[t] = shift_image(truth.bg[t], offsets[t]) * scale
            full[t] = shift_image(truth.full[t], offsets[t]) * scale
            objects[t] = shift_mask(truth.objects[t], offsets[t])
            effects[t] = shift_mask(truth.effects[t], offsets[t]) & ~objects[t]
        else:
            bg[t], full[t] = truth.bg[t] * scale, truth.full[t] * scale
    frames = np.clip(np.round(sensor_noise(full, level.noise_sigma, level.shot_share, rng=rng)), 0, 255)
    frames = frames.astype(np.uint8)
    if level.codec is not None:
        frames = encode(frames, level.codec, level.bpp, fps)
    return Footage(frames=frames, truth=Truth(bg=bg.clip(0, 255), full=full.clip(0, 255), objects=objects,
                                              effects=effects))


def truth_from_scene(scene: Scene, plate_frames: int) -> Truth:
    """The tripod clip of a genbench scene with a static camera (`tripod_clip` of its `bg` and `full`): objects
    are its visible masks, effects the union of every object's recorded effect masks (shadows, reflections), or
    for a scene that records none, where `full` and `bg` differ by more than the scene's effect tolerance (the
    benchmark's effect region)."""
    from genbench.pixels import differs
    from genbench.samples import effect_tolerance

    objects = scene.visible > 0
    effects = np.zeros_like(objects)
    for kinds in scene.effects.values():
        for mask in kinds.values():
            effects |= mask > 0
    if not scene.effects:
        effects = differs(scene.rgb[contract.FULL], scene.rgb[contract.BG], effect_tolerance(scene.meta.quality))
    return tripod_clip(scene.rgb[contract.BG], scene.rgb[contract.FULL], objects, effects, plate_frames)
