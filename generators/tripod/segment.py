"""Moving objects and their shadows, per frame, against the exposure-matched plate; tracked over time.

A pixel *changes* when it differs from the plate (largest channel) by more than its threshold:
``max(diff_threshold, noise_k * sigma, tail_k * tail, allowance)``, where sigma and tail are the
noise figures of the pixel's region class (`noise.NoiseModel`: dark or bright, flat or textured)
and `allowance` is what a sub-pixel misregistration explains at the plate's edges
(`edge_allowance`); or by more than `hysteresis` times that (and more than the noise's tail)
while connected to such a pixel (camouflaged parts of an object that is clearly visible elsewhere).
A changed pixel is *shadow* when it is a darker copy of the plate, in colour and, where the plate
has texture, in pattern (`shadow.shadow_mask`). The other changed pixels are *object*. Object
masks are cleaned (opening, closing, holes filled), split into connected components, trimmed of
faint rims where the footage blurs (`firm_components`: a rim fainter than half the object's contrast
is a codec's smear where the noise has a tail, the object's anti-aliased edge on clean footage),
and components smaller than `min_blob` of the frame or thinner than `min_thickness` become
*residual* changes (of the weaker pixels hysteresis added, only those the noise cannot explain, above
twice its tail plus six sigmas: on clean footage the faint penumbra and bounce light around an object,
on noisy footage not the noise that clings to it), kept uncertain near objects (see `consistency`).
Components are linked over time by overlap within `link_radius` pixels into tracks with stable ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from genbench.generators.tripod.consistency import thick_components
from genbench.generators.tripod.groups import group_medians
from genbench.generators.tripod.settings import TripodSettings
from genbench.generators.tripod.shadow import shadow_mask
from genbench.trimask import disk


@dataclass
class FrameLabels:
    """One frame's classification, (H, W) bool each, disjoint: object, shadow, residual change; clear: (H, W)
    bool changed pixels beyond anything the noise makes (more than `clear_k` times its tail), None: not known."""

    objects: np.ndarray
    shadow: np.ndarray
    residual: np.ndarray
    noise: float
    clear: np.ndarray | None = None


def _channel_max(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])  # much faster than a.max(axis=-1)


def noise_sigma(frame: np.ndarray, expected: np.ndarray) -> float:
    """Robust noise estimate in levels: 1.4826 * median absolute difference over a grid of pixels
    (objects are a minority)."""
    step = max(1, int(np.sqrt(frame.shape[0] * frame.shape[1] / 40000)))
    sample = frame[::step, ::step].astype(np.float32) - expected[::step, ::step]
    return float(1.4826 * np.median(np.abs(sample)))


def hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """The 8-connected components of `weak` that contain a `strong` pixel ((H, W) bool each):
    camouflaged parts of an object count when they touch its clearly changed parts."""
    count, labels = cv2.connectedComponents((weak | strong).astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool `mask` with every background region not connected to the frame border filled."""
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), dtype=np.uint8)
    flood[1:-1, 1:-1] = mask
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), dtype=np.uint8), (0, 0), 1)  # 4-connected outside
    return mask | (flood[1:-1, 1:-1] == 0)


