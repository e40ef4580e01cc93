"""The command line: help for every command, honest failures, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from genbench.cli import main
from genbench.commands import COMMANDS

GENBENCH = str(Path(sys.executable).with_name("genbench"))


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: genbench {command}" in out and "Outputs:" in out


def test_required_commands_exist() -> None:
    names = {c.name for c in COMMANDS}
    assert names == {"render", "paste", "tripod", "validate", "metrics", "eval", "train", "decompose", "edit",
                     "publish", "leaderboard", "benchmark", "demo", "import", "methods"}


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_library_errors_become_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = subprocess.run([GENBENCH, "demo", "--out", str(tmp_path / "file")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("genbench demo: error:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("argv", "option"), [
    (["render", "--scenes", "0"], "--scenes"),
    (["render", "--scenes", "-2", "--estimate"], "--scenes"),
    (["paste", "--source", "SRC", "--targets", "SRC", "--count", "0"], "--count"),
])
def test_asking_for_no_scenes_is_an_error_that_writes_nothing(argv: list[str], option: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = [str(tmp_path) if a == "SRC" else a for a in argv]
    assert main([*argv, "--out", str(out)]) == 1
    given = argv[argv.index(option) + 1]
    assert capsys.readouterr().err.strip() == (
        f"genbench {argv[0]}: error: {option} must be >= 1 (the number of scenes to make), got {given}")
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["paste", "--source", "SRC", "--targets", "SRC", "--count", "1", "--out", "OUT"],
    ["tripod", "SRC", "--out", "OUT"],
    ["validate", "SRC"],
    ["render", "--scenes", "1", "--out", "OUT"],
])
def test_no_workers_is_an_error_that_writes_nothing(argv: list[str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = [{"SRC": str(tmp_path), "OUT": str(out)}.get(a, a) for a in argv]
    assert main([*argv, "--workers", "0"]) == 1
    assert capsys.readouterr().err.strip() == f"genbench {argv[0]}: error: --workers must be >= 1, got 0"
    assert not out.exists()


@pytest.mark.parametrize(("resolution", "warned"), [(30, True), (31, False)])
def test_render_warns_before_making_frames_eval_cannot_score(resolution: int, warned: bool, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """Frames under LPIPS's least size train fine, but `genbench eval` refuses them: render says so up front."""
    from genbench.benchmark.metrics import MIN_SIZE
    from genbench.errors import GenbenchError
    from genbench.generators.kubric import dataset

    def stop_before_rendering(*args, **kwargs):
        raise GenbenchError("stopped before rendering")

    monkeypatch.setattr(dataset, "render_dataset", stop_before_rendering)
    assert main(["render", "--scenes", "1", "--preset", "tiny", "--resolution", str(resolution),
                 "--out", str(tmp_path / "out")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert ("cannot be scored" in err) is warned and "stopped before rendering" in err
    assert not warned or f"needs at least {MIN_SIZE}x{MIN_SIZE}" in err


def test_an_unreachable_dataset_url_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "http://127.0.0.1:9/data"  # the discard port: nothing listens, the connection is refused at once
    assert main(["eval", "--method", "identity", "--data", url, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"genbench eval: error: cannot read {url}: ") and \
        err[0].endswith("check the address, the network and the credentials")
    assert not (tmp_path / "out").exists()


def test_a_cuda_device_where_there_is_none_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert main(["metrics", str(tmp_path / "a.png"), str(tmp_path / "a.png"), "--device", "cuda"]) == 1
    assert capsys.readouterr().err.strip() == \
        "genbench metrics: error: --device cuda: no CUDA device here; use --device cpu"


def test_version() -> None:
    result = subprocess.run([GENBENCH, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("genbench ")


def test_the_console_script_runs_exit_hooks_and_keeps_the_exit_code(tmp_path: Path) -> None:
    # The script ends with os._exit (native libraries can abort in their static destructors after the
    # work is done); Python's atexit hooks and buffered output must still happen, and the code is main's.
    script = ("import atexit, sys; from genbench import cli; atexit.register(print, 'hook ran'); "
              "print('buffered', end=''); sys.argv = ['genbench', 'validate', sys.argv[1]]; cli.entry()")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "missing")], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("buffered") and "INVALID" in result.stdout and "hook ran" in result.stdout
