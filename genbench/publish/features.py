"""The published schema: one row per scene, every frame the source PNG file's own bytes.

A row holds the whole scene, so nothing of the data contract is lost: the input (`full`), the
clean plate (`bg`), the instance-id masks, per object its `minus_<k>`, `solo_<k>`, RGBA layer,
amodal mask and per-kind effect masks (where the generator measured them), and per sample (a
removal task) its target name and its trimask frames. Videos absent
from a scene (paste and tripod scenes have no layers) are empty lists. Trimasks are included for
every sample (derived ones encoded like every genbench PNG), so training needs no genbench code.

Frames are `datasets.Image` values holding the PNG bytes unchanged (byte for byte equal to the
files in the dataset folder; docs/publishing.md says why PNG rather than raw arrays).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Features, Image, List, Value
from PIL import Image as PILImage

from genbench import contract
from genbench.frames import PNG_COMPRESS_LEVEL, frame_paths
from genbench.records import SceneMeta
from genbench.scene import scene_dir
from genbench.trimask import trimask as derive_trimask

FRAMES = List(Image())

FEATURES = Features({
    "scene_id": Value("string"),
    "source": Value("string"),  # the generator: kubric, paste, tripod, toy
    "split": Value("string"),
    "seed": Value("int64"),
    "index": Value("int64"),
    "num_frames": Value("int32"),
    "height": Value("int32"),
    "width": Value("int32"),
    "fps": Value("float32"),
    "meta": Value("string"),  # the scene's meta.json, verbatim
    "full": FRAMES,  # uint8 RGB input: every object present
    "bg": FRAMES,  # uint8 RGB clean plate
    "visible": FRAMES,  # uint8 L instance ids, 0 = background
    "objects": List({
        "id": Value("int32"),
        "asset_id": Value("string"),
        "minus": FRAMES,  # uint8 RGB, object and its effects removed
        "solo": FRAMES,  # uint8 RGB, object alone over the background
        "layer": FRAMES,  # uint8 RGBA ground-truth layer
        "amodal": FRAMES,  # uint8 L 0/255
        "effects": List({"kind": Value("string"), "mask": FRAMES}),  # uint8 L 0/255 per effect kind
    }),
    "samples": List({
        "sample_id": Value("string"),
        "remove": List(Value("int32")),
        "target": Value("string"),  # "bg" or "minus_<k>"
        "trimask_stored": Value("bool"),  # True: the generator stored it; False: derived by genbench.trimask
        "trimask": FRAMES,  # uint8 L, 0 remove / 128 uncertain / 255 preserve
    }),
})


def png_bytes(frame: np.ndarray) -> bytes:
    """One uint8 frame as PNG bytes, encoded exactly as `genbench.frames.write_image` writes files."""
    buf = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(frame)).save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def _video(folder: Path) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    return [{"bytes": p.read_bytes(), "path": None} for p in frame_paths(folder)]


def scene_files(root: Path, meta: SceneMeta) -> list[Path]:
    """Every frame file a scene's row carries (for shard planning by size)."""
    folder = scene_dir(root, meta.scene_id)
    return [p for p in folder.rglob("*.png") if contract.FRAME_PATTERN.match(p.name)]


def scene_row(root: Path, meta: SceneMeta) -> dict[str, Any]:
    """The published row of one scene (see FEATURES)."""
    folder = scene_dir(root, meta.scene_id)
    rgb, masks = folder / contract.RGB_DIR, folder / contract.MASKS_DIR
    objects = [{"id": inst.id, "asset_id": inst.asset_id,
                "minus": _video(rgb / contract.minus_video(inst.id)),
                "solo": _video(rgb / contract.solo_video(inst.id)),
                "layer": _video(folder / contract.LAYERS_DIR / str(inst.id)),
                "amodal": _video(masks / contract.AMODAL_DIR / str(inst.id)),
                "effects": [{"kind": kind, "mask": _video(masks / contract.EFFECTS_DIR / str(inst.id) / kind)}
                            for kind in meta.effects.get(inst.id, [])]} for inst in meta.instances]
    visible = _video(masks / contract.VISIBLE_DIR)
    samples = []
    for spec in meta.samples:
        sid = contract.sample_id(meta.scene_id, spec.remove)
        if spec.trimask.stored:
            tri = _video(folder / contract.TRIMASK_DIR / sid)
        else:
            ids = np.stack([np.asarray(PILImage.open(io.BytesIO(f["bytes"]))) for f in visible])
            tri = [{"bytes": png_bytes(t), "path": None} for t in derive_trimask(ids, spec.remove, spec.trimask)]
        samples.append({"sample_id": sid, "remove": sorted(spec.remove),
                        "target": contract.target_video(spec.remove, meta.object_ids),
                        "trimask_stored": spec.trimask.stored, "trimask": tri})
    return {"scene_id": meta.scene_id, "source": meta.generator, "split": meta.split, "seed": meta.seed,
            "index": meta.index, "num_frames": meta.num_frames, "height": meta.height, "width": meta.width,
            "fps": meta.fps, "meta": (folder / contract.META_FILE).read_text(),
            "full": _video(rgb / contract.FULL), "bg": _video(rgb / contract.BG), "visible": visible,
            "objects": objects, "samples": samples}
