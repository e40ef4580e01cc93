"""`genbench leaderboard submit|show|build`: add scored entries to a board, print it, or write its site."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SITE = "leaderboard-site"


def run(args: argparse.Namespace) -> int:
    from genbench.errors import GenbenchError
    from genbench.leaderboard.board import show_text
    from genbench.leaderboard.reported import read_reported, reported_text
    from genbench.leaderboard.store import read_board

    board = Path(args.board)
    if args.action in ("show", "build") and not board.is_dir():
        raise GenbenchError(f"{board}: no board there (no such folder); give --board DIR, or start one with "
                            f"genbench leaderboard submit PRED --method NAME --board {board}")
    if args.action == "show":
        reported = reported_text(read_reported(board))
        print(show_text(read_board(board)) + (f"\n\n{reported}" if reported else ""))
        return 0
    if args.action == "report":
        return _report(args, board)
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
    before = {e.id for e in read_board(board)}
    entry = submit(Submission(Path(args.predictions), args.method, args.authors, args.url, args.extra_data), board,
                   data=Path(args.data) if args.data else None, settings=settings)
    print(accepted_line(entry) if entry.id not in before else
          f"on the board already as {entry.id} ({entry.method}): the same frames for this split, task and protocol; "
          "nothing added")
    return 0


def _figures(args: argparse.Namespace) -> dict[str, float]:
    from genbench.errors import GenbenchError

    figures = {m: getattr(args, m) for m in ("psnr", "ssim", "lpips") if getattr(args, m, None) is not None}
    for item in args.metric:
        name, sep, text = item.partition("=")
        try:
            figures[name.strip()] = float(text)
        except ValueError:
            sep = ""
        if not sep:
            raise GenbenchError(f"--metric {item!r}: expected NAME=VALUE with a number, e.g. rc_s=0.52") from None
    return figures


def _report(args: argparse.Namespace, board: Path) -> int:
    """`leaderboard report`: add reported rows from the options or from --from."""
    from genbench.errors import GenbenchError
    from genbench.leaderboard.reported import LABEL, SHIPPED, Reported, add_reported, load_rows

    if args.from_file:
        if args.method or args.benchmark or args.source or _figures(args):
            raise GenbenchError("report: give either --from FILE or --method/--benchmark/figures/--source, not both")
        path = Path(args.from_file)
        if not path.is_file() and (SHIPPED / f"{args.from_file}.json").is_file():
            path = SHIPPED / f"{args.from_file}.json"
        rows = load_rows(path)
    else:
        if not args.method or not args.benchmark:
            raise GenbenchError("report needs --method NAME --benchmark NAME, figures (--psnr, --ssim, --lpips, "
                                "--metric NAME=VALUE) and --source \"citation\" (or --from FILE)")
        rows = [Reported(method=args.method, benchmark=args.benchmark, metrics=_figures(args), source=args.source,
                         url=args.url, note=args.note)]
    total = add_reported(board, rows)
    print(f"{board}: {len(rows)} row(s) added as {LABEL} ({len(total)} reported in all); "
          "they are shown apart from measured entries and never ranked")
    return 0
