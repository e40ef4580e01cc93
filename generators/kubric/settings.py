"""Run settings of the Kubric-style renderer and its named presets.

A `RenderSettings` holds everything that shapes a dataset besides the scene index: it is
stored in every meta.json and in dataset.json, and a resumed run must use the same one.
Runtime choices that do not change a pixel (workers, threads, executor) are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from genbench.errors import GenbenchError, require_all
from genbench.jsonable import dataclass_from_json, dataclass_to_json

WORLDS = ("sky", "gradient", "hdri")
SURFACES = ("plain", "pattern", "procedural", "photo")
V1_WORLDS = ("sky", "gradient")
V1_SURFACES = ("plain", "pattern")
# The fields added after the v1 benchmark and the values with which scenes are drawn as v1 drew them.
V1_LOOKS: dict[str, Any] = {"worlds": V1_WORLDS, "surfaces": V1_SURFACES, "hdri": None, "hdri_digest": None,
                            "textures": None, "textures_digest": None}
LOOKS: dict[str, Any] = {"worlds": WORLDS, "surfaces": SURFACES}  # what every preset renders
# What minus_k means: `visual` leaves k out of the render only (the others keep their paths, v1);
# `physics` re-simulates the scene without k, so what k pushed or hit moves as it would have without it.
COUNTERFACTUALS = ("visual", "physics")
V1_PHYSICS: dict[str, Any] = {"counterfactual": "visual"}


def _kinds_check(flag: str, kinds: tuple[str, ...], known: tuple[str, ...]) -> tuple[bool, str]:
    unknown = [k for k in kinds if k not in known]
    if unknown:
        return False, f"{flag}: unknown kind {unknown[0]!r}; choose from {','.join(known)}"
    if not kinds or len(set(kinds)) != len(kinds):
        return False, f"{flag} needs distinct kinds from {','.join(known)}, got {','.join(kinds) or 'none'}"
    return True, ""


def parse_kinds(text: str, known: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """A comma-separated list of kinds (e.g. ``sky,hdri``) in the canonical order of `known`."""
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    ok, message = _kinds_check(flag, kinds, known)
    if not ok:
        raise GenbenchError(message)
    return tuple(k for k in known if k in kinds)


@dataclass(frozen=True)
class RenderSettings:
    """Settings of one render run (JSON-native values only).

    resolution: frame width and height in pixels; frames: frames per scene at `fps`.
    samples: Cycles samples per pixel (the maximum when `adaptive_threshold` > 0).
    adaptive_threshold: Cycles adaptive-sampling noise threshold; 0 (default) renders every sample.
        Measured: at 64 spp a threshold of 0.02 stops no pixel early (same bytes, same time).
    denoise: run OpenImageDenoise on every render (changes far pixels by 1-2 levels).
    targets: objects per scene that get minus_<k>/solo_<k>/layers (None: all of them).
    effect_tolerance / effect_blur / mask_dilation / feather: the exact-GT procedure
        (uint8 levels, box-blur size, pixels, pixels), see `genbench.generators.kubric.exact`.
    assets: folder of user .obj/.glb/.gltf/.ply models; assets_digest pins its file list.
    worlds: the world kinds scenes draw from (`WORLDS`): `sky` (Nishita), `gradient`, `hdri` (an HDRI as
        light and backdrop: the eight bundled with Blender plus the files in `hdri`).
    surfaces: the surface kinds floors, walls and objects draw from (`SURFACES`): `plain` colour, `pattern`
        (the v1 two-colour patterns), `procedural` (noise, wood, tile, checker with random scale and
        rotation), `photo` (scikit-image's bundled images plus the files in `textures`).
    hdri / textures: folders of the user's own HDRIs and texture images; *_digest pins their file lists.
    counterfactual: `COUNTERFACTUALS`; `visual` (every preset's, v1's) or `physics` (minus_k re-simulated
        without k; see `genbench.generators.kubric.counterfactual`).

    The fields after `assets_digest` came after the v1 benchmark. Their defaults (`V1_LOOKS`) reproduce the
    v1 scenes draw for draw, and `to_dict` leaves a field out while it holds that value, so a v1 recipe
    writes the meta.json it always wrote and a meta.json without them reads back as v1. Every preset turns
    the looks on (`LOOKS`); `counterfactual` (`V1_PHYSICS`) stays visual unless asked for.
    """

    preset: str = "default"
    seed: int = 0
    resolution: int = 128
    frames: int = 24
    fps: float = 12.0
    samples: int = 64
    adaptive_threshold: float = 0.0
    denoise: bool = False
    min_objects: int = 1
    max_objects: int = 5
    targets: int | None = None
    val_fraction: float = 0.1
    effect_tolerance: int = 3
    effect_blur: int = 5
    mask_dilation: int = 2
    feather: int = 2
    assets: str | None = None
    assets_digest: str | None = None
    worlds: tuple[str, ...] = V1_WORLDS
    surfaces: tuple[str, ...] = V1_SURFACES
    hdri: str | None = None
    hdri_digest: str | None = None
    textures: str | None = None
    textures_digest: str | None = None
    counterfactual: str = "visual"

    def __post_init__(self) -> None:
        checks = [
            (self.resolution >= 8, f"--resolution must be >= 8, got {self.resolution}"),
            (self.frames >= 1, f"--frames must be >= 1, got {self.frames}"),
            (self.samples >= 1, f"--samples must be >= 1, got {self.samples}"),
            (1 <= self.min_objects <= self.max_objects <= 254,
             f"objects per scene must satisfy 1 <= min <= max <= 254, got {self.min_objects}..{self.max_objects}"),
            (self.targets is None or self.targets >= 1, f"--targets must be >= 1, got {self.targets}"),
            (self.effect_blur % 2 == 1, f"effect_blur must be odd, got {self.effect_blur}"),
            _kinds_check("--worlds", self.worlds, WORLDS),
            _kinds_check("--surfaces", self.surfaces, SURFACES),
            (self.hdri is None or "hdri" in self.worlds, "--hdri adds HDRIs to the hdri world: add hdri to --worlds"),
            (self.textures is None or "photo" in self.surfaces,
             "--textures adds photo textures: add photo to --surfaces"),
            (self.counterfactual in COUNTERFACTUALS,
             f"--counterfactual must be one of {', '.join(COUNTERFACTUALS)}, got {self.counterfactual!r}"),
        ]
        require_all(checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native fields; those added after v1 only where they differ from v1 (see the class docstring)."""
        data = dataclass_to_json(self)
        for name, value in {**V1_LOOKS, **V1_PHYSICS}.items():
            if getattr(self, name) == value:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderSettings:
        return dataclass_from_json(cls, data)


PRESETS: dict[str, RenderSettings] = {
    # tests: a scene in a few seconds on two cores
    "tiny": RenderSettings(preset="tiny", resolution=32, frames=3, samples=8, max_objects=3, **LOOKS),
    # the laptop default
    "default": RenderSettings(preset="default", **LOOKS),
    # bigger frames, same length
    "hq": RenderSettings(preset="hq", resolution=256, frames=24, samples=128, **LOOKS),
    # the paper's Kubric data: 256x256, up to 80 frames
    "paper": RenderSettings(preset="paper", resolution=256, frames=80, fps=24.0, samples=128, **LOOKS),
}


def resolve_settings(preset: str, **overrides: Any) -> RenderSettings:
    """The preset named `preset` with every non-None override applied."""
    if preset not in PRESETS:
        raise GenbenchError(f"unknown --preset {preset!r}; choose one of {', '.join(PRESETS)}")
    base = PRESETS[preset]
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
