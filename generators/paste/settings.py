"""Run settings of the object-paste generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genbench.errors import require_all
from genbench.jsonable import dataclass_from_json, dataclass_to_json


@dataclass(frozen=True)
class PasteSettings:
    """Everything that shapes a paste dataset besides the scene index (JSON-native values).

    seed: dataset seed; scene `index` draws from ``SeedSequence((seed, index))``.
    shadow: add a synthetic cast shadow made from the pasted object's mask.
    frames: most frames per scene; min_frames: fewest frames an object must be present in; a source or
        target clip shorter than that (a 3-frame `--preset tiny` render) needs the object in all of its frames.
    max_size: longest side of the output in pixels; targets and sources larger than that are
        downscaled (area averaging) before pasting, and `bg` is then the downscaled target.
    scale_range: scale of the pasted object relative to the source clip fitted into the target.
    min_area: fewest pasted-object pixels, as a fraction of the frame, in at least half the frames.
    fps: frame rate written for targets that do not carry one (frame folders).
    source_kind / target_kind, sources / targets: the layouts found and how many clips each holds;
    sources_digest / targets_digest: hash of the clip names, so a resume with other inputs is refused.
    """

    seed: int = 0
    shadow: bool = False
    frames: int = 48
    min_frames: int = 4
    max_size: int | None = None
    scale_range: tuple[float, float] = (0.4, 1.0)
    min_area: float = 0.002
    fps: float = 24.0
    source_kind: str = ""
    target_kind: str = ""
    sources: int = 0
    targets: int = 0
    sources_digest: str = ""
    targets_digest: str = ""

    def __post_init__(self) -> None:
        checks = [
            (self.frames >= 1, f"--frames must be >= 1, got {self.frames}"),
            (1 <= self.min_frames <= self.frames, f"min_frames must be in 1..frames, got {self.min_frames}"),
            (self.max_size is None or self.max_size >= 16, f"--max-size must be >= 16, got {self.max_size}"),
            (0 < self.scale_range[0] <= self.scale_range[1], f"scale_range must be 0 < lo <= hi, got "
                                                              f"{self.scale_range}"),
        ]
        require_all(checks)

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PasteSettings:
        return dataclass_from_json(cls, data)
