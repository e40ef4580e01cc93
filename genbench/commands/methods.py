"""`genbench methods`: every registered method with its task, status and source."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from genbench.errors import GenbenchError
from genbench.methods import METHODS
from genbench.registry import Registry

BUILT_IN = "genbench"


@dataclass
class MethodRow:
    name: str
    task: str
    status: str  # "ready", or "not installed: what is missing", "no public code: ..."
    source: str


def method_rows(registry: Registry = METHODS, checkouts: dict[str, str] | None = None) -> list[MethodRow]:
    """One row per registered method; a recipe's status uses `checkouts[name]` or its environment variable."""
    rows = []
    for name in registry.names():
        cls = registry.get(name)
        status = getattr(cls, "status", None)
        if callable(status):
            s = status((checkouts or {}).get(name))
            rows.append(MethodRow(name, cls.task, s.line, s.source or "-"))
        else:
            rows.append(MethodRow(name, getattr(cls, "task", "?"), "ready", BUILT_IN))
    return rows


def run(args: argparse.Namespace) -> int:
    checkouts = {}
    for value in args.method or []:
        name, sep, checkout = value.partition(":")
        if not sep or not checkout:
            raise GenbenchError(f"--method {value!r}: give NAME:CHECKOUT, e.g. propainter:/opt/ProPainter")
        if not callable(getattr(METHODS.get(name), "status", None)):
            raise GenbenchError(f"--method {value!r}: {name!r} is built in and takes no checkout")
        checkouts[name] = checkout
    rows = method_rows(checkouts=checkouts)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(f"{r.name:<{width}}  {r.task:<8}  {r.status}  [{r.source}]")
    return 0
