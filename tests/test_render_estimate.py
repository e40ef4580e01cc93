"""`genbench render --estimate`: renders sample scenes elsewhere, writes nothing to --out, projects honestly."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from genbench.cli import main
from genbench.generators.kubric.estimate import Estimate, SampleScene, folder_bytes
from genbench.generators.kubric.make import RenderOptions, make_scene
from genbench.generators.kubric.settings import resolve_settings
from genbench.scene import scene_dir, write_scene

pytestmark = pytest.mark.slow


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return float(match.group(1))


def test_estimate_writes_nothing_and_projects_the_measured_sample(tmp_path: Path, capsys, monkeypatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "out"
    argv = ["render", "--scenes", "10000", "--out", str(out), "--preset", "tiny", "--frames", "2", "--seed", "4",
            "--estimate", "--estimate-scenes", "1"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert not out.exists() and not list(scratch.iterdir())  # nothing in --out, the sample folder removed

    wall = number(r"([\d.]+) s wall,", text)
    cpu = number(r"([\d.]+) CPU s", text)
    per_scene = number(r"(\d+) bytes per scene", text)
    assert number(r"([\d.]+) hours wall", text) == pytest.approx(10000 * wall / 3600, rel=0.01, abs=0.01)
    assert number(r"([\d.]+) core-hours", text) == pytest.approx(10000 * cpu / 3600, rel=0.01, abs=0.01)
    assert number(r"([\d.]+) GB of output", text) == pytest.approx(10000 * per_scene / 1e9, abs=0.001)

    # The sample's bytes, a second way: the same scene rendered and written here (byte-identical but for
    # run.json's timings, whose digits may differ), with its preview.
    from genbench.generators.kubric.preview import write_preview

    settings = resolve_settings("tiny", seed=4, frames=2)
    scene = make_scene(settings, 0, RenderOptions(threads=1))
    write_scene(tmp_path / "again", scene)
    write_preview(tmp_path / "again", scene.meta.scene_id)
    assert per_scene == pytest.approx(folder_bytes(scene_dir(tmp_path / "again", scene.meta.scene_id)), abs=600)
    assert wall > 0 and cpu > 0


def test_estimate_is_the_sample_mean_times_the_scenes() -> None:
    samples = (SampleScene("a", 10.0, 18.0, 1_000_000), SampleScene("b", 30.0, 42.0, 3_000_000))
    estimate = Estimate(scenes=7200, samples=samples, cores=2)
    assert (estimate.wall_hours, estimate.core_hours, estimate.total_bytes) == (40.0, 60.0, 1.44e10)
    assert "40.00 hours wall" in estimate.lines()[1] and "60.00 core-hours" in estimate.lines()[1]


def test_estimate_refuses_bad_sample_counts(tmp_path: Path, capsys) -> None:
    argv = ["render", "--scenes", "5", "--out", str(tmp_path / "o"), "--preset", "tiny", "--estimate",
            "--estimate-scenes", "0"]
    assert main(argv) != 0
    assert "--estimate-scenes must be >= 1" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_the_readme_estimate_is_its_sample_times_ten_thousand() -> None:
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    sample = re.search(r"measured one scene at (\d+) s wall, (\d+) CPU s and ([\d.]+) MB", readme)
    projected = re.search(r"\*\*(\d+) hours wall on this machine \((\d+) days\), (\d+) core-hours, ([\d.]+) GB", readme)
    assert sample and projected
    wall, cpu, megabytes = (float(x) for x in sample.groups())
    hours, days, core_hours, gigabytes = (float(x) for x in projected.groups())
    assert hours == pytest.approx(10000 * wall / 3600, rel=0.001) and days == pytest.approx(hours / 24, abs=1)
    assert core_hours == pytest.approx(10000 * cpu / 3600, rel=0.001)
    assert gigabytes == pytest.approx(10000 * megabytes / 1000, rel=0.001)
