"""Where on screen removing an object can change the image: conservative crop windows per render.

`minus_k` equals `full` outside object k's effect mask (see `exact.py`), so only windows
around k, its shadows and its reflections need rendering: Cycles renders each window
(border rendering; its pixels are bit-identical to a full-frame render's) and the rest is
taken from `full` (from `bg` for `solo_k`). The windows are the screen bounding boxes of 3D
point sets that together enclose every effect of k, grown by a pixel margin:

- k's bounding box grown sideways by `CONTACT_FACTOR` times its radius: occluded sky and
  bounce light on the floor and on what stands near it;
- k's shadows: the box corners projected along the sun direction, along each bright source of
  an HDRI world and away from each extra light onto the floor and walls, widened by the penumbra;
- k's mirror images in the floor (mirror or glossy finish) and in the walls;
- for `minus_k`, every other object (k can be seen in it, shade it or light it: measured,
  even a rough plastic blob 2 m away changes by more than the tolerance next to a bright
  object) and its floor reflection.

Windows that overlap or nearly touch are merged. Anything the boxes cannot bound (a point
behind the camera, an object above a light, an emissive object in the scene: it lights
everything around it and every object casts shadows in its light, windows over
`MAX_FRACTION` of the frame) renders the full frame. Pure numpy, no bpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genbench.generators.kubric.simulate import quat_to_matrix, wall_boxes

CONTACT_FACTOR = 0.4  # how far the contact zone reaches beyond the object's box on the floor, in object radii
MAX_FRACTION = 0.6  # more than this renders the whole frame
MERGE_SLACK = 0.03  # merge two windows when that adds less than this share of the frame (a render's overhead)
ADAPTIVE_MARGIN = 4  # pixels: adaptive sampling looks at neighbours, so a border changes nothing further in
NEAR = 0.05  # metres in front of the camera

Points = np.ndarray  # (N, 3) world points


@dataclass(frozen=True)
class Rect:
    """Pixel window rows y0:y1, columns x0:x1 (exclusive ends), row 0 at the top."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def area(self) -> int:
        return max(0, self.y1 - self.y0) * max(0, self.x1 - self.x0)

    def union(self, other: Rect) -> Rect:
        return Rect(min(self.y0, other.y0), max(self.y1, other.y1), min(self.x0, other.x0), max(self.x1, other.x1))


