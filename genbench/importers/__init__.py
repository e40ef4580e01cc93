"""Published benchmarks and user folders as genbench datasets: one importer per layout, one registry.

Each importer module has ``RELEASE`` (what was read to learn its layout, pinned) and ``find(src, ...)``
returning `clip.PairClip`s; `build.import_clips` turns them into scenes. See docs/importing.md.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from genbench.registry import Registry


@dataclass(frozen=True)
class Importer:
    """name: the SOURCE of `genbench import`; module: where `find` and `RELEASE` live; folders: the folder
    options (`--inputs`, `--masks`, `--gt`) this importer takes."""

    name: str
    module: str
    summary: str
    folders: tuple[str, ...] = ()

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def release(self) -> str:
        return str(self.load().RELEASE)

    def find(self, src: Path, folders: dict[str, str | None]):  # -> list[PairClip]
        module = self.load()
        return module.find(Path(src), folders) if self.folders else module.find(Path(src))


IMPORTERS = Registry("importer")
for _imp in (
    Importer("prove-m", "genbench.importers.prove_m", "PROVE-Bench's paired tier (inputs, masks, ground truth mp4s)",
             ("inputs", "masks", "gt")),
    Importer("rose-bench", "genbench.importers.rose", "ROSE's rendered pairs (Env<N>_Unedited / _Edited / _Masked)"),
    Importer("omnimatte-kubric", "genbench.importers.omnimatte_kubric",
             "Generative Omnimatte's Kubric pairs (rgb_full, rgb_removed, mask trimask)"),
    Importer("davis", "genbench.importers.davis", "DAVIS 2017 videos + palette masks (no ground truth)"),
    Importer("pairs", "genbench.importers.pairs", "your folder: with/, without/ (optional), masks/"),
):
    IMPORTERS.register(_imp.name, _imp)

IMPORTER_NAMES = ("prove-m", "rose-bench", "omnimatte-kubric", "davis", "pairs")  # for --help, without importing
