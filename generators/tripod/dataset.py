"""A tripod dataset made end to end: the library call behind `genbench tripod` and the benchmark's builds.

`tripod_dataset(inputs, out, settings)` analyses every input (progress bar per input), writes the accepted
windows as scenes through the runner (resumable, progress bar per scene) and lists everything it did not use
in ``OUT/rejected.json``: ``{"rejected": [{input, path, window, frames: [start, stop], reason}], "inputs":
{name: {path, frames, windows, accepted, quality}}}``; `window` is null when the whole input was rejected
(camera moved, unreadable, no moving object). A run that accepts no window raises `NothingAccepted` with the
reasons before anything is written (no folder, no rejected.json): a dataset of nothing is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genbench.errors import GenbenchError, NothingAccepted
from genbench.generators.tripod.settings import TripodSettings
from genbench.runner import RunSummary
from genbench.storage import Root

REJECTED_FILE = "rejected.json"
REASONS_SHOWN = 4


@dataclass(frozen=True)
class TripodResult:
    """What `tripod_dataset` did: the runner's summary, how many windows it accepted, and what it rejected."""

    summary: RunSummary
    accepted: int
    rejected: list[dict]
    rejected_file: Root


def nothing_accepted(rejected: list[dict]) -> str:
    """One line: why no window of any input was accepted (the first `REASONS_SHOWN` reasons, then a count)."""
    parts = [f"{r['input']}" + ("" if r["window"] is None else f" frames {r['frames'][0]}-{r['frames'][1] - 1}")
             + ": " + " ".join(str(r["reason"]).split()) for r in rejected]
    more = f"; and {len(parts) - REASONS_SHOWN} more" if len(parts) > REASONS_SHOWN else ""
    return "no window accepted, nothing written: " + "; ".join(parts[:REASONS_SHOWN]) + more


def named_inputs(paths: list[Path]) -> list[tuple[Path, str]]:
    """(path, scene name) per input, checked: each exists, is a video file or a frame folder, names are unique."""
    from genbench.generators import video_io
    from genbench.generators.tripod.make import input_name

    inputs, names = [], {}
    for value in paths:
        path = Path(value)
        if not path.exists():
            raise GenbenchError(f"{path}: no such file or folder")
        if not (path.is_file() or video_io.is_frame_folder(path)):
            raise GenbenchError(f"{path}: neither a video file nor a folder of image frames")
        name = input_name(path)
        if name in names:
            raise GenbenchError(f"{path} and {names[name]} both give the scene name {name!r}; rename one")
        names[name] = path
        inputs.append((path, name))
    return inputs


def tripod_dataset(paths: list[Path], out: Root, settings: TripodSettings | None = None, *,
                   workers: int = 1) -> TripodResult:
    """Tripod pairs from the footage at `paths` (video files or frame folders) into `out` (a folder or a URL)."""
    settings = settings or TripodSettings()
    from genbench.generators.tripod.make import GENERATOR, PlannedScene, TripodMaker, analyse
    from genbench.progress import get_logger, track
    from genbench.runner import run_generation
    from genbench.storage import basename, child, open_output

    log = get_logger("tripod")
    inputs = named_inputs(paths)
    settings_dict = {**settings.to_dict(), "inputs": [name for _, name in inputs]}
    plan: list[PlannedScene] = []
    rejected: list[dict] = []
    summaries: dict[str, dict] = {}
    maker = TripodMaker(settings, settings_dict, plan)
    outcomes: dict[str, tuple[str | None, list, int]] = {}  # name -> (rejection, windows, frames): no pixels kept
    # Last input first: the maker keeps the analysis it was handed last, and the runner needs the first input first.
    for path, name in track(inputs[::-1], "analysing footage", unit="videos"):
        try:
            analysis = analyse(path, name, settings)
        except GenbenchError as exc:
            outcomes[name] = (f"unreadable: {exc}", [], 0)
            summaries[name] = {"path": str(path), "frames": 0, "windows": 0, "accepted": 0, "quality": {}}
            continue
        maker.remember(analysis)
        outcomes[name] = (analysis.rejection, analysis.windows, len(analysis.frames))
        summaries[name] = {"path": str(path), "frames": len(analysis.frames), "windows": len(analysis.windows),
                           "accepted": len(analysis.accepted), "quality": analysis.quality}
    for path, name in inputs:
        rejection, windows, frames = outcomes[name]
        if rejection:
            log.warning("%s rejected: %s", path, rejection)
            rejected.append({"input": name, "path": str(path), "window": None, "frames": [0, frames],
                             "reason": rejection})
            continue
        for window in windows:
            if window.reason is None:
                plan.append(PlannedScene(str(path), name, window.index, window.start, window.stop))
            else:
                rejected.append({"input": name, "path": str(path), "window": window.index,
                                 "frames": [window.start, window.stop], "reason": window.reason})
    summaries = {name: summaries[name] for _, name in inputs}  # input order
    if not plan:
        raise NothingAccepted(nothing_accepted(rejected))
    output = open_output(out)
    root = output.root
    summary = run_generation(root, name=basename(root), generator=GENERATOR, settings=settings_dict, count=len(plan),
                             make_scene=maker, scene_id_of=lambda i: plan[i].scene_id, workers=workers)
    output.write_json(REJECTED_FILE, {"rejected": rejected, "inputs": summaries})
    return TripodResult(summary, len(plan), rejected, child(root, REJECTED_FILE))
