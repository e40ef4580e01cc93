"""One progress-bar and logging convention for every long command (rich, on stderr).

Long work shows ``description  [bar]  done/total  rate  elapsed  ETA``; results go to
stdout and everything else (bars, logs) to stderr, so ``genbench ... > results.txt``
stays clean. Bars are hidden when stderr is not a terminal (CI logs, a cluster job's log file);
there a long task logs one line instead every `LOG_EVERY_SECONDS` (``description: done/total,
rate, ETA``), so a log shows that the work moves and when it will end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from rich.console import Console, RenderableType
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

T = TypeVar("T")

console = Console(stderr=True)
LOGGER_NAME = "genbench"
LOG_EVERY_SECONDS = 30.0  # without a terminal: one progress line per task at most this often


def rate_text(speed: float, unit: str) -> str:
    """Items per second, or per hour when slow (rendering is counted in scenes/hour)."""
    return f"{speed * 3600:.0f} {unit}/h" if speed < 1 else f"{speed:.1f} {unit}/s"


class RateColumn(ProgressColumn):
    """The bar's rate column (`rate_text`)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(rate_text(speed, self.unit) if speed else f"- {self.unit}/s", style="progress.data.speed")


class LoggedProgress(Progress):
    """A rich Progress that, when its bars are hidden (stderr is not a terminal), logs each task's progress as a
    line at most every `LOG_EVERY_SECONDS` instead."""

    def __init__(self, *columns: str | ProgressColumn, unit: str = "it", **kwargs) -> None:
        super().__init__(*columns, **kwargs)
        self.unit = unit
        self._logged: dict[TaskID, float] = {}
        self._first: dict[TaskID, float] = {}

    def add_task(self, description: str, *args, **kwargs) -> TaskID:
        task_id = super().add_task(description, *args, **kwargs)
        self._logged[task_id] = self.get_time()
        self._first[task_id] = self._tasks[task_id].completed
        return task_id

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def update(self, task_id: TaskID, **kwargs) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def _log(self, task_id: TaskID) -> None:
        now = self.get_time()
        if not self.disable or now - self._logged.get(task_id, now) < LOG_EVERY_SECONDS:
            return
        self._logged[task_id] = now
        task = self._tasks[task_id]
        get_logger("progress").info(progress_line(task, self.unit, self._first.get(task_id, 0.0)))


def progress_line(task: Task, unit: str, first: float = 0.0) -> str:
    """``description: done/total (percent), rate, ETA`` of a task, for logs. The rate is the average since the task
    began, of the work done since (`first`: what was already done then, e.g. by an earlier run resumed): a log
    line comes every half minute, while rich's own speed looks at the last 30 s only."""
    description = Text.from_markup(task.description).plain.strip()
    total = f"/{task.total:.0f} ({task.percentage:.0f}%)" if task.total else ""
    line = f"{description}: {task.completed:.0f}{total}"
    elapsed = task.elapsed or 0.0
    speed = (task.completed - first) / elapsed if elapsed > 0 else 0.0
    if speed > 0:
        line += f", {rate_text(speed, unit)}"
        if task.total:
            remaining = max(task.total - task.completed, 0) / speed
            line += f", ETA {time.strftime('%H:%M:%S', time.gmtime(remaining))}"
    return line


def make_progress(unit: str = "it") -> Progress:
    return LoggedProgress(
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
        unit=unit,
    )


@dataclass
class NodeCount:
    """Scenes one node finished: done, failed, and of those the ones it ran after a loss elsewhere."""

    done: int = 0
    failed: int = 0
    retried: int = 0


@dataclass
class SceneTally:
    """Scenes done / failed / retried, overall and per node, with the rate and ETA they imply.

    `lost` counts resubmissions (a scene whose worker or node was lost, run again); a node's
    `retried` counts the resubmitted scenes it finished. The clock starts at `begin`.
    """

    total: int = 0
    resubmitted: int = 0
    nodes: dict[str, NodeCount] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def begin(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()

    def lost(self) -> None:
        self.resubmitted += 1

    def finished(self, node: str, *, ok: bool, retried: bool = False) -> None:
        count = self.nodes.setdefault(node, NodeCount())
        count.done += ok
        count.failed += not ok
        count.retried += retried

    @property
    def done(self) -> int:
        return sum(c.done for c in self.nodes.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.nodes.values())

    def per_hour(self, scenes: int, now: float | None = None) -> float:
        hours = ((now if now is not None else time.monotonic()) - self.started) / 3600
        return scenes / hours if hours > 0 else 0.0

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds until every scene is finished at the rate so far (None before the first one)."""
        finished = self.done + self.failed
        rate = self.per_hour(finished, now)
        return (self.total - finished) / rate * 3600 if rate > 0 else None

    def rows(self, now: float | None = None) -> list[tuple[str, int, int, int, float]]:
        """(node, done, failed, retried, scenes per hour) per node, then "all"."""
        now = now if now is not None else time.monotonic()
        rows = [(node, c.done, c.failed, c.retried, self.per_hour(c.done, now))
                for node, c in sorted(self.nodes.items())]
        return [*rows, ("all", self.done, self.failed, self.resubmitted, self.per_hour(self.done, now))]

    def lines(self, now: float | None = None) -> list[str]:
        """The tally as log lines: one per node, then the total."""
        eta = self.eta_seconds(now)
        lines = [f"{node}: {done} done, {failed} failed, {retried} retried, {rate:.0f} scenes/hour"
                 for node, done, failed, retried, rate in self.rows(now)]
        if eta is not None and self.done + self.failed < self.total:
            lines[-1] += f", ETA {eta / 60:.0f} min"
        return lines

    def table(self, now: float | None = None) -> Table:
        table = Table("node", "done", "failed", "retried", "scenes/h", box=None, pad_edge=False)
        for node, done, failed, retried, rate in self.rows(now):
            table.add_row(node, str(done), str(failed), str(retried), f"{rate:.0f}")
        return table


class ClusterProgress(Progress):
    """The scene bar with a per-node table of `tally` under it (a run spread over a cluster's nodes)."""

    def __init__(self, tally: SceneTally) -> None:
        self.tally = tally  # before Progress.__init__, which renders once
        columns = make_progress("scenes").columns
        super().__init__(*columns, console=console, transient=False, disable=not console.is_terminal)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield self.tally.table()


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
