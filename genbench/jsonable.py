"""Settings dataclasses to and from JSON: tuple fields travel as lists and come back as tuples."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, TypeVar

T = TypeVar("T")


def dataclass_to_json(obj: Any) -> dict[str, Any]:
    """`asdict` with tuple fields as lists, so it equals what reading the JSON back gives."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(obj).items()}


def dataclass_from_json(cls: type[T], data: dict[str, Any]) -> T:
    """An instance of `cls` from the fields it knows in `data` (other keys are ignored); a field
    whose default is a tuple gets its list back as a tuple."""
    known = {f.name: isinstance(f.default, tuple) for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: tuple(v) if known[k] else v for k, v in data.items() if k in known})
