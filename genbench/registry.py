"""One registry of named things (methods first), with lazy targets and entry points.

Built-in entries are registered as ``"module:attribute"`` strings and imported only when
used, so listing methods never loads torch. Third-party packages add entries through the
entry-point group ``genbench.methods`` in their own pyproject::

    [project.entry-points."genbench.methods"]
    my-method = "my_package.module:MyMethod"

An unknown name raises a GenbenchError that lists the known names and suggests the
closest one.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

from genbench.errors import GenbenchError


class UnknownName(GenbenchError):
    pass


class Registry:
    """Name -> object, where the object may be a lazy ``"module:attr"`` string."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._targets: dict[str, Any] = {}
        self._loaded_entry_points = False

    def register(self, name: str, target: Any) -> None:
        """Register `target` (an object or a "module:attr" string) under `name`."""
        if name in self._targets:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._targets[name] = target

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points or self.entry_point_group is None:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group=self.entry_point_group):
            if ep.name not in self._targets:  # built-ins win over plug-ins with the same name
                self._targets[ep.name] = ep

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._targets)

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> Any:
        """The registered object, importing it on first use."""
        self._load_entry_points()
        if name not in self._targets:
            close = difflib.get_close_matches(name, self._targets, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise UnknownName(f"unknown {self.kind} {name!r}{hint} Known: {', '.join(self.names())}")
        target = self._targets[name]
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
        elif hasattr(target, "load") and hasattr(target, "group"):  # an EntryPoint
            target = target.load()
        self._targets[name] = target
        return target
