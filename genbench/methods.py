"""The method interface and the registry of built-in methods.

A **removal** method maps (frames, trimask) to frames; a **layering** method maps
(frames, object masks) to a background video plus one RGBA video per object
(DESIGN.md, Methods). Methods are classes constructed with keyword options; the
benchmark finds them only through `METHODS`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from genbench.errors import GenbenchError
from genbench.registry import Registry


class RemovalMethod(ABC):
    """Removes the trimask's 0-region (and its effects) from a clip."""

    task: ClassVar[str] = "removal"

    @abstractmethod
    def remove(self, frames: np.ndarray, trimask: np.ndarray) -> np.ndarray:
        """frames: (T, H, W, 3) uint8; trimask: (T, H, W) uint8 in {0, 128, 255}.

        Returns (T, H, W, 3) uint8: the clip with the removed objects and their effects gone.
        """

    def remove_sample(self, frames: np.ndarray, trimask: np.ndarray, sample: int) -> np.ndarray:
        """One draw of the removal: the `sample`-th seed after the method's own, on the clip as it is shown (a
        method that averages views of the clip itself answers here for one view: whoever asks for draws, as
        omnimatte's removal ensemble does, averages them). A method that draws no noise has one answer for every
        seed (this default: `remove`); a generative one overrides it."""
        del sample
        return self.remove(frames, trimask)


class LayeringMethod(ABC):
    """Splits a clip into a background and one RGBA layer per object."""

    task: ClassVar[str] = "layering"

    @abstractmethod
    def decompose(
        self, frames: np.ndarray, masks: dict[int, np.ndarray]
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """frames: (T, H, W, 3) uint8; masks: object id -> (T, H, W) bool (where the object is visible).

        Returns (bg (T, H, W, 3) uint8, {object id: (T, H, W, 4) uint8 RGBA layer}).
        """


METHODS = Registry("method", entry_point_group="genbench.methods")


def build_method(spec: str, registry: Registry = METHODS) -> RemovalMethod | LayeringMethod:
    """A method from its spec, ``NAME`` or ``NAME:ARGUMENT``.

    ARGUMENT (everything after the first colon) is the constructor's first positional
    argument: ``external:python my.py {input} {output}``, ``cv2-inpaint:telea``.
    """
    name, sep, argument = spec.partition(":")
    cls = registry.get(name.strip())
    if not sep:
        return cls()
    try:
        inspect.signature(cls).bind(argument)
    except TypeError:
        raise GenbenchError(f"method {name!r} takes no argument; got {spec!r}") from None
    return cls(argument)


def method_fingerprint(spec: str, registry: Registry = METHODS) -> str | None:
    """What, besides its spec, decides a method's output (e.g. the sha256 of its weights), or None.

    A method class may define ``fingerprint(argument: str | None) -> str`` as a classmethod; it is
    called without building the method, so a fully cached evaluation never loads a model.
    """
    name, sep, argument = spec.partition(":")
    fingerprint = getattr(registry.get(name.strip()), "fingerprint", None)
    return fingerprint(argument if sep else None) if callable(fingerprint) else None


def method_description(spec: str, registry: Registry = METHODS) -> dict | None:
    """What results.json records about a method beyond its spec (a recipe's version, commit and settings), or None.

    A method class may define ``describe(argument: str | None) -> dict`` as a classmethod (like `fingerprint`).
    """
    name, sep, argument = spec.partition(":")
    describe = getattr(registry.get(name.strip()), "describe", None)
    return describe(argument if sep else None) if callable(describe) else None


def method_unavailable(spec: str, registry: Registry = METHODS) -> str | None:
    """Why the method of `spec` cannot run here (a recipe's missing checkout or weights), or None.

    A method class may define ``status(argument: str | None)`` as a classmethod, returning an object with
    ``status`` ("ready" when it can run) and ``line`` (the reason otherwise); `genbench eval` asks before any work.
    """
    name, sep, argument = spec.partition(":")
    status = getattr(registry.get(name.strip()), "status", None)
    if not callable(status):
        return None
    found = status(argument if sep else None)
    return None if found.status == "ready" else found.line


def split_method_specs(value: str) -> list[str]:
    """``--method a,b:ARG,c,external:CMD`` -> specs. Names split on ','; an argument after ':' runs to the next
    ',' that is followed by a registered method's name (``casper:DIR1,casper:DIR2,median``), except `external`'s,
    which runs to the end, so a command may itself contain commas and method names."""
    head, sep, argument = value.partition(":")
    specs = [n.strip() for n in head.split(",") if n.strip()]
    if not specs:
        raise GenbenchError(f"--method {value!r} names no method")
    if not sep:
        return specs
    first, *rest = argument.split(",")
    specs[-1] += ":" + first
    for token in rest:
        starts_a_method = token.partition(":")[0].strip() in METHODS
        if starts_a_method and specs[-1].partition(":")[0].strip() != "external":
            specs.append(token.strip())
        else:
            specs[-1] += "," + token
    return specs

# Built-in methods: name -> lazy "module:Class". The one place a built-in is named.
for _name, _target in {
    "identity": "genbench.baselines.identity:Identity",
    "cv2-inpaint": "genbench.baselines.cv2_inpaint:CV2Inpaint",
    "median": "genbench.baselines.median:TemporalMedian",
    "flow-propagation": "genbench.baselines.flow_propagation:FlowPropagation",
    "mask-alpha": "genbench.baselines.mask_alpha:MaskAlpha",
    "flow-omnimatte": "genbench.baselines.flow_omnimatte:FlowOmnimatte",
    "omnimatte": "genbench.models.omnimatte.method:Omnimatte",
    "external": "genbench.baselines.external:External",
    "casper": "genbench.models.casper.method:Casper",
    # the field's published methods, run from local checkouts (genbench/recipes, docs/methods.md)
    "propainter": "genbench.recipes.propainter:ProPainter",
    "diffueraser": "genbench.recipes.diffueraser:DiffuEraser",
    "rose": "genbench.recipes.rose:Rose",
    "gen-omnimatte-cogvideox": "genbench.recipes.gen_omnimatte:GenOmnimatteCogVideoX",
    "gen-omnimatte-wan": "genbench.recipes.gen_omnimatte:GenOmnimatteWan",
    "omnimattezero": "genbench.recipes.omnimattezero:OmnimatteZero",
    "minimax-remover": "genbench.recipes.minimax_remover:MiniMaxRemover",
    "effecterase": "genbench.recipes.effecterase:EffectErase",
    "svor": "genbench.recipes.unavailable:Svor",
}.items():
    METHODS.register(_name, _target)
