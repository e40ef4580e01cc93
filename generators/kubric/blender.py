"""Build a sampled scene in Blender (bpy 4.5, Cycles) and render it to numpy arrays.

bpy holds one global Blender state per process; `BlenderScene` resets it
(`read_factory_settings(use_empty=True)`) before building, so scenes never leak into each
other. Rendering a variant shows only some objects: the others are taken out of the render
with `hide_render` (removed, never made transparent). Every render of a scene uses the
same Cycles seed and settings.

Passes come back through files in a private temporary folder: the combined image as an
8-bit PNG written by Blender (view transform applied, no dither), the object-index pass and
the light passes (`LIGHT_PASSES`, each summed over its direct and indirect parts where that
is one kind, as luminance) through compositor File Output nodes as float EXRs read with
`bpy.data.images`. Light passes come from the same samples as the combined image: turning
them on leaves its bytes unchanged (tests/test_render_kinds.py checks it).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from genbench.errors import GenbenchError
from genbench.generators.kubric import media, shading
from genbench.generators.kubric.colour import srgb_to_linear
from genbench.generators.kubric.geometry import SMOOTH_SHAPES, builtin_mesh, normalize
from genbench.generators.kubric.quiet import quiet
from genbench.generators.kubric.region import Rect
from genbench.generators.kubric.settings import RenderSettings
from genbench.generators.kubric.simulate import wall_boxes
from genbench.generators.kubric.spec import look_at_quaternion

GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")
FLOOR_SIZE = 80.0
VIEW_TRANSFORM = "AgX"
TEXTURE_OUTPUT = {"checker": "Fac", "noise": "Fac", "voronoi": "Distance", "wave": "Fac", "magic": "Fac",
                  "brick": "Fac"}
# Light passes written per render, as luminance: name -> the Cycles render-layer outputs summed into it.
LIGHT_PASSES: dict[str, tuple[str, ...]] = {
    "diffuse_direct": ("DiffDir",),
    "diffuse_indirect": ("DiffInd",),
    "glossy_direct": ("GlossDir",),
    "glossy_indirect": ("GlossInd",),
    "transmission": ("TransDir", "TransInd"),
}
VIEW_LAYER_PASSES = ("use_pass_diffuse_direct", "use_pass_diffuse_indirect", "use_pass_glossy_direct",
                     "use_pass_glossy_indirect", "use_pass_transmission_direct", "use_pass_transmission_indirect")
TEXTURE_NODE = {"checker": "ShaderNodeTexChecker", "noise": "ShaderNodeTexNoise", "voronoi": "ShaderNodeTexVoronoi",
                "wave": "ShaderNodeTexWave", "magic": "ShaderNodeTexMagic", "brick": "ShaderNodeTexBrick"}


def select_device(kind: str) -> str:
    """Enable a GPU backend for Cycles when `kind` is auto/gpu and one is present; return its name or "CPU"."""
    import bpy

    if kind == "cpu":
        return "CPU"
    prefs = bpy.context.preferences.addons["cycles"].preferences
    for backend in GPU_BACKENDS:
        try:
            prefs.compute_device_type = backend
        except TypeError:  # backend not compiled into this bpy
            continue
        prefs.get_devices()
        devices = [d for d in prefs.devices if d.type == backend]
        if devices:
            for d in prefs.devices:
                d.use = d.type == backend
            return backend
    if kind == "gpu":
        raise GenbenchError("--device gpu: Cycles found no OptiX/CUDA/HIP/oneAPI/Metal device; use --device cpu")
    return "CPU"


class BlenderScene:
    """One scene built in Blender, ready to render any subset of its objects at any frame.

    persistent: keep Cycles' scene data between renders (the fast path); False rebuilds
    it on every render (the naive reference in perf/render.py).
    light_passes: render the light passes (`LIGHT_PASSES`) so that `render(passes=True)` can return them.
    """

    def __init__(self, spec: dict[str, Any], settings: RenderSettings, *, assets_root: Path | None = None,
                 device: str = "auto", threads: int = 0, persistent: bool = True, light_passes: bool = True) -> None:
        import bpy

        self.spec, self.settings = spec, settings
        self._tmp = tempfile.TemporaryDirectory(prefix="genbench-render-")
        self.tmp = Path(self._tmp.name)
        with quiet():
            bpy.ops.wm.read_factory_settings(use_empty=True)
        self.scene = bpy.context.scene
        self.device = select_device(device)
        self.threads = threads
        self.light_passes = light_passes
        self.last_passes: dict[str, np.ndarray] = {}
        self._configure(persistent)
        self._world()
        self._floor_and_walls()
        self._lights()
        self.objects: dict[int, Any] = {}
        self.vertices: dict[int, np.ndarray] = {}
        for obj in spec["objects"]:
            self._add_object(obj, assets_root)
        self._camera()
        self._compositor()

    def close(self) -> None:
        self._tmp.cleanup()

    # --- settings -------------------------------------------------------------------------
    def _configure(self, persistent: bool) -> None:
        s, settings = self.scene, self.settings
        s.render.engine = "CYCLES"
        s.cycles.device = "CPU" if self.device == "CPU" else "GPU"
        s.render.resolution_x = s.render.resolution_y = settings.resolution
        s.render.resolution_percentage = 100
        s.render.fps = max(1, round(settings.fps))
        s.render.use_persistent_data = persistent
        s.render.threads_mode = "FIXED" if self.threads > 0 else "AUTO"
        if self.threads > 0:
            s.render.threads = self.threads
        s.render.dither_intensity = 0.0
        s.render.use_motion_blur = False
        s.render.film_transparent = False
        s.render.image_settings.file_format = "PNG"
        s.render.image_settings.color_mode = "RGB"
        s.render.image_settings.color_depth = "8"
        s.render.image_settings.compression = 0
        s.view_settings.view_transform = VIEW_TRANSFORM
        s.view_settings.look = "None"
        s.view_settings.exposure = 0.0
        c = s.cycles
        c.seed = int(self.spec["cycles_seed"])
        c.use_animated_seed = False
        c.samples = settings.samples
        c.use_adaptive_sampling = settings.adaptive_threshold > 0
        if settings.adaptive_threshold > 0:
            c.adaptive_threshold = settings.adaptive_threshold
            c.adaptive_min_samples = 0
        c.use_denoising = settings.denoise
        if settings.denoise:
            c.denoiser = "OPENIMAGEDENOISE"
            c.denoising_input_passes = "RGB_ALBEDO_NORMAL"
            c.denoising_prefilter = "ACCURATE"
        c.max_bounces, c.diffuse_bounces, c.glossy_bounces = 8, 3, 4
        c.transmission_bounces, c.transparent_max_bounces, c.volume_bounces = 8, 8, 0
        c.caustics_reflective = c.caustics_refractive = False
        c.sample_clamp_indirect = 10.0
        c.use_light_tree = True
        s.view_layers[0].use_pass_object_index = True
        for name in VIEW_LAYER_PASSES if self.light_passes else ():
            setattr(s.view_layers[0], name, True)

    # --- materials ------------------------------------------------------------------------
    def _material(self, name: str, color: list[float], roughness: float, metallic: float,
                  transmission: float = 0.0, ior: float = 1.45, texture: dict[str, Any] | None = None,
                  emission: dict[str, Any] | None = None) -> Any:
        import bpy

        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        nt = mat.node_tree
        bsdf = nt.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*srgb_to_linear(color), 1.0)
        bsdf.inputs["Roughness"].default_value = roughness
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Transmission Weight"].default_value = transmission
        bsdf.inputs["IOR"].default_value = ior
        if emission:  # the object glows and lights its surroundings (Cycles samples it as a light)
            bsdf.inputs["Emission Color"].default_value = (*srgb_to_linear(emission["color"]), 1.0)
            bsdf.inputs["Emission Strength"].default_value = emission["strength"]
        if texture and texture["kind"] in ("procedural", "photo"):
            image = None
            if texture["kind"] == "photo":
                image = media.resolve(texture, bundled=media.bundled_texture_dir(), user=self.settings.textures,
                                      flag="--textures")
            nt.links.new(shading.textured_colour(nt, texture, color, image), bsdf.inputs["Base Color"])
        elif texture:
            coords = nt.nodes.new("ShaderNodeTexCoord")
            tex = nt.nodes.new(TEXTURE_NODE[texture["kind"]])
            nt.links.new(coords.outputs["Object"], tex.inputs["Vector"])
            if "Scale" in tex.inputs:
                tex.inputs["Scale"].default_value = texture["scale"]
            if "Detail" in tex.inputs:
                tex.inputs["Detail"].default_value = texture["detail"]
            mix = nt.nodes.new("ShaderNodeMix")
            mix.data_type = "RGBA"
            sockets = {s.identifier: s for s in mix.inputs}
            sockets["A_Color"].default_value = (*srgb_to_linear(color), 1.0)
            sockets["B_Color"].default_value = (*srgb_to_linear(texture["color2"]), 1.0)
            nt.links.new(tex.outputs[TEXTURE_OUTPUT[texture["kind"]]], sockets["Factor_Float"])
            result = next(s for s in mix.outputs if s.identifier == "Result_Color")
            nt.links.new(result, bsdf.inputs["Base Color"])
        return mat

    # --- world, floor, walls, lights ------------------------------------------------------
    def _world(self) -> None:
        import bpy

        world = bpy.data.worlds.new("world")
        self.scene.world = world
        world.use_nodes = True
        nt = world.node_tree
        background = nt.nodes["Background"]
        spec, sun = self.spec["world"], self.spec["sun"]
        background.inputs["Strength"].default_value = spec["strength"]
        if spec["kind"] == "hdri":
            path = media.resolve(spec, bundled=media.bundled_hdri_dir(), user=self.settings.hdri, flag="--hdri")
            shading.hdri_world(nt, background, spec, path)
        elif spec["kind"] == "sky":
            sky = nt.nodes.new("ShaderNodeTexSky")
            sky.sky_type = "NISHITA"
            sky.sun_disc = False  # the sun lamp lights the scene; the sky only matches its position
            sky.sun_elevation = math.radians(sun["elevation_deg"])
            sky.sun_rotation = math.radians(90.0 - sun["azimuth_deg"])  # Nishita: 0 = +Y, 90 deg = +X
            sky.air_density, sky.dust_density = spec["air"], spec["dust"]
            nt.links.new(sky.outputs["Color"], background.inputs["Color"])
        else:
            coords = nt.nodes.new("ShaderNodeTexCoord")
            split = nt.nodes.new("ShaderNodeSeparateXYZ")
            ramp = nt.nodes.new("ShaderNodeValToRGB")
            ramp.color_ramp.elements[0].position, ramp.color_ramp.elements[1].position = 0.0, 0.6
            ramp.color_ramp.elements[0].color = (*srgb_to_linear(spec["horizon"]), 1.0)
            ramp.color_ramp.elements[1].color = (*srgb_to_linear(spec["zenith"]), 1.0)
            nt.links.new(coords.outputs["Generated"], split.inputs["Vector"])
            nt.links.new(split.outputs["Z"], ramp.inputs["Fac"])
            nt.links.new(ramp.outputs["Color"], background.inputs["Color"])

    def _mesh_object(self, name: str, verts: np.ndarray, faces: list[list[int]], material: Any,
                     smooth: bool = False) -> Any:
        import bpy

        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts.tolist(), [], faces)
        mesh.update()
        if smooth:
            mesh.shade_smooth()
        mesh.materials.append(material)
        obj = bpy.data.objects.new(name, mesh)
        self.scene.collection.objects.link(obj)
        return obj

    def _floor_and_walls(self) -> None:
        f = self.spec["floor"]
        half = FLOOR_SIZE / 2
        verts = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]], dtype=np.float64)
        floor_mat = self._material("floor", f["color"], f["roughness"], f["metallic"], texture=f["texture"])
        self._mesh_object("floor", verts, [[0, 1, 2, 3]], floor_mat)
        walls = self.spec["walls"]
        for i, (centre, half_ext, yaw) in enumerate(wall_boxes(self.spec)):
            cube, faces = builtin_mesh("cube", {}, 1.0)
            box = cube * (2 * half_ext)
            rot = np.array([[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
            mat = self._material(f"wall{i}", walls["color"], walls["roughness"], 0.0, texture=walls["texture"])
            self._mesh_object(f"wall{i}", box @ rot.T + centre, faces, mat)

    def _lights(self) -> None:
        import bpy

        sun = self.spec["sun"]
        if sun["strength"] > 0:  # 0: no lamp, the HDRI alone casts the key light the sun describes
            data = bpy.data.lights.new("sun", "SUN")
            data.energy = sun["strength"]
            data.angle = math.radians(sun["angle_deg"])
            data.color = srgb_to_linear(sun["color"])
            obj = bpy.data.objects.new("sun", data)
            self.scene.collection.objects.link(obj)
            e, a = math.radians(sun["elevation_deg"]), math.radians(sun["azimuth_deg"])
            toward_sun = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
            obj.rotation_mode = "QUATERNION"
            obj.rotation_quaternion = look_at_quaternion(toward_sun, np.zeros(3)).tolist()
        for i, light in enumerate(self.spec["lights"]):
            data = bpy.data.lights.new(f"light{i}", "POINT" if light["kind"] == "point" else "AREA")
            data.energy = light["power"]
            data.color = srgb_to_linear(light["color"])
            if light["kind"] == "point":
                data.shadow_soft_size = light["size"]
            else:
                data.size = light["size"]
            obj = bpy.data.objects.new(f"light{i}", data)
            self.scene.collection.objects.link(obj)
            obj.location = light["position"]
            obj.rotation_mode = "QUATERNION"
            obj.rotation_quaternion = look_at_quaternion(np.asarray(light["position"], dtype=np.float64),
                                                         np.zeros(3)).tolist()

    # --- objects --------------------------------------------------------------------------
    def _add_object(self, obj: dict[str, Any], assets_root: Path | None) -> None:
        shape, m = obj["shape"], obj["material"]
        name = f"object{obj['id']}"
        if shape == "asset":
            if assets_root is None:
                raise GenbenchError(f"scene needs asset {obj['params']['path']!r} but no --assets folder was given")
            blender_obj = self._import_asset(name, assets_root / obj["params"]["path"], obj["scale"])
        else:
            if shape == "suzanne":
                verts, faces = self._suzanne()
                verts = normalize(verts, obj["scale"])
            else:
                verts, faces = builtin_mesh(shape, obj["params"], obj["scale"])
            material = self._material(name, m["color"], m["roughness"], m["metallic"], m["transmission"], m["ior"],
                                      m["texture"], m.get("emission"))
            blender_obj = self._mesh_object(name, verts, faces, material, smooth=shape in SMOOTH_SHAPES)
        blender_obj.pass_index = obj["id"]
        blender_obj.rotation_mode = "QUATERNION"
        self.objects[obj["id"]] = blender_obj
        mesh = blender_obj.data
        coords = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", coords)
        self.vertices[obj["id"]] = coords.reshape(-1, 3)

    @staticmethod
    def _suzanne() -> tuple[np.ndarray, list[list[int]]]:
        import bmesh

        bm = bmesh.new()
        bmesh.ops.create_monkey(bm)
        verts = np.array([v.co[:] for v in bm.verts], dtype=np.float64)
        faces = [[v.index for v in f.verts] for f in bm.faces]
        bm.free()
        return verts, faces

    def _import_asset(self, name: str, path: Path, scale: float) -> Any:
        """Import a .obj/.glb/.gltf/.ply, merge its meshes into one object, centre it and scale it to `scale`."""
        import bmesh
        import bpy

        if not path.is_file():
            raise GenbenchError(f"asset {path} not found; keep the --assets folder unchanged while resuming")
        before = set(bpy.data.objects)
        with quiet(stderr=True):  # the importers log every step
            if path.suffix.lower() == ".obj":
                bpy.ops.wm.obj_import(filepath=str(path))
            elif path.suffix.lower() == ".ply":
                bpy.ops.wm.ply_import(filepath=str(path))
            else:
                bpy.ops.import_scene.gltf(filepath=str(path))
        new = [o for o in bpy.data.objects if o not in before]
        bpy.context.view_layer.update()
        meshes = [o for o in new if o.type == "MESH"]
        if not meshes:
            raise GenbenchError(f"asset {path} holds no mesh")
        bm, materials = bmesh.new(), []
        for o in meshes:
            data = o.data.copy()
            data.transform(o.matrix_world)
            offset = len(materials)
            materials += list(data.materials)
            for poly in data.polygons:
                poly.material_index += offset
            bm.from_mesh(data)
            bpy.data.meshes.remove(data)
        mesh = bpy.data.meshes.new(name)
        bm.to_mesh(mesh)
        bm.free()
        for mat in materials:
            mesh.materials.append(mat)
        coords = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", coords)
        mesh.vertices.foreach_set("co", normalize(coords.reshape(-1, 3), scale).ravel())
        mesh.update()
        for o in new:
            bpy.data.objects.remove(o, do_unlink=True)
        obj = bpy.data.objects.new(name, mesh)
        self.scene.collection.objects.link(obj)
        return obj

    # --- camera, compositor ---------------------------------------------------------------
    def _camera(self) -> None:
        import bpy

        spec = self.spec["camera"]
        data = bpy.data.cameras.new("camera")
        data.lens = spec["focal_length"]
        data.sensor_width = spec["sensor_width"]
        data.sensor_fit = "HORIZONTAL"
        data.clip_start, data.clip_end = 0.05, 200.0
        self.camera = bpy.data.objects.new("camera", data)
        self.camera.rotation_mode = "QUATERNION"
        self.scene.collection.objects.link(self.camera)
        self.scene.camera = self.camera

    def _compositor(self) -> None:
        s = self.scene
        s.use_nodes = True
        s.render.use_compositing = True
        tree = s.node_tree
        layers = next((n for n in tree.nodes if n.bl_idname == "CompositorNodeRLayers"), None)
        if layers is None:
            layers = tree.nodes.new("CompositorNodeRLayers")
        out = self._exr_output(tree, "RGB")
        out.file_slots[0].path = "index_"
        tree.links.new(layers.outputs["IndexOB"], out.inputs[0])
        self.index_output = out
        self.pass_output = None
        if self.light_passes:
            self.pass_output = self._pass_output(tree, layers)

    def _exr_output(self, tree: Any, color_mode: str) -> Any:
        """A compositor File Output node writing uncompressed 32-bit EXRs (`color_mode` RGB or BW) into tmp."""
        out = tree.nodes.new("CompositorNodeOutputFile")
        out.base_path = str(self.tmp)
        out.format.file_format = "OPEN_EXR"
        out.format.color_depth = "32"
        out.format.exr_codec = "NONE"
        out.format.color_mode = color_mode
        return out

    def _pass_output(self, tree: Any, layers: Any) -> Any:
        """A File Output node writing each light pass's luminance (summed over its parts) to `<name>_NNNN.exr`."""
        out = self._exr_output(tree, "BW")
        out.file_slots.clear()
        for name, parts in LIGHT_PASSES.items():
            socket = layers.outputs[parts[0]]
            for part in parts[1:]:
                add = tree.nodes.new("CompositorNodeMixRGB")
                add.blend_type, add.use_clamp = "ADD", False
                add.inputs[0].default_value = 1.0
                tree.links.new(socket, add.inputs[1])
                tree.links.new(layers.outputs[part], add.inputs[2])
                socket = add.outputs[0]
            luminance = tree.nodes.new("CompositorNodeRGBToBW")
            tree.links.new(socket, luminance.inputs[0])
            out.file_slots.new(f"{name}_")
            tree.links.new(luminance.outputs[0], out.inputs[-1])
        return out

    def _read_exr(self, stem: str) -> np.ndarray:
        """(H, W, C) float32 of `<stem>_NNNN.exr` of the current frame, top row first; the file is removed."""
        import bpy

        exr = self.tmp / f"{stem}_{self.scene.frame_current:04d}.exr"
        image = bpy.data.images.load(str(exr), check_existing=False)
        size = self.settings.resolution
        pixels = np.empty(size * size * image.channels, dtype=np.float32)
        image.pixels.foreach_get(pixels)
        bpy.data.images.remove(image)
        exr.unlink()
        return np.flipud(pixels.reshape(size, size, -1))

    # --- per render -----------------------------------------------------------------------
    def pose(self, camera: tuple[np.ndarray, np.ndarray], objects: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        """Place the camera and objects: (position (3,), quaternion (4,) w-x-y-z) each."""
        self.camera.location = camera[0].tolist()
        self.camera.rotation_quaternion = camera[1].tolist()
        for k, (position, quaternion) in objects.items():
            self.objects[k].location = position.tolist()
            self.objects[k].rotation_quaternion = quaternion.tolist()

    def show_only(self, ids: frozenset[int]) -> None:
        """Objects not in `ids` are taken out of the render (hide_render), the others put back."""
        for k, obj in self.objects.items():
            hidden = k not in ids
            if obj.hide_render != hidden:
                obj.hide_render = hidden

    def render(self, *, index: bool, rect: Rect | None = None,
               passes: bool = False) -> tuple[np.ndarray, np.ndarray | None, float]:
        """Render the current state: (H, W, 3) uint8 RGB, (H, W) uint8 object ids or None, seconds.

        rect: render only this pixel window (Cycles border; its pixels equal a full render's), zeros elsewhere.
        passes: also read the light passes into `last_passes` (name -> (H, W) float32 luminance; {} otherwise).
        """
        import bpy
        from PIL import Image

        if passes and self.pass_output is None:
            raise GenbenchError("light passes asked for from a scene built without them (light_passes=False)")
        self.index_output.mute = not index
        if self.pass_output is not None:
            self.pass_output.mute = not passes
        r, size = self.scene.render, self.settings.resolution
        r.use_border = rect is not None
        if rect is not None:
            r.use_crop_to_border = False
            r.border_min_x, r.border_max_x = rect.x0 / size, rect.x1 / size
            r.border_min_y, r.border_max_y = 1.0 - rect.y1 / size, 1.0 - rect.y0 / size
        rgb_path = self.tmp / "rgb.png"
        self.scene.render.filepath = str(rgb_path)
        start = time.perf_counter()
        with quiet():
            bpy.ops.render.render(write_still=True)
        seconds = time.perf_counter() - start
        with Image.open(rgb_path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
        ids = None
        if index:
            ids = np.rint(self._read_exr("index")[..., 0]).clip(0, 255).astype(np.uint8)
        self.last_passes = {name: self._read_exr(name)[..., 0].copy() for name in LIGHT_PASSES} if passes else {}
        return rgb, ids, seconds
