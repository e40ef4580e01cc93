"""One progress-bar and logging convention for every long command (rich, on stderr).

Long work shows ``description  [bar]  done/total  rate  elapsed  ETA``; results go to
stdout and everything else (bars, logs) to stderr, so ``genbench ... > results.txt``
stays clean. Bars are hidden when stderr is not a terminal (CI logs), logs are not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

T = TypeVar("T")

console = Console(stderr=True)
LOGGER_NAME = "genbench"


class RateColumn(ProgressColumn):
    """Items per second, or per hour when slow (rendering is counted in scenes/hour)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text(f"- {self.unit}/s", style="progress.data.speed")
        if speed < 1:
            return Text(f"{speed * 3600:.0f} {self.unit}/h", style="progress.data.speed")
        return Text(f"{speed:.1f} {self.unit}/s", style="progress.data.speed")


def make_progress(unit: str = "it") -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def track(items: Iterable[T], description: str, *, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Iterate over `items` with a progress bar."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress(unit) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def configure_logging(verbosity: int = 0) -> None:
    """INFO by default, DEBUG with -v; quiet libraries (bpy, urllib3 ...) stay at WARNING."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 0 else logging.INFO)
    logger.propagate = False
