"""What every method recipe shares: where the checkout and weights are, its status, and the file conversions.

A recipe runs a published method's own code from a local checkout (``--method NAME:CHECKOUT`` or
``GENBENCH_<NAME>_CHECKOUT``) with that checkout's interpreter (``GENBENCH_<NAME>_PYTHON``, default
``python``). Per clip it writes genbench's frames and trimask in the method's layout into a fresh
temporary folder (`Recipe.prepare`), runs the method's command there through the `external`
adapter's `run_program`, and reads the method's output back (`Recipe.collect`), resized to the input
size. Nothing is downloaded: a recipe whose checkout or weights are missing is "not installed" and
says what is missing.

Environment variables (NAME upper-cased, ``-`` as ``_``): ``GENBENCH_<NAME>_CHECKOUT``,
``GENBENCH_<NAME>_PYTHON``, ``GENBENCH_<NAME>_PASTE_BACK=1`` (copy the input back over the trimask's
preserve region, 255, after the method ran; off by default, recorded), and one per weight a recipe
names in `Recipe.weights`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from genbench import contract
from genbench.baselines.common import check_removal_inputs, resize_video
from genbench.baselines.external import ExternalMethodError, run_program
from genbench.errors import GenbenchError
from genbench.frames import read_image, write_image
from genbench.methods import RemovalMethod

CONVERTER_VERSION = 1  # bump when a converter's output for the same method output changes
STATUS_READY = "ready"
STATUS_MISSING = "not installed"
STATUS_NO_CODE = "no public code"
PLAYBACK_FPS = 24  # frame rate written into mp4 inputs where the method reads one (timing only, never resampled)

# interpolation per direction: the published methods downsample with area averaging and upsample bicubically
AREA, BICUBIC, BILINEAR, NEAREST = cv2.INTER_AREA, cv2.INTER_CUBIC, cv2.INTER_LINEAR, cv2.INTER_NEAREST


@dataclass(frozen=True)
class Source:
    """The public code a recipe was written against."""

    repo: str  # https URL
    commit: str  # the commit whose files were read
    paper: str
    files: tuple[str, ...] = ()  # the files whose interface the recipe follows


@dataclass(frozen=True)
class Weight:
    """A file or folder the method loads: a path inside the checkout, or from an environment variable."""

    label: str
    default: str | None  # relative to the checkout (or absolute); None: only the environment variable gives it
    env_suffix: str | None = None  # GENBENCH_<NAME>_<SUFFIX>; None: a path fixed in the method's code


@dataclass
class Status:
    name: str
    status: str  # STATUS_READY, STATUS_MISSING or STATUS_NO_CODE
    source: str
    missing: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        return self.status + (": " + "; ".join(self.missing) if self.missing else "")


def env_name(method: str, suffix: str) -> str:
    return f"GENBENCH_{method.upper().replace('-', '_')}_{suffix}"


@dataclass
class Job:
    """One run of the method's program: its arguments after the interpreter, where it runs, what it writes."""

    args: list[str]
    cwd: Path
    output: Path


