"""Run settings of the tripod generator: every threshold of the pipeline, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genbench.errors import require_all
from genbench.jsonable import dataclass_from_json, dataclass_to_json


@dataclass(frozen=True)
class TripodSettings:
    """Everything that shapes a tripod dataset besides the input footage (JSON-native values).

    max_size: longest side in pixels; larger footage is downscaled (area averaging) first.
    window / min_frames: most and fewest frames per scene.
    max_shift: camera motion allowed, as a fraction of the frame diagonal (largest displacement of
        a frame corner from the reference); more rejects the video as "camera moved".
    stabilize_above: shake in pixels above which frames are warped onto the reference; smaller
        shake is left alone so `full` keeps the input's bytes.
    diff_threshold: smallest colour change (uint8 levels, largest channel) that counts as a change;
        the threshold is ``max(diff_threshold, noise_k * sigma, tail_k * tail)`` per pixel, sigma and tail
        the noise figures of the pixel's region class (`noise.NoiseModel`).
    misregistration / misregistration_stabilised: pixels of residual misalignment assumed for a
        static / a stabilised camera; at the plate's edges the threshold rises to what such a
        shift explains (gradient x pixels), so edges that shimmer are not taken for objects.
    shadow_ratio: (lo, hi) brightness ratio frame / plate of a shadow: darker, not black.
    shadow_chroma: largest change of chromaticity (r, g, b / (r + g + b)) that is still a shadow.
    min_blob: smallest object component, as a fraction of the frame (smaller changes are uncertain).
    min_thickness: an object component must hold a pixel this far (pixels, OpenCV's 3x3 L2 distance
        transform) from its edge, i.e. be at least 3 pixels wide somewhere: thinner streaks (shimmering
        edges, compression seams) are not bodies.
    min_track: fewest frames an object track must last; shorter tracks are speckles, not objects.
    min_contrast: an object component's median difference must be this many times its threshold (fainter:
        a compression ghost or flicker, kept uncertain).
    edge_fraction: rim pixels of an object whose difference is below this fraction of the object's
        interior difference are blur around it, not the object.
    reach: a shadow or other uncertain change must come within this many object sizes (square root of
        the largest object's area in the frame, at least 3 pixels) of an object of its frame; farther
        changes stay uncertain only when they are large (min_blob) and last min_track frames.
    clear_k: a change more than this many times the noise's tail (`noise.NoiseModel`) is beyond what the
        footage's noise and compression make: within `reach` of an object it stays uncertain however small,
        and an object's faint rim counts as blur only where it is fainter than this (on clean footage, no
        tail: every change above the threshold is real, and a faint rim is the object's anti-aliased edge).
    light: fit a smooth per-frame light field (a cloud's shadow rolling over the scene) on top of the
        global exposure.
    min_object: a window is rejected when its largest object never covers this fraction of the frame.
    max_noise: a window is rejected when its clip's noise sigma (levels, `noise.NoiseModel`) exceeds this.
    min_stability: a window is rejected when its object masks are less steady than this (`quality`).
    max_unattached: a window is rejected when more than this fraction of its pixels is uncertain with no
        object near (`quality`).
    min_clean: a pixel needs this many frames where it is background to have a trusted plate value.
    max_unclean: a window is rejected when more than this fraction of its object and shadow
        pixels lie where the plate is not trusted.
    border_gate: reject frames where an object touches the frame border (cut into separate windows).
    dilation: pixels the remove region (0) grows beyond the objects; shadow_dilation: pixels the
        uncertain region (128) grows beyond the detected shadows and other changes.
    link_radius: pixels a component may move between frames and keep its track id.
    iterations: plate -> exposure -> segmentation refinements.
    """

    max_size: int | None = None
    window: int = 48
    min_frames: int = 8
    max_shift: float = 0.02
    stabilize_above: float = 0.5
    diff_threshold: float = 14.0
    noise_k: float = 4.0
    tail_k: float = 1.3
    hysteresis: float = 0.5
    misregistration: float = 0.25
    misregistration_stabilised: float = 0.6
    shadow_ratio: tuple[float, float] = (0.3, 0.93)
    shadow_chroma: float = 0.04
    min_blob: float = 0.002
    min_thickness: float = 1.2
    min_track: int = 3
    min_contrast: float = 1.5
    edge_fraction: float = 0.5
    reach: float = 1.0
    clear_k: float = 8.0
    light: bool = True
    min_object: float = 0.005
    max_noise: float = 10.0
    min_stability: float = 0.6
    max_unattached: float = 0.02
    min_clean: int = 3
    max_unclean: float = 0.02
    border_gate: bool = True
    dilation: int = 2
    shadow_dilation: int = 2
    link_radius: int = 4
    iterations: int = 2

    def __post_init__(self) -> None:
        lo, hi = self.shadow_ratio
        checks = [
            (self.max_size is None or self.max_size >= 32, f"--max-size must be >= 32, got {self.max_size}"),
            (1 <= self.min_frames <= self.window, f"need 1 <= min_frames <= window, got {self.min_frames}, "
                                                  f"{self.window}"),
            (0 < lo < hi < 1, f"shadow_ratio must satisfy 0 < lo < hi < 1, got {self.shadow_ratio}"),
            (self.iterations >= 1, f"iterations must be >= 1, got {self.iterations}"),
            (self.min_clean >= 1, f"min_clean must be >= 1, got {self.min_clean}"),
        ]
        require_all(checks)

    def to_dict(self) -> dict[str, Any]:
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TripodSettings:
        return dataclass_from_json(cls, data)