def edge_allowance(plate: np.ndarray, misregistration: float) -> np.ndarray:
    """Per-pixel difference (levels, (H, W) float32) that a misregistration of `misregistration`
    pixels causes at the plate's edges: gradient magnitude (largest channel) times the shift."""
    import cv2

    grads = [cv2.magnitude(cv2.Sobel(c, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(c, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
             for c in cv2.split(np.ascontiguousarray(plate, dtype=np.float32))]
    return _channel_max(np.stack(grads, axis=-1)) * misregistration


def firm_components(objects: np.ndarray, difference: np.ndarray, threshold: np.ndarray, min_contrast: float,
                    edge_fraction: float, blur: np.ndarray | float = np.inf) -> np.ndarray:
    """(H, W) bool object mask without weak components and with firm edges.

    A component whose median difference is below `min_contrast` times the threshold is a faint change (a
    compression ghost where an object was, flicker), not a body; in the others, pixels of the 2-pixel rim
    whose difference is below `edge_fraction` of the component's interior median are blur and smear around
    the body (the boundary lies where the difference is half the object's contrast), where they are fainter
    than `blur` too: the smear a codec leaves grows with its errors, so on clean footage (no tail, `blur` 0)
    the faint rim is the object's anti-aliased edge and stays.
    difference, threshold: (H, W) float32 levels; blur: (H, W) float32 levels or a scalar.
    """
    count, labels = cv2.connectedComponents(objects.astype(np.uint8), connectivity=8)
    if count <= 1:
        return objects
    inside = objects & (cv2.erode(objects.astype(np.uint8), disk(2)) > 0)
    level = group_medians(difference[objects], labels[objects], count)
    interior = group_medians(difference[inside], labels[inside], count)
    interior = np.where(np.isfinite(interior), interior, level)
    contrast = group_medians((difference / threshold)[objects], labels[objects], count)
    firm = contrast >= min_contrast
    firm[0] = False
    rim = objects & ~inside & (difference < edge_fraction * interior[labels]) & (difference < blur)
    return firm[labels] & ~rim


def classify(frame: np.ndarray, expected: np.ndarray, valid: np.ndarray, settings: TripodSettings,
             allowance: np.ndarray | float = 0.0, noise: tuple[np.ndarray, np.ndarray] | None = None) -> FrameLabels:
    """Label one (H, W, 3) uint8 frame against its (H, W, 3) float32 exposure-matched plate.

    valid: (H, W) bool, False where the frame has no data (after stabilisation).
    allowance: extra threshold in levels per pixel ((H, W) or a scalar), see `edge_allowance`.
    noise: (sigma, tail) (H, W) float32 maps in levels (`noise.NoiseModel`); None: one sigma for the whole
    frame from `noise_sigma`, no tail.
    """
    f = frame.astype(np.float32)
    e = np.clip(expected, 0.0, 255.0)
    frame_sigma = noise_sigma(frame, e)
    sigma, tail = (frame_sigma, 0.0) if noise is None else noise
    threshold = np.maximum(np.maximum(settings.diff_threshold, settings.noise_k * sigma),
                           np.maximum(settings.tail_k * tail, allowance))
    difference = _channel_max(np.abs(f - e))
    weak = difference > np.maximum(np.maximum(threshold * settings.hysteresis, 3.0 * sigma), tail)
    strong = (difference > threshold) & valid
    changed = hysteresis(strong, weak) & valid
    shadow = shadow_mask(f, e, changed, sigma, settings.shadow_ratio, settings.shadow_chroma)
    objects = changed & ~shadow

    objects = cv2.morphologyEx(objects.astype(np.uint8), cv2.MORPH_OPEN, disk(1)) > 0
    objects = cv2.morphologyEx(objects.astype(np.uint8), cv2.MORPH_CLOSE, disk(2)) > 0
    objects = fill_holes(objects) & valid
    _, labels, stats, _ = cv2.connectedComponentsWithStats(objects.astype(np.uint8), connectivity=8)
    min_pixels = max(4, settings.min_blob * frame.shape[0] * frame.shape[1])
    small = stats[:, cv2.CC_STAT_AREA] < min_pixels
    small[0] = False
    objects &= ~small[labels]
    objects = thick_components(objects, settings.min_thickness)
    beyond = settings.clear_k * tail  # no noise of this footage is this strong: not noise, nor a codec's smear
    objects = firm_components(objects, difference, threshold, settings.min_contrast, settings.edge_fraction, beyond)
    shadow = cv2.morphologyEx((shadow & ~objects).astype(np.uint8), cv2.MORPH_OPEN, disk(1)) > 0
    shadow &= ~objects
    # hysteresis grows objects and shadows; other changes count where the noise cannot explain them
    reliable = strong | (difference > 2.0 * tail + 6.0 * sigma)
    residual = changed & reliable & ~objects & ~shadow
    return FrameLabels(objects=objects, shadow=shadow, residual=residual, noise=frame_sigma,
                       clear=changed & (difference > np.maximum(threshold, beyond)))


def track(objects: np.ndarray, link_radius: int) -> np.ndarray:
    """Connected components of (T, H, W) bool object masks linked over time.

    A component takes the id of the previous frame's track it overlaps most once grown by
    `link_radius` pixels (ties: the lower id); a component overlapping none starts a new track.
    Returns (T, H, W) int32 track ids, 0 = background, ids from 1 in order of appearance.
    """
    out = np.zeros(objects.shape, dtype=np.int32)
    next_id = 1
    grow = disk(link_radius) if link_radius > 0 else np.ones((1, 1), np.uint8)
    for t, mask in enumerate(objects):
        count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        previous = out[t - 1] if t else None
        for c in range(1, count):
            component = labels == c
            track_id = 0
            if previous is not None:
                near = cv2.dilate(component.astype(np.uint8), grow) > 0
                ids, hits = np.unique(previous[near & (previous > 0)], return_counts=True)
                if ids.size:
                    track_id = int(ids[np.argmax(hits)])  # np.unique sorts ids: argmax picks the lowest on ties
            if not track_id:
                track_id, next_id = next_id, next_id + 1
            out[t][component] = track_id
    return out