def box_corners(lo: np.ndarray, hi: np.ndarray) -> Points:
    """(8, 3) corners of the axis-aligned box [lo, hi]."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def _grown(points: Points, by: float) -> Points:
    return box_corners(points.min(axis=0) - by, points.max(axis=0) + by)


def _mirror(points: Points, origin: np.ndarray, normal: np.ndarray) -> Points:
    d = (points - origin) @ normal
    return points - 2 * d[:, None] * normal[None]


class EffectBounds:
    """3D point sets bounding each object's effects in one scene (see the module docstring).

    local_boxes: object id -> (lo (3,), hi (3,)) of its vertices in its own frame.
    """

    def __init__(self, spec: dict[str, Any], local_boxes: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.local = {k: box_corners(lo, hi) for k, (lo, hi) in local_boxes.items()}
        self.radius = {k: float(np.linalg.norm(hi - lo) / 2) for k, (lo, hi) in local_boxes.items()}
        sun = spec["sun"]
        e, a = np.radians(sun["elevation_deg"]), np.radians(sun["azimuth_deg"])
        self.sources: list[tuple[str, np.ndarray, float]] = [
            ("sun", np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)]),
             float(np.radians(sun["angle_deg"]) / 2))]
        self.sources += [("point", np.asarray(light["position"], dtype=np.float64), float(light["size"]))
                         for light in spec["lights"]]
        for source in spec["world"].get("sources", []):  # an HDRI's sun, windows, softboxes
            e, a = np.radians(source["elevation_deg"]), np.radians(source["azimuth_deg"])
            self.sources.append(("sun", np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)]),
                                 float(np.radians(source["angle_deg"]) / 2)))
        self.glows = any(obj["material"].get("emission") for obj in spec["objects"])
        self.floor = (np.zeros(3), np.array([0.0, 0.0, 1.0]))
        self.walls: list[tuple[np.ndarray, np.ndarray]] = []
        for centre, half, yaw in wall_boxes(spec):
            normal = np.array([-np.cos(yaw), -np.sin(yaw), 0.0])  # faces the scene centre
            self.walls.append((centre + normal * half[0], normal))
        finish = spec["floor"]["finish"]
        self.floor_reflects = finish in ("mirror", "glossy")
        self.floor_blur = 0.0 if finish == "mirror" else 0.5

    def corners(self, k: int, position: np.ndarray, quaternion: np.ndarray) -> Points:
        return self.local[k] @ quat_to_matrix(quaternion).T + position

    def _shadows(self, corners: Points) -> list[Points] | None:
        """Shadow hits on the floor and walls, per light and plane, widened by the penumbra; None if unbounded."""
        out = []
        for kind, where, spread in self.sources:
            if kind == "sun":
                rays = np.repeat(-where[None], len(corners), axis=0)
            else:
                if np.any(corners[:, 2] >= where[2] - 1e-3):  # at or above a light: the shadow goes up, unbounded
                    return None
                rays = corners - where
                rays = rays / np.linalg.norm(rays, axis=1, keepdims=True)
            for origin, normal in [self.floor, *self.walls]:
                denom = rays @ normal
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = ((origin - corners) @ normal) / denom
                hit = (denom < -1e-6) & (t > 0)
                if not hit.any():
                    continue
                hits = corners[hit] + rays[hit] * t[hit, None]
                if kind == "sun":
                    radius = t[hit] * np.tan(spread) + 0.05
                else:
                    travelled = np.linalg.norm(corners[hit] - where, axis=1)
                    radius = spread * t[hit] / np.maximum(travelled, 1e-3) + 0.05
                offsets = [np.stack([dx * radius, dy * radius, dz * radius], axis=1)
                           for dx in (-1, 1) for dy in (-1, 1) for dz in (-1, 1)]
                out.append(np.concatenate([hits + o for o in offsets]))
        return out

    def components(self, k: int, poses: dict[int, tuple[np.ndarray, np.ndarray]],
                   others: frozenset[int] = frozenset()) -> list[Points] | None:
        """Point sets enclosing every change that taking k out makes, with `others` still shown.

        poses: id -> (position (3,), quaternion (4,)) at this frame. None when unbounded.
        """
        if self.glows:
            return None
        corners = self.corners(k, *poses[k])
        r = self.radius[k]
        reach = np.array([CONTACT_FACTOR * r, CONTACT_FACTOR * r, 0.0])
        near = box_corners(np.maximum(corners.min(axis=0) - reach, [-np.inf, -np.inf, 0.0]),
                           corners.max(axis=0) + reach)
        shadows = self._shadows(corners)
        if shadows is None:
            return None
        parts = [near, *shadows]
        if self.floor_reflects:
            parts.append(_mirror(_grown(corners, self.floor_blur * r), *self.floor))
            parts += [_mirror(s, *self.floor) for s in shadows]
        parts += [_mirror(_grown(corners, r), *wall) for wall in self.walls]
        for j in sorted(others - {k}):  # k is seen in them, shades them, bounces light onto them
            box = self.corners(j, *poses[j])
            parts.append(box)
            if self.floor_reflects:
                parts.append(_mirror(_grown(box, self.floor_blur * self.radius[j]), *self.floor))
        return parts


def project(points: Points, cam_position: np.ndarray, cam_quaternion: np.ndarray, focal_mm: float,
            sensor_mm: float, size: int) -> np.ndarray | None:
    """(N, 2) pixel (x, y) of world points seen by a Blender camera (-Z forward); None if any is behind it."""
    local = (points - cam_position) @ quat_to_matrix(cam_quaternion)  # world -> camera coordinates
    depth = -local[:, 2]
    if np.any(depth < NEAR):
        return None
    scale = focal_mm / sensor_mm * size
    x = size / 2 + scale * local[:, 0] / depth
    y = size / 2 - scale * local[:, 1] / depth
    return np.stack([x, y], axis=1)


def _rect(pixels: np.ndarray, size: int, margin: int) -> Rect | None:
    """Clipped bounding window of pixel positions grown by `margin`; None when it is off screen."""
    x0, y0 = np.floor(pixels.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(pixels.max(axis=0)).astype(int) + margin + 1
    rect = Rect(max(0, int(y0)), min(size, int(y1)), max(0, int(x0)), min(size, int(x1)))
    return rect if rect.y1 > rect.y0 and rect.x1 > rect.x0 else None


def merge(rects: list[Rect], slack: int) -> list[Rect]:
    """Merge windows whose union costs at most `slack` pixels more than the two apart, until none does."""
    rects = list(rects)
    merged = True
    while merged:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                u = rects[i].union(rects[j])
                if u.area <= rects[i].area + rects[j].area + slack:
                    rects[i] = u
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(rects, key=lambda r: (r.y0, r.x0, r.y1, r.x1))


def screen_windows(parts: list[Points] | None, cam_position: np.ndarray, cam_quaternion: np.ndarray, *, focal_mm: float,
            sensor_mm: float, size: int, margin: int) -> list[Rect] | None:
    """Pixel windows covering every point set (merged); [] when all are off screen, None for the whole frame."""
    if parts is None:
        return None
    rects = []
    for points in parts:
        pixels = project(points, cam_position, cam_quaternion, focal_mm, sensor_mm, size)
        if pixels is None:
            return None
        rect = _rect(pixels, size, margin)
        if rect is not None:
            rects.append(rect)
    rects = merge(rects, int(MERGE_SLACK * size * size))
    return None if sum(r.area for r in rects) > MAX_FRACTION * size * size else rects
