"""Blender node trees for the looks beyond v1 (`realism.py`): an HDRI world, procedural and photo textures.

Textures read object coordinates (metres: the floor and walls are built in world coordinates,
built-in objects around their centre) through a Mapping node that scales them by the texture's
`scale` (repeats per metre) and turns them by `rotation_deg` about z. Photos are box-projected
(each face takes the projection along its dominant axis, blended at the edges) and repeat; grey
ones (brick, grass, gravel) are tinted by the surface's colour. The HDRI is the world's colour,
seen as the backdrop and lighting the scene, turned by `rotation_deg` about z.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from genbench.generators.kubric.colour import srgb_to_linear

PHOTO_BLEND = 0.3  # box projection: share of a face's edge blended between two projections


def _image(path: Path) -> Any:
    import bpy

    return bpy.data.images.load(str(path), check_existing=True)


def hdri_world(tree: Any, background: Any, world: dict[str, Any], path: Path) -> None:
    """Feed `background` (a Background node of world node tree `tree`) from the HDRI at `path`."""
    nodes, links = tree.nodes, tree.links
    coords = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, math.radians(world["rotation_deg"]))
    env = nodes.new("ShaderNodeTexEnvironment")
    env.image = _image(path)
    env.projection = "EQUIRECTANGULAR"
    links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    links.new(env.outputs["Color"], background.inputs["Color"])


def _mapping(tree: Any, texture: dict[str, Any]) -> Any:
    coords = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = (texture["scale"],) * 3
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, math.radians(texture["rotation_deg"]))
    tree.links.new(coords.outputs["Object"], mapping.inputs["Vector"])
    return mapping.outputs["Vector"]


def _mix(tree: Any, factor: Any, a: Any, b: Any, blend: str = "MIX") -> Any:
    """A colour Mix node: `factor` a socket, `a` and `b` sockets or sRGB colours; returns its result socket."""
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.blend_type = blend
    sockets = {s.identifier: s for s in mix.inputs}
    for name, value in (("A_Color", a), ("B_Color", b)):
        if isinstance(value, list):
            sockets[name].default_value = (*srgb_to_linear(value), 1.0)
        else:
            tree.links.new(value, sockets[name])
    if isinstance(factor, float):
        sockets["Factor_Float"].default_value = factor
    else:
        tree.links.new(factor, sockets["Factor_Float"])
    return next(s for s in mix.outputs if s.identifier == "Result_Color")


def textured_colour(tree: Any, texture: dict[str, Any], color: list[float], image: Path | None) -> Any:
    """The output socket of a procedural or photo texture's colour (`image`: the photo's file)."""
    nodes, links = tree.nodes, tree.links
    vector = _mapping(tree, texture)
    if texture["kind"] == "photo":
        tex = nodes.new("ShaderNodeTexImage")
        tex.image = _image(image)  # type: ignore[arg-type]
        tex.projection, tex.projection_blend = "BOX", PHOTO_BLEND
        tex.extension, tex.interpolation = "REPEAT", "Linear"
        links.new(vector, tex.inputs["Vector"])
        return _mix(tree, 1.0, tex.outputs["Color"], color, "MULTIPLY") if texture["grey"] else tex.outputs["Color"]
    pattern, color1, color2 = texture["pattern"], texture["color1"], texture["color2"]
    if pattern == "tile":
        tex = nodes.new("ShaderNodeTexBrick")
        tex.inputs["Scale"].default_value = 1.0
        tex.inputs["Color1"].default_value = (*srgb_to_linear(color1), 1.0)
        tex.inputs["Color2"].default_value = (*srgb_to_linear([0.85 * c for c in color1]), 1.0)
        tex.inputs["Mortar"].default_value = (*srgb_to_linear(color2), 1.0)
        links.new(vector, tex.inputs["Vector"])
        return tex.outputs["Color"]
    if pattern == "checker":
        tex = nodes.new("ShaderNodeTexChecker")
        tex.inputs["Scale"].default_value = 1.0
        tex.inputs["Color1"].default_value = (*srgb_to_linear(color1), 1.0)
        tex.inputs["Color2"].default_value = (*srgb_to_linear(color2), 1.0)
        links.new(vector, tex.inputs["Vector"])
        return tex.outputs["Color"]
    if pattern == "wood":
        tex = nodes.new("ShaderNodeTexWave")
        tex.wave_type, tex.rings_direction = "RINGS", "Z"
        tex.inputs["Distortion"].default_value = texture["distortion"]
    else:
        tex = nodes.new("ShaderNodeTexNoise")
    tex.inputs["Scale"].default_value = 1.0
    tex.inputs["Detail"].default_value = texture["detail"]
    links.new(vector, tex.inputs["Vector"])
    return _mix(tree, tex.outputs["Fac"], color1, color2)
