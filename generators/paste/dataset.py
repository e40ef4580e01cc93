"""An object-paste dataset made end to end: the library call behind `genbench paste` and the benchmark's builds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from genbench.generators.paste.settings import PasteSettings
from genbench.runner import RunSummary
from genbench.storage import Root, basename, output_root


@dataclass(frozen=True)
class PasteResult:
    """What `paste_dataset` did: the runner's summary and the settings it recorded (which say what it read)."""

    summary: RunSummary
    settings: PasteSettings


def paste_dataset(out: Root, source: Path, targets: Path, count: int, *, seed: int = 0, shadow: bool = False,
                  frames: int | None = None, max_size: int | None = None, workers: int = 1) -> PasteResult:
    """Paste objects of the clips under `source` onto the clips under `targets`: `count` scenes into `out`."""
    from genbench.generators.paste.make import GENERATOR, PasteMaker, scene_id
    from genbench.generators.paste.sources import digest, find_sources, find_targets
    from genbench.runner import run_generation

    source_kind, sources = find_sources(Path(source))
    target_kind, found = find_targets(Path(targets))
    optional = {k: v for k, v in (("frames", frames), ("max_size", max_size)) if v is not None}
    settings = PasteSettings(
        seed=seed, shadow=bool(shadow), source_kind=source_kind, target_kind=target_kind,
        sources=len(sources), targets=len(found), sources_digest=digest([c.name for c in sources]),
        targets_digest=digest([c.name for c in found]), **optional,
    )
    out = output_root(out)
    summary = run_generation(
        out, name=basename(out), generator=GENERATOR, settings=settings.to_dict(), count=count,
        make_scene=PasteMaker(settings, tuple(sources), tuple(found)), scene_id_of=partial(scene_id, settings),
        workers=workers,
    )
    return PasteResult(summary, settings)
