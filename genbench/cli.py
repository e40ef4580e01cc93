"""The `genbench` command line. Libraries raise; this is the one place that exits."""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from collections.abc import Sequence

import genbench
from genbench.commands import BY_NAME, COMMANDS
from genbench.errors import GenbenchError
from genbench.progress import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genbench",
        description="Paired video data, a Generative Omnimatte reference, and a benchmark for video "
                    "object-and-effect removal and omnimatte layering.",
    )
    parser.add_argument("--version", action="version", version=f"genbench {genbench.__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.summary, description=f"{cmd.summary}.",
                           epilog=f"Outputs: {cmd.description}")
        cmd.add_arguments(p)
    return parser


def run(argv: Sequence[str]) -> int:
    argv = list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    configure_logging(args.verbose)
    module_name, func_name = BY_NAME[args.command].target.split(":")
    return int(getattr(importlib.import_module(module_name), func_name)(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv)
    except GenbenchError as exc:
        name = next((a for a in argv if not a.startswith("-")), "")
        print(f"genbench {name}: error: {exc}".replace("  ", " "), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("genbench: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """The console script: `main`, then the exit hooks, then exit without destroying native libraries' statics.

    Native libraries genbench loads can abort while the process tears down, after every output was written:
    pyarrow's thread pools ("terminate called without an active exception", apache/arrow#34314) and Blender's
    bpy. Python's own shutdown steps still run first: waiting for non-daemon threads, then the atexit hooks.
    """
    code = main()
    threading._shutdown()  # type: ignore[attr-defined]  # what Py_Finalize does first
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
