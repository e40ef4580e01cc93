"""What a change needs, beyond one frame's threshold, to count: thickness, a track, time, an object.

Noise, compression blocks, shimmering edges and flicker pass a per-frame threshold here and there;
what they do not do is look like something that exists. So:

- an object component must be *thick*: a streak one or two pixels wide along an edge is not a
  body (`thick_components`);
- an object track must last `min_track` frames: an isolated speckle is not an object (`drop_short_tracks`);
- a shadow or other uncertain change must be *persistent*: present within `link_radius` pixels in
  the previous or the next frame (`persistent`), and *attached* to an object of the same frame:
  touching it, or large and within `reach` of it (`attached`), since a shadow or a reflection stays
  with what casts it, while the speckles of compression around a moving object do not. Changes far
  from every object survive only when they are large and last (`lasting`): something really changed
  there, which no track explains. A small change within `reach` of an object counts too when it is
  *clear*: stronger than `clear_k` times the noise's tail, beyond anything the footage's noise and
  compression make (on clean footage, every change above the threshold: the specks of a small object's
  shadow on a 64-pixel render are real).
"""

from __future__ import annotations

import cv2
import numpy as np

from genbench.trimask import dilate

TOUCH = 3.0  # pixels: a change this close to an object touches it


def _component_stats(mask: np.ndarray, values: np.ndarray, reduce: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the 8-connected components of (H, W) bool `mask` and, per label, the max or min of the
    (H, W) float32 `values` over it ((count,) float32; entry 0, the background, is meaningless)."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    fill = -np.inf if reduce == "max" else np.inf
    out = np.full(count, fill, np.float32)
    inside = labels > 0
    (np.maximum if reduce == "max" else np.minimum).at(out, labels[inside], values[inside])
    return labels, out


def thick_components(mask: np.ndarray, min_thickness: float) -> np.ndarray:
    """The components of (H, W) bool `mask` whose widest point is at least `min_thickness` pixels from their
    edge (largest value of OpenCV's 3x3 L2 distance transform: 0.96 in a 2-pixel-wide streak, 1.37 in a
    3x3 block with its corners cut, 1.91 in a 4x4 block)."""
    if not mask.any():
        return mask
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    labels, widest = _component_stats(mask, distance, "max")
    keep = widest >= min_thickness
    keep[0] = False
    return keep[labels]


def drop_short_tracks(tracks: np.ndarray, min_track: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W) int32 track ids without the tracks present in fewer than `min_track` frames, renumbered 1..n
    in order of appearance, and the (T, H, W) bool pixels of the dropped tracks."""
    ids = np.unique(tracks[tracks > 0])
    frames = np.array([int((tracks == k).any(axis=(1, 2)).sum()) for k in ids])
    kept = ids[frames >= min_track]
    lookup = np.zeros(int(tracks.max()) + 1, dtype=np.int32)
    lookup[kept] = np.arange(1, kept.size + 1, dtype=np.int32)
    out = lookup[tracks]
    return out, (tracks > 0) & (out == 0)


def persistent(masks: np.ndarray, radius: int) -> np.ndarray:
    """(T, H, W) bool: pixels of `masks` with a pixel of the previous or the next frame's mask within `radius`."""
    near = dilate(masks, radius)
    support = np.zeros_like(masks)
    support[1:] |= near[:-1]
    support[:-1] |= near[1:]
    return masks & support


def attached(changes: np.ndarray, objects: np.ndarray, reach: float, min_pixels: float,
             clear: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the 8-connected components of (H, W) bool `changes` that belong to one of the (H, W) bool
    `objects`: touching it (within 3 pixels), or, for components of at least `min_pixels` pixels (a shadow
    cast by an object in the air) or holding a pixel of the (H, W) bool `clear` (a change beyond the noise: a
    speck of a small object's shadow on clean footage), within `reach` times the size (square root of the
    area) of the frame's largest object. Nothing when the frame has no object."""
    if not objects.any() or not changes.any():
        return np.zeros_like(changes)
    _, _, stats, _ = cv2.connectedComponentsWithStats(objects.astype(np.uint8), connectivity=8)
    size = float(np.sqrt(stats[1:, cv2.CC_STAT_AREA].max()))
    distance = cv2.distanceTransform((~objects).astype(np.uint8), cv2.DIST_L2, 3)
    labels, nearest = _component_stats(changes, distance, "min")
    area = np.bincount(labels.ravel(), minlength=nearest.size)
    sure = area >= min_pixels
    if clear is not None:
        sure |= np.bincount(labels[clear & changes], minlength=nearest.size) > 0
    keep = (nearest <= TOUCH) | ((nearest <= reach * size) & sure)
    keep[0] = False
    return keep[labels]


def lasting(masks: np.ndarray, min_pixels: float, min_frames: int) -> np.ndarray:
    """(T, H, W) bool: the pixels of `masks` in spatio-temporal components (26-connected over frames) that
    cover at least `min_pixels` pixels in some frame and span at least `min_frames` frames."""
    from skimage.measure import label

    if not masks.any():
        return masks
    labels = label(masks, connectivity=3)
    count = int(labels.max())
    area = np.zeros((count + 1, masks.shape[0]), dtype=np.int64)
    for t in range(masks.shape[0]):
        ids, hits = np.unique(labels[t][labels[t] > 0], return_counts=True)
        area[ids, t] = hits
    keep = ((area.max(axis=1) >= min_pixels) & ((area > 0).sum(axis=1) >= min_frames))
    keep[0] = False
    return keep[labels]
