"""`make leaderboard`: run the built-in baselines, Casper and omnimatte (when registered) and submit each.

Every method is found through the registry (`genbench.methods.METHODS`), its predictions are made by
the benchmark's own `Evaluator.predict` (cached under `--runs`), and they enter the board through
the same `submit` as anyone's, so the baselines pass the same checks. A method already on the board
for the same task, dataset version, split and benchmark protocol version is skipped, so a rerun adds
nothing; an entry scored under an older protocol does not count, so after a protocol change the
rerun scores every baseline anew (the old entries stay, shown apart).

    python -m genbench.leaderboard.baselines [--board DIR] [--data DIR] [--runs DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.benchmark import items as it
from genbench.benchmark.harness import PREDICTIONS_DIR, EvalSettings, Evaluator, default_data
from genbench.benchmark.metrics import PROTOCOL_VERSION, FrameScorer
from genbench.errors import GenbenchError
from genbench.leaderboard.store import Entry, read_board
from genbench.leaderboard.submit import Submission, submit
from genbench.methods import METHODS
from genbench.progress import configure_logging, get_logger

log = get_logger("leaderboard")
AUTHORS = "genbench baselines"
URL = "https://github.com/genbench/genbench"
REMOVAL = ("identity", "cv2-inpaint", "median", "flow-propagation", "casper")
LAYERING = ("mask-alpha", "omnimatte")  # omnimatte: Casper clean plate and solos + the layer optimiser


def enter_baselines(board: Path, data: Path | None = None, runs: Path = Path("leaderboard-runs"), *,
                    split: str = "test", device: str | None = None, scorer: FrameScorer | None = None,
                    methods: dict[str, tuple[str, ...]] | None = None) -> list[Entry]:
    """Predict with and submit each registered baseline not yet on the board; returns the new entries."""
    data = Path(data) if data is not None else default_data()
    methods = methods or {"removal": REMOVAL, "layering": LAYERING}
    scorer = scorer or FrameScorer(device)
    digest = it.dataset_digest(data)
    added: list[Entry] = []
    for task, names in methods.items():
        settings = EvalSettings(task=task, split=split, device=device)
        try:
            evaluator = Evaluator(data, settings, scorer)
        except GenbenchError as exc:
            log.warning("no %s baselines: %s", task, exc)
            continue
        for name in names:
            if name not in METHODS:
                log.warning("%s is not registered here; skipped", name)
                continue
            if any(e.method == name and e.task == task and e.dataset["sha256"] == digest and e.dataset["split"] == split
                   and e.protocol_version == PROTOCOL_VERSION for e in read_board(board)):
                log.info("%s (%s) is on the board already (protocol v%d)", name, task, PROTOCOL_VERSION)
                continue
            root = Path(runs) / task / PREDICTIONS_DIR / name
            try:
                evaluator.predict(name, root, METHODS)
            except GenbenchError as exc:  # e.g. Casper without a checkpoint: say so, enter the rest
                log.warning("%s could not run: %s", name, exc)
                continue
            added.append(submit(Submission(root, name, AUTHORS, URL), board, data=data, settings=settings,
                                scorer=scorer))
    return added


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m genbench.leaderboard.baselines", description=__doc__.split("\n")[0])
    p.add_argument("--board", default="leaderboard-store", help="board store folder (default ./leaderboard-store)")
    p.add_argument("--data", help="benchmark dataset (default: the built-in benchmark split)")
    p.add_argument("--split", default="test", help="split (default test)")
    p.add_argument("--runs", default="leaderboard-runs", help="where predictions are cached")
    p.add_argument("--device", default=None, help="torch device for LPIPS (default: CUDA when available)")
    args = p.parse_args(argv)
    configure_logging()
    try:
        added = enter_baselines(Path(args.board), Path(args.data) if args.data else None, Path(args.runs),
                                split=args.split, device=args.device)
    except GenbenchError as exc:
        print(f"leaderboard baselines: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"{len(added)} entr{'y' if len(added) == 1 else 'ies'} added to {args.board}: "
          + (", ".join(f"{e.method} ({e.task})" for e in added) or "none new"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
