"""`external`: run any program as a removal method, through PNG folders.

The program is given as a command template with the placeholders ``{input}`` and
``{output}``, e.g. ``python my_method.py {input} {output}``. For each clip genbench writes,
into a fresh temporary folder::

    {input}/frames/00000.png ...    uint8 RGB input frames
    {input}/trimask/00000.png ...   uint8 grey trimask: 0 remove, 128 uncertain, 255 preserve

creates the empty folder ``{output}``, runs the command, and reads ``{output}/00000.png ...``
back: exactly as many frames as the input, RGB, 8 bits, the input's size. The template is
split like a shell line (shlex) and run without a shell; the placeholders are replaced by
absolute paths inside each word, so paths with spaces are safe. Wrap the line in
``sh -c '...'`` to use pipes or variables. The process starts in the current folder with
the current environment.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.baselines.common import check_removal_inputs
from genbench.errors import DatasetError, GenbenchError
from genbench.frames import frame_paths, read_image, write_video
from genbench.methods import RemovalMethod

PLACEHOLDERS = ("{input}", "{output}")
FRAMES_DIR = "frames"


class ExternalMethodError(GenbenchError):
    """The external program failed or wrote something other than the frames asked for."""


class External(RemovalMethod):
    """Runs a user's program over each clip (see the module docstring for the folder layout).

    command: the command template; both ``{input}`` and ``{output}`` must appear in it.
    timeout: seconds before the program is killed (None: no limit).

    Known failures are the program's own; it is deterministic only if the program is.
    Errors (the program exits non-zero, cannot be started, times out, or writes the wrong
    number, size or kind of frames) raise ExternalMethodError with the reason and the end
    of the program's stderr.
    """

    def __init__(self, command: str | None = None, timeout: float | None = None) -> None:
        if not command:
            raise GenbenchError("the external method needs a command template, e.g. "
                                "'external:python my_method.py {input} {output}'")
        missing = [p for p in PLACEHOLDERS if p not in command]
        if missing:
            raise GenbenchError(f"external command {command!r} lacks {' and '.join(missing)}; it must contain "
                                "{input} (folder with frames/ and trimask/) and {output} (folder to fill)")
        try:
            self.words = shlex.split(command)
        except ValueError as exc:
            raise GenbenchError(f"external command {command!r} cannot be split into words: {exc}") from None
        self.command, self.timeout = command, timeout

    def argv(self, input_dir: Path, output_dir: Path) -> list[str]:
        """The command line for one clip: the template's words with the placeholders filled."""
        return [w.replace("{input}", str(input_dir)).replace("{output}", str(output_dir)) for w in self.words]

    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames (T, H, W, 3) uint8, trimask (T, H, W) uint8 -> the program's (T, H, W, 3) uint8 frames."""
        check_removal_inputs(frames, trimask)
        with tempfile.TemporaryDirectory(prefix="genbench-external-") as tmp:
            input_dir, output_dir = Path(tmp) / "input", Path(tmp) / "output"
            write_video(input_dir / FRAMES_DIR, frames)
            write_video(input_dir / contract.TRIMASK_DIR, trimask)
            output_dir.mkdir()
            self._run(self.argv(input_dir.resolve(), output_dir.resolve()))
            return read_output(output_dir, frames.shape)

    def _run(self, argv: list[str]) -> None:
        run_program(argv, f"external command {self.command!r}", self.timeout)


def run_program(argv: list[str], label: str, timeout: float | None = None, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> None:
    """Run `argv` without a shell; raise ExternalMethodError (starting with `label`) when it cannot start,
    times out or exits non-zero, with the end of its stderr."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    except FileNotFoundError:
        raise ExternalMethodError(f"{label}: program {argv[0]!r} not found") from None
    except subprocess.TimeoutExpired:
        raise ExternalMethodError(f"{label} ran longer than {timeout} s") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or "no stderr"
        raise ExternalMethodError(f"{label} exited with {done.returncode}: {tail}")


def read_output(folder: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Read and check the program's frames: `shape` is the input's (T, H, W, 3)."""
    count, height, width = shape[:3]
    paths = frame_paths(folder)
    names = [p.name for p in paths]
    expected = [contract.frame_name(i) for i in range(count)]
    if names != expected:
        got = f"{len(names)} frames ({names[0]} .. {names[-1]})" if names else "no frames"
        raise ExternalMethodError(f"external method wrote {got} to its output folder; expected {count} frames "
                                  f"{expected[0]} .. {expected[-1]}")
    out = []
    for path in paths:
        try:
            frame = read_image(path)
        except (DatasetError, OSError) as exc:
            raise ExternalMethodError(f"external method output {path.name}: {exc}") from None
        if frame.ndim != 3 or frame.shape[2] != 3:
            kind = "grey" if frame.ndim == 2 else f"{frame.shape[2]}-channel"
            raise ExternalMethodError(f"external method output {path.name} is a {kind} PNG; write 8-bit RGB")
        if frame.shape[:2] != (height, width):
            raise ExternalMethodError(f"external method output {path.name} is {frame.shape[1]}x{frame.shape[0]}; "
                                      f"the input is {width}x{height}")
        out.append(frame)
    return np.stack(out)
