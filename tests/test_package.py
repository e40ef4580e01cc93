"""The distribution installs one namespace, `genbench.*`, and nothing at the top level."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ["generators", "benchmark", "baselines", "models", "leaderboard"]


def test_subpackages_import_from_their_folders() -> None:
    import importlib

    for name in SUBPACKAGES:
        module = importlib.import_module(f"genbench.{name}")
        assert Path(module.__file__).parent == REPO / name


def test_no_bare_top_level_modules(tmp_path: Path) -> None:
    code = ("import importlib.util, sys; "
            f"print([n for n in {SUBPACKAGES!r} if importlib.util.find_spec(n) is not None])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_wheel_maps_folders_into_genbench(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("genbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"genbench", next(t for t in tops if t.endswith(".dist-info"))}
    for name in SUBPACKAGES:
        assert f"genbench/{name}/__init__.py" in names
    assert "genbench/generators/toy.py" in names
    assert not any(n.startswith("tests/") for n in names)
    # the data a fresh install needs: the frozen benchmark split with its checksums, the Casper checkpoint
    from genbench.benchmark.split import SHIPPED_SPLITS, file_digests

    for key, root in SHIPPED_SPLITS.items():
        assert {f"genbench/benchmark/{key}/{rel}" for rel in file_digests(root)} <= set(names), key
        assert f"genbench/benchmark/{key}.sha256" in names
    assert {f"genbench/benchmark/full-v{v}.sha256" for v in (1, 2, 3)} <= set(names)
    assert any(n.startswith("genbench/models/casper/weights/") for n in names)


def test_import_is_light() -> None:
    code = "import sys, genbench.cli; print(sorted(m for m in ('bpy', 'torch', 'cv2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
