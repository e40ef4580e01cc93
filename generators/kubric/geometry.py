"""Built-in shapes as plain meshes (numpy), the same vertices for pybullet and Blender.

A mesh is ``(vertices, faces)``: vertices (N, 3) float64 metres, faces a list of vertex
index lists (triangles, quads or n-gons, counter-clockwise seen from outside). Every shape
is centred on its bounding-box centre and scaled so its largest extent is 1, then scaled
by the object's `scale`. Suzanne and user assets come from Blender (`blender.py`), the
procedural ones (`blob`, `star`, `twisted`) from parameters sampled into the scene spec.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Mesh = tuple[np.ndarray, list[list[int]]]

PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "torus")
PROCEDURAL = ("blob", "star", "twisted")
FROM_BLENDER = ("suzanne",)
BUILTIN_SHAPES = PRIMITIVES + PROCEDURAL + FROM_BLENDER
SMOOTH_SHAPES = frozenset({"sphere", "torus", "blob", "suzanne"})


def sample_shape_params(shape: str, *, rng: np.random.Generator) -> dict[str, Any]:
    """Random parameters of a procedural shape (empty for fixed shapes); JSON-native."""
    if shape == "torus":
        return {"minor": float(rng.uniform(0.2, 0.4))}
    if shape == "blob":
        return {"waves": [{"freq": rng.normal(0.0, 2.5, size=3).round(4).tolist(),
                           "phase": round(float(rng.uniform(0, 2 * np.pi)), 4),
                           "amp": round(float(rng.uniform(0.05, 0.2)), 4)} for _ in range(3)]}
    if shape == "star":
        return {"points": int(rng.integers(4, 9)), "inner": round(float(rng.uniform(0.4, 0.8)), 4),
                "height": round(float(rng.uniform(0.25, 0.9)), 4)}
    if shape == "twisted":
        return {"twist": round(float(rng.uniform(-1.6, 1.6)), 4), "taper": round(float(rng.uniform(0.4, 1.0)), 4),
                "height": round(float(rng.uniform(1.0, 2.0)), 4)}
    return {}


def _ring(n: int, radius: float | np.ndarray, z: float) -> np.ndarray:
    angle = np.arange(n) * 2 * np.pi / n
    return np.stack([np.cos(angle) * radius, np.sin(angle) * radius, np.full(n, z)], axis=1)


def _cube() -> Mesh:
    v = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], dtype=np.float64)
    faces = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    return v, faces


def _uv_sphere(segments: int = 32, rings: int = 16) -> Mesh:
    verts = [[0.0, 0.0, -1.0]]
    for i in range(1, rings):
        theta = np.pi * i / rings - np.pi / 2
        verts += _ring(segments, np.cos(theta), np.sin(theta)).tolist()
    verts.append([0.0, 0.0, 1.0])
    top = len(verts) - 1
    faces = [[0, 1 + (j + 1) % segments, 1 + j] for j in range(segments)]
    for i in range(rings - 2):
        a, b = 1 + i * segments, 1 + (i + 1) * segments
        faces += [[a + j, a + (j + 1) % segments, b + (j + 1) % segments, b + j] for j in range(segments)]
    last = 1 + (rings - 2) * segments
    faces += [[last + j, last + (j + 1) % segments, top] for j in range(segments)]
    return np.asarray(verts), faces


def _prism(outline: np.ndarray, height: float) -> Mesh:
    """Extrude a counter-clockwise (n, 2) outline from z = -h/2 to h/2."""
    n = len(outline)
    bottom = np.column_stack([outline, np.full(n, -height / 2)])
    top = np.column_stack([outline, np.full(n, height / 2)])
    faces = [list(range(n - 1, -1, -1)), list(range(n, 2 * n))]
    faces += [[j, (j + 1) % n, n + (j + 1) % n, n + j] for j in range(n)]
    return np.vstack([bottom, top]), faces


def _cylinder(segments: int = 48) -> Mesh:
    return _prism(_ring(segments, 1.0, 0.0)[:, :2], 2.0)


def _cone(segments: int = 48) -> Mesh:
    verts = np.vstack([_ring(segments, 1.0, -1.0), [[0.0, 0.0, 1.0]]])
    faces = [list(range(segments - 1, -1, -1))] + [[j, (j + 1) % segments, segments] for j in range(segments)]
    return verts, faces


def _torus(minor: float, major_segments: int = 40, minor_segments: int = 16) -> Mesh:
    u = np.arange(major_segments) * 2 * np.pi / major_segments
    w = np.arange(minor_segments) * 2 * np.pi / minor_segments
    uu, ww = np.meshgrid(u, w, indexing="ij")
    r = 1.0 + minor * np.cos(ww)
    verts = np.stack([r * np.cos(uu), r * np.sin(uu), minor * np.sin(ww)], axis=-1).reshape(-1, 3)
    faces = []
    for i in range(major_segments):
        for j in range(minor_segments):
            a = i * minor_segments + j
            b = ((i + 1) % major_segments) * minor_segments + j
            c = ((i + 1) % major_segments) * minor_segments + (j + 1) % minor_segments
            d = i * minor_segments + (j + 1) % minor_segments
            faces.append([a, b, c, d])
    return verts, faces


def _blob(waves: list[dict[str, Any]]) -> Mesh:
    verts, faces = _uv_sphere(40, 20)
    radius = np.ones(len(verts))
    for wave in waves:
        radius += wave["amp"] * np.sin(verts @ np.asarray(wave["freq"]) + wave["phase"])
    return verts * radius[:, None], faces


def _star(points: int, inner: float, height: float) -> Mesh:
    angle = np.arange(2 * points) * np.pi / points
    radius = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return _prism(np.column_stack([np.cos(angle) * radius, np.sin(angle) * radius]), height)


def _twisted(twist: float, taper: float, height: float, levels: int = 12) -> Mesh:
    square = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    verts = []
    for i in range(levels + 1):
        s = i / levels
        a = twist * s
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        ring = square @ rot.T * (1.0 + (taper - 1.0) * s)
        verts += np.column_stack([ring, np.full(4, height * (s - 0.5))]).tolist()
    faces = [[3, 2, 1, 0], [4 * levels + j for j in range(4)]]
    for i in range(levels):
        a, b = 4 * i, 4 * (i + 1)
        faces += [[a + j, a + (j + 1) % 4, b + (j + 1) % 4, b + j] for j in range(4)]
    return np.asarray(verts), faces


def normalize(verts: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Centre on the bounding-box centre and scale the largest extent to `scale`."""
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    extent = float((hi - lo).max())
    if extent <= 0:
        raise ValueError("a mesh needs a non-zero extent")
    return (verts - (lo + hi) / 2) * (scale / extent)


def builtin_mesh(shape: str, params: dict[str, Any], scale: float) -> Mesh:
    """Mesh of a numpy-built shape, normalised and scaled to `scale` metres (largest extent)."""
    makers = {
        "cube": _cube, "sphere": _uv_sphere, "cylinder": _cylinder, "cone": _cone,
        "torus": lambda: _torus(params["minor"]), "blob": lambda: _blob(params["waves"]),
        "star": lambda: _star(params["points"], params["inner"], params["height"]),
        "twisted": lambda: _twisted(params["twist"], params["taper"], params["height"]),
    }
    if shape not in makers:
        raise ValueError(f"{shape!r} is not a numpy-built shape ({', '.join(makers)})")
    verts, faces = makers[shape]()
    return normalize(np.asarray(verts, dtype=np.float64), scale), faces
