"""The light an equirectangular HDRI casts: its bright sources (sun, windows, softboxes) and its sky level.

Directions follow Blender's Environment Texture: image column u (0 at the left edge, 1 at the
right) looks along azimuth (0.5 - u) * 360 degrees (counter-clockwise from +X), row v (0 at the
top) along elevation (0.5 - v) * 180 degrees. A world whose texture vector is rotated by r degrees
about z (a Mapping node) shows the image's azimuth a at world azimuth a - r (`world_azimuth`).

A source is a group of upper-hemisphere pixels brighter than `BRIGHT_QUANTILE` of it (and than
`BRIGHT_OVER_MEDIAN` times its median), at most `GAP_PIXELS` apart, holding at least `MIN_SHARE` of the light an upward
floor receives from the sky: enough for its shadow to pass the exact-GT tolerance. Sources are
listed strongest first; the first is the key light a sun lamp matches.

Read with OpenCV (OpenEXR and Radiance .hdr); numpy otherwise, no bpy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.generators.kubric.colour import linear_to_srgb

ANALYSIS_WIDTH = 1024  # larger HDRIs are averaged down to this width first
BRIGHT_QUANTILE = 0.99
BRIGHT_OVER_MEDIAN = 4.0
MIN_SHARE = 0.015  # of an upward floor's irradiance from the sky: a shadow of about 3 levels at level 200
GAP_PIXELS = 2  # bright pixels this close belong to one source
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True)
class Source:
    """A bright region of the HDRI. elevation_deg, azimuth_deg: its irradiance-weighted centre, in the image's
    frame; angle_deg: its angular diameter; share: its part of an upward floor's irradiance from the sky;
    color: its sRGB colour, brightest channel 1."""

    elevation_deg: float
    azimuth_deg: float
    angle_deg: float
    share: float
    color: tuple[float, float, float]


@dataclass(frozen=True)
class HdriLight:
    """sources: strongest first (at least one); radiance: mean luminance of the upper hemisphere
    (solid-angle weighted), linear units."""

    sources: tuple[Source, ...]
    radiance: float


def world_azimuth(image_azimuth_deg: float, rotation_deg: float) -> float:
    """Where a direction of the image lies in the world when the world is rotated by `rotation_deg` about z."""
    return float((image_azimuth_deg - rotation_deg) % 360.0)


def read_hdri(path: Path) -> np.ndarray:
    """(H, W, 3) float32 linear RGB of an .exr or .hdr file, at most `ANALYSIS_WIDTH` wide."""
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")  # OpenCV reads EXR only when asked to
    import cv2

    try:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise GenbenchError(f"{path}: OpenCV cannot read it ({str(error).strip().splitlines()[-1]}); "
                            "set OPENCV_IO_ENABLE_OPENEXR=1 for .exr files") from None
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise GenbenchError(f"{path}: not a readable RGB .exr/.hdr image")
    image = np.ascontiguousarray(image[..., 2::-1], dtype=np.float32)  # BGR(A) -> RGB
    if image.shape[1] > ANALYSIS_WIDTH:
        size = (ANALYSIS_WIDTH, max(2, round(image.shape[0] * ANALYSIS_WIDTH / image.shape[1])))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.nan_to_num(np.maximum(image, 0.0), posinf=0.0)


def _source(mask: np.ndarray, rgb: np.ndarray, irradiance: np.ndarray, directions: np.ndarray,
            total: float) -> Source:
    weight = irradiance[mask]
    centre = (directions[mask] * weight[:, None]).sum(axis=0)
    centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
    spread = float(np.degrees(np.arccos(np.clip(directions[mask] @ centre, -1.0, 1.0)).max()))
    colour = rgb[mask].mean(axis=0)
    colour = linear_to_srgb(colour / max(float(colour.max()), 1e-12))
    elevation = float(np.degrees(np.arcsin(np.clip(centre[2], -1.0, 1.0))))
    azimuth = float(np.degrees(np.arctan2(centre[1], centre[0])) % 360.0)
    return Source(elevation_deg=elevation, azimuth_deg=azimuth, angle_deg=2.0 * spread,
                  share=float(weight.sum() / total), color=tuple(float(c) for c in colour))  # type: ignore[arg-type]


@lru_cache(maxsize=64)
def analyse(path: Path, sha256: str) -> HdriLight:
    """The sources and sky level of the HDRI at `path` (`sha256` of its bytes keys the cache)."""
    import cv2

    rgb = read_hdri(path).astype(np.float64)
    h, w = rgb.shape[:2]
    lum = rgb @ LUMINANCE
    lat = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
    lon = (0.5 - (np.arange(w) + 0.5) / w) * 2 * np.pi
    cos_lat = np.cos(lat)[:, None]
    directions = np.stack([cos_lat * np.cos(lon)[None], cos_lat * np.sin(lon)[None],
                           np.sin(lat)[:, None] * np.ones((1, w))], axis=-1)
    upper = np.broadcast_to((lat > 0)[:, None], (h, w))
    if not upper.any():
        raise GenbenchError(f"{path}: too small to find its light")
    solid_angle = np.broadcast_to(cos_lat, (h, w))
    irradiance = np.where(upper, lum * solid_angle * np.sin(lat)[:, None], 0.0)  # onto an upward floor
    total = float(irradiance.sum())
    if total <= 0:
        raise GenbenchError(f"{path}: its upper half is black; it lights nothing")
    sky = lum[upper]
    level = max(float(np.quantile(sky, BRIGHT_QUANTILE)), BRIGHT_OVER_MEDIAN * float(np.median(sky)))
    bright = (lum > level) & upper
    near = cv2.dilate(bright.astype(np.uint8), np.ones((2 * GAP_PIXELS + 1,) * 2, np.uint8))  # join a source's pieces
    count, labels = cv2.connectedComponents(near)
    sources = [_source((labels == c) & bright, rgb, irradiance, directions, total) for c in range(1, count)]
    sources = sorted((s for s in sources if s.share >= MIN_SHARE), key=lambda s: -s.share)
    if not sources:  # an even sky: its brightest spot stands for the key light
        blurred = cv2.GaussianBlur(lum, (0, 0), 2.0)
        row, col = np.unravel_index(int(np.argmax(np.where(upper, blurred, -1.0))), blurred.shape)
        spot = np.zeros((h, w), bool)
        spot[row, col] = True
        sources = [_source(spot, rgb, irradiance + (spot * 1e-12), directions, total)]
    radiance = float((lum * solid_angle)[upper].sum() / solid_angle[upper].sum())
    return HdriLight(sources=tuple(sources), radiance=radiance)
