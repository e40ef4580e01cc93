"""Progress: the cluster display (scenes done / failed / retried per node, rate and ETA from the tally), and the
lines a long task logs where no terminal shows its bar."""

from __future__ import annotations

import logging
import os

import pytest
from rich.console import Console
from rich.progress import TextColumn

from genbench import progress
from genbench.progress import ClusterProgress, LoggedProgress, SceneTally


def test_tally_counts_per_node_and_projects_the_eta() -> None:
    tally = SceneTally()
    tally.begin(10)
    tally.finished("10.0.0.1 aaaa", ok=True)
    tally.finished("10.0.0.1 aaaa", ok=False)
    tally.lost()
    tally.finished("10.0.0.2 bbbb", ok=True, retried=True)
    tally.finished("10.0.0.2 bbbb", ok=True)
    # 4 scenes finished in 0.1 h: 40 per hour, 6 to go -> 9 minutes. The monotonic clock is a large
    # float on a long-running machine, so `started + 360 - started` is 360 only to rounding.
    now = tally.started + 360
    assert tally.rows(now) == [("10.0.0.1 aaaa", 1, 1, 0, pytest.approx(10.0)),
                               ("10.0.0.2 bbbb", 2, 0, 1, pytest.approx(20.0)),
                               ("all", 3, 1, 1, pytest.approx(30.0))]
    assert tally.eta_seconds(now) == pytest.approx(540.0)
    assert tally.lines(now)[-1] == "all: 3 done, 1 failed, 1 retried, 30 scenes/hour, ETA 9 min"


def test_cluster_progress_shows_the_bar_and_a_row_per_node() -> None:
    tally = SceneTally()
    tally.begin(3)
    tally.finished("127.0.0.1 1234abcd", ok=True)
    progress = ClusterProgress(tally)
    progress.add_task("kubric on ray", total=3, completed=1)
    console = Console(record=True, width=120)
    for renderable in progress.get_renderables():
        console.print(renderable)
    text = console.export_text()
    assert "kubric on ray" in text and "1/3" in text
    assert "127.0.0.1 1234abcd" in text and "retried" in text and "all" in text


def test_without_a_terminal_a_long_task_logs_a_line_every_interval() -> None:
    """Bars hidden (no terminal): a line at most every LOG_EVERY_SECONDS per task with done/total, percent,
    rate and ETA; with a terminal (bars shown), none."""
    clock = [1000.0]
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("genbench.progress")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with LoggedProgress(TextColumn("{task.description}"), disable=True, get_time=lambda: clock[0],
                            unit="clips") as bars:
            task = bars.add_task("[bold]eval[/bold]: casper", total=40)
            for _ in range(40):
                clock[0] += 2.0  # a clip every 2 s: 0.5 clips/s
                bars.advance(task)
        assert lines[0] == "eval: casper: 15/40 (38%), 1800 clips/h, ETA 00:00:50"  # after 30 s
        assert len(lines) == 2 and lines[1].startswith("eval: casper: 30/40 (75%)")
        lines.clear()
        with LoggedProgress(TextColumn("{task.description}"), disable=True, get_time=lambda: clock[0],
                            unit="steps") as bars:  # resumed at step 100: the rate counts this run's steps only
            task = bars.add_task("train", total=400, completed=100)
            for _ in range(100):
                clock[0] += 0.5
                bars.advance(task)
        assert lines[0] == "train: 160/400 (40%), 2.0 steps/s, ETA 00:02:00"
        lines.clear()
        shown = LoggedProgress(TextColumn("{task.description}"), disable=False, get_time=lambda: clock[0],
                               console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
        task = shown.add_task("eval", total=3)
        clock[0] += 10 * progress.LOG_EVERY_SECONDS
        shown.advance(task)
        assert not lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
