"""`genbench leaderboard submit|show|build`: add scored entries to a board, print it, or write its site."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SITE = "leaderboard-site"


def run(args: argparse.Namespace) -> int:
    from genbench.errors import GenbenchError
    from genbench.leaderboard.board import show_text
    from genbench.leaderboard.store import read_board

    board = Path(args.board)
    if args.action == "show":
        print(show_text(read_board(board)))
        return 0
    if args.action == "build":
        from genbench.leaderboard.site import build

        index = build(board, Path(args.out or DEFAULT_SITE))
        print(f"wrote {index} ({len(read_board(board))} entries)")
        return 0
    if not args.predictions or not args.method:
        raise GenbenchError("submit needs the predictions and a name: genbench leaderboard submit PRED --method NAME")
    from genbench.benchmark.harness import EvalSettings
    from genbench.leaderboard.submit import Submission, accepted_line, submit

    settings = EvalSettings(task=args.task, split=args.split, device=None if args.device == "auto" else args.device)
    entry = submit(Submission(Path(args.predictions), args.method, args.authors, args.url, args.extra_data), board,
                   data=Path(args.data) if args.data else None, settings=settings)
    print(accepted_line(entry))
    return 0