class Recipe(RemovalMethod):
    """Base of the method recipes. A subclass sets the class attributes and implements `prepare` and `collect`."""

    needs_checkout: ClassVar[bool] = True  # built only with a local checkout: never run by default
    name: ClassVar[str]
    source: ClassVar[Source]
    weights: ClassVar[tuple[Weight, ...]] = ()
    entry: ClassVar[tuple[str, ...]] = ()  # the checkout's scripts the recipe runs (relative paths)
    settings: ClassVar[dict[str, Any]] = {}  # the method options genbench passes (recorded)
    resize: ClassVar[str] = ""  # how frames reach the method's resolution and come back
    frames_rule: ClassVar[str] = ""  # the method's frame-count limit and what genbench does about it
    hardware: ClassVar[str] = ""

    def __init__(self, checkout: str | None = None) -> None:
        status = self.status(checkout)
        if status.status != STATUS_READY:
            raise GenbenchError(f"method {self.name!r} is {status.line}")
        self.checkout = self.checkout_path(checkout)
        self.python = os.environ.get(env_name(self.name, "PYTHON"), "python")
        self.paste_back = self.paste_back_on()

    # -- where things are ----------------------------------------------------------------------------
    @classmethod
    def checkout_path(cls, argument: str | None) -> Path | None:
        value = argument or os.environ.get(env_name(cls.name, "CHECKOUT"))
        return Path(value).expanduser().resolve() if value else None

    @classmethod
    def weight_path(cls, weight: Weight, checkout: Path) -> Path | None:
        value = (os.environ.get(env_name(cls.name, weight.env_suffix)) if weight.env_suffix else None) or weight.default
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else checkout / path

    @classmethod
    def paste_back_on(cls) -> bool:
        return os.environ.get(env_name(cls.name, "PASTE_BACK"), "0") not in ("", "0")

    @classmethod
    def status(cls, argument: str | None = None) -> Status:
        """ready, or not installed with what is missing (the checkout, its scripts, weights)."""
        checkout = cls.checkout_path(argument)
        out = Status(cls.name, STATUS_MISSING, cls.source.repo)
        if checkout is None:
            variable = env_name(cls.name, "CHECKOUT")
            out.missing.append(f"no checkout: pass --method {cls.name}:CHECKOUT or set {variable}")
            return out
        if not checkout.is_dir():
            out.missing.append(f"checkout {checkout} is not a folder")
            return out
        out.missing += [f"{checkout / e} missing (not a checkout of {cls.source.repo}?)"
                        for e in cls.entry if not (checkout / e).is_file()]
        for weight in cls.weights:
            path = cls.weight_path(weight, checkout)
            where = (f"set {env_name(cls.name, weight.env_suffix)}" if weight.env_suffix
                     else "a path fixed in the method's code")
            if path is None:
                out.missing.append(f"{weight.label}: {where}")
            elif not path.exists():
                out.missing.append(f"{weight.label} not at {path} ({where})")
        if not out.missing:
            out.status = STATUS_READY
        return out

    # -- what results.json records -------------------------------------------------------------------
    @classmethod
    def describe(cls, argument: str | None = None) -> dict[str, Any]:
        """The recipe's version, the commit it follows and the checkout's, and every setting."""
        checkout = cls.checkout_path(argument)
        return {"recipe": cls.name, "converter_version": CONVERTER_VERSION, "repo": cls.source.repo,
                "commit_read": cls.source.commit, "paper": cls.source.paper,
                "checkout": str(checkout) if checkout else None,
                "checkout_commit": git_commit(checkout) if checkout else None,
                "settings": dict(cls.settings), "resize": cls.resize, "frames": cls.frames_rule,
                "paste_back": cls.paste_back_on()}

    @classmethod
    def fingerprint(cls, argument: str | None = None) -> str:
        """sha256 of `describe` minus the checkout's path: a new commit or setting gives new predictions."""
        record = {k: v for k, v in cls.describe(argument).items() if k != "checkout"}
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()

    # -- running -------------------------------------------------------------------------------------
    def prepare(self, work: Path, frames: np.ndarray, trimask: np.ndarray) -> Job:
        """Write the clip in the method's layout under `work`; return the command to run."""
        raise NotImplementedError

    def collect(self, job: Job, shape: tuple[int, ...]) -> np.ndarray:
        """The method's output as (T, H, W, 3) uint8 at the input's size (`shape`)."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def refuse_longer(self, frames: np.ndarray, limit: int) -> None:
        """One clear error for a clip longer than the method takes (the protocol's --max-frames cuts clips)."""
        if len(frames) > limit:
            raise GenbenchError(f"method {self.name!r} takes at most {limit} frames; the clip has {len(frames)} "
                                f"(pass --max-frames {limit})")

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        check_removal_inputs(frames, trimask)
        with tempfile.TemporaryDirectory(prefix=f"genbench-{self.name}-") as tmp:
            job = self.prepare(Path(tmp), frames, trimask)
            run_program([self.python, *job.args], f"method {self.name!r} ({self.python} {' '.join(job.args[:1])})",
                        cwd=job.cwd, env=self.environment())
            out = self.collect(job, frames.shape)
        if out.shape != frames.shape:
            raise ExternalMethodError(f"method {self.name!r} gave frames of shape {out.shape}; expected {frames.shape}")
        if self.paste_back:
            keep = trimask == contract.TRIMASK_PRESERVE
            out = np.where(keep[..., None], frames, out)
        return out


class Unavailable(RemovalMethod):
    """A method the field compares against that genbench cannot run: no public code, or none to read here."""

    needs_checkout: ClassVar[bool] = True
    name: ClassVar[str]
    source: ClassVar[Source]
    reason: ClassVar[str]
    status_kind: ClassVar[str] = STATUS_NO_CODE

    def __init__(self, checkout: str | None = None) -> None:
        raise GenbenchError(f"method {self.name!r}: {self.status_kind}: {self.reason}")

    @classmethod
    def status(cls, argument: str | None = None) -> Status:
        return Status(cls.name, cls.status_kind, cls.source.repo, [cls.reason])

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:  # pragma: no cover - never built
        raise GenbenchError(self.reason)


def git_commit(checkout: Path) -> str | None:
    """The checkout's HEAD commit, or None when it is not a git work tree (or git is absent)."""
    try:
        done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# -- conversions --------------------------------------------------------------------------------------
def hole_mask(trimask: np.ndarray) -> np.ndarray:
    """(T, H, W) uint8: 255 where the trimask says remove (0), else 0: the white-is-hole binary mask."""
    return np.where(trimask == contract.TRIMASK_REMOVE, 255, 0).astype(np.uint8)


def back_to_input(frames: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The method's frames at the input size: area averaging when shrinking, bicubic when enlarging."""
    height, width = shape[1:3]
    shrink = frames.shape[1] * frames.shape[2] >= height * width
    return resize_video(frames, height, width, AREA if shrink else BICUBIC)


def mirror_pad(frames: np.ndarray, count: int) -> np.ndarray:
    """`frames` extended to `count` by appending the clip played backwards, then forwards ... (ping-pong)."""
    out = frames
    while len(out) < count:
        out = np.concatenate([out, out[::-1]])
    return out[:count]


def next_length(count: int, step: int, minimum: int = 1) -> int:
    """The smallest k * step + 1 >= max(count, minimum): the frame counts of 4k+1 / 8k+1 / 16k+1 video models."""
    need = max(count, minimum)
    return -(-(need - 1) // step) * step + 1


def write_pngs(folder: Path, frames: np.ndarray, digits: int = 5) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        write_image(folder / f"{i:0{digits}d}.png", frame)


def read_pngs(folder: Path, count: int) -> np.ndarray:
    """The first `count` PNGs of a method's output folder (sorted by name), RGB."""
    paths = sorted(folder.glob("*.png")) if folder.is_dir() else []  # the method's names, e.g. 0000.png
    if len(paths) < count:
        raise ExternalMethodError(f"method output {folder} has {len(paths)} PNG frames; expected {count}")
    frames = [read_image(p) for p in paths[:count]]
    return np.stack([np.repeat(f[..., None], 3, axis=2) if f.ndim == 2 else f[..., :3] for f in frames])


def write_mp4(path: Path, frames: np.ndarray, fps: int = PLAYBACK_FPS) -> None:
    """H.264 at constant quantiser 0 in 4:4:4 (lossless but for RGB-YUV rounding) for the ffmpeg-based readers the
    methods use (cv2, PyAV, mediapy, imageio); even sizes only, as some decoders need."""
    import imageio_ffmpeg

    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=3)
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise GenbenchError(f"an mp4 input needs an even frame size, got {width}x{height}")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv444p",
                                         macro_block_size=1, quality=None, output_params=["-qp", "0"],
                                         ffmpeg_log_level="error")
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def read_mp4(path: Path, count: int) -> np.ndarray:
    """The first `count` frames, (count, H, W, 3) uint8 RGB, of an mp4 the method wrote (padding is not decoded)."""
    import imageio_ffmpeg

    if not path.is_file():
        raise ExternalMethodError(f"the method wrote no {path.name} in {path.parent}")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        width, height = next(reader)["size"]
        frames = []
        for data in reader:
            frames.append(np.frombuffer(data, np.uint8).reshape(height, width, 3))
            if len(frames) == count:
                break
    finally:
        reader.close()
    if len(frames) < count:
        raise ExternalMethodError(f"{path} has {len(frames)} frames; expected at least {count}")
    return np.stack(frames)
