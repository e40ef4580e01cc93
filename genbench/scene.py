"""A scene in memory and its folder on disk, written atomically.

`write_scene` builds the folder under ``scenes/.partial-<id>-<nonce>/`` and renames it to
``scenes/<id>/`` only when every file is written, so a scene folder that exists is
complete: a killed run leaves at most a hidden partial folder, which the next write of that
scene removes, and a rerun skips scenes that exist (`scene_complete`).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.errors import DatasetError
from genbench.frames import read_video, write_video
from genbench.records import SceneMeta


@dataclass
class Scene:
    """Pixels and metadata of one scene.

    rgb: video name -> (T, H, W, 3) uint8, e.g. ``full``, ``bg``, ``minus_1``, ``solo_1``.
    layers: object id -> (T, H, W, 4) uint8 RGBA ground-truth layer.
    visible: (T, H, W) uint8 instance ids, 0 = background.
    amodal: object id -> (T, H, W) uint8, 255 where the object is (occluded or not), else 0.
    trimasks: sample id -> (T, H, W) uint8 in {0, 128, 255}, only for stored trimasks.
    effects: object id -> effect kind -> (T, H, W) uint8, 255 where that effect of the object is, else 0.
    changed: object id k -> (T, H, W) uint8, 255 where removing k changes how other objects move, else 0.
    """

    meta: SceneMeta
    rgb: dict[str, np.ndarray]
    visible: np.ndarray
    layers: dict[int, np.ndarray] = field(default_factory=dict)
    amodal: dict[int, np.ndarray] = field(default_factory=dict)
    trimasks: dict[str, np.ndarray] = field(default_factory=dict)
    effects: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    changed: dict[int, np.ndarray] = field(default_factory=dict)

    def check(self) -> None:
        """Raise DatasetError if arrays disagree with each other or with the metadata."""
        m = self.meta
        want = (m.num_frames, m.height, m.width)
        where = f"scene {m.scene_id}"
        if sorted(self.rgb) != sorted(m.videos):
            raise DatasetError(f"{where}: rgb videos {sorted(self.rgb)} != meta.videos {sorted(m.videos)}")
        if sorted(self.layers) != sorted(m.layers) or sorted(self.amodal) != sorted(m.amodal):
            raise DatasetError(f"{where}: layers/amodal keys disagree with meta.json")
        if {k: sorted(v) for k, v in self.effects.items()} != {k: sorted(v) for k, v in m.effects.items()}:
            raise DatasetError(f"{where}: effect masks disagree with meta.json effects {m.effects}")
        if sorted(self.changed) != sorted(m.changed):
            raise DatasetError(f"{where}: changed-region masks {sorted(self.changed)} != meta.changed {m.changed}")
        arrays: list[tuple[str, np.ndarray, tuple[int, ...]]] = [("masks/visible", self.visible, want)]
        arrays += [(f"rgb/{k}", v, (*want, 3)) for k, v in self.rgb.items()]
        arrays += [(f"layers/{k}", v, (*want, 4)) for k, v in self.layers.items()]
        arrays += [(f"masks/amodal/{k}", v, want) for k, v in self.amodal.items()]
        arrays += [(f"trimask/{k}", v, want) for k, v in self.trimasks.items()]
        arrays += [(f"masks/changed/{k}", v, want) for k, v in self.changed.items()]
        arrays += [(f"masks/effects/{k}/{kind}", v, want) for k, kinds in self.effects.items()
                   for kind, v in kinds.items()]
        for name, arr, shape in arrays:
            if arr.dtype != np.uint8 or arr.shape != shape:
                raise DatasetError(f"{where}: {name} is {arr.dtype}{arr.shape}, expected uint8{shape}")
        ids = set(np.unique(self.visible).tolist()) - {0}
        if not ids <= set(m.object_ids):
            raise DatasetError(f"{where}: masks/visible has ids {sorted(ids - set(m.object_ids))} not in instances")


def scenes_dir(root: Path) -> Path:
    return Path(root) / contract.SCENES_DIR


def scene_dir(root: Path, scene_id: str) -> Path:
    return scenes_dir(root) / scene_id


def scene_complete(root: Path, scene_id: str) -> bool:
    """A scene is complete when its folder exists: folders only appear by atomic rename."""
    return (scene_dir(root, scene_id) / contract.META_FILE).is_file()


def list_scene_ids(root: Path) -> list[str]:
    """Ids of the complete scenes, sorted; partial folders are invisible."""
    folder = scenes_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(contract.PARTIAL_PREFIX))


def remove_partials(root: Path, scene_id: str | None = None) -> list[Path]:
    """Delete partial folders left by killed writers (of one scene, or all). Returns them."""
    folder = scenes_dir(root)
    if not folder.is_dir():
        return []
    prefix = contract.PARTIAL_PREFIX + (f"{scene_id}-" if scene_id else "")
    removed = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix)]
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


def json_text(data: object) -> str:
    """genbench's JSON file text: indented, sorted keys for stable bytes."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically (temporary file + rename), sorted keys for stable bytes."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json_text(data))
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None


def _write_contents(folder: Path, scene: Scene) -> None:
    for name, video in scene.rgb.items():
        write_video(folder / contract.RGB_DIR / name, video)
    for k, layer in scene.layers.items():
        write_video(folder / contract.LAYERS_DIR / str(k), layer)
    write_video(folder / contract.MASKS_DIR / contract.VISIBLE_DIR, scene.visible)
    for k, mask in scene.amodal.items():
        write_video(folder / contract.MASKS_DIR / contract.AMODAL_DIR / str(k), mask)
    for sid, tri in scene.trimasks.items():
        write_video(folder / contract.TRIMASK_DIR / sid, tri)
    for k, kinds in scene.effects.items():
        for kind, mask in kinds.items():
            write_video(folder / contract.MASKS_DIR / contract.EFFECTS_DIR / str(k) / kind, mask)
    for k, mask in scene.changed.items():
        write_video(folder / contract.MASKS_DIR / contract.CHANGED_DIR / str(k), mask)
    write_json(folder / contract.META_FILE, scene.meta.to_dict())
    if scene.meta.run:
        write_json(folder / contract.RUN_FILE, scene.meta.run)


def write_scene(root: Path, scene: Scene, *, overwrite: bool = False) -> Path:
    """Write `scene` under ``<root>/scenes/<scene_id>/`` atomically and return the folder.

    Raises DatasetError if the scene exists and `overwrite` is False. A crash at any point
    leaves either the old state or the complete new folder, never a half scene.
    """
    scene.check()
    sid = scene.meta.scene_id
    if not contract.SCENE_ID_PATTERN.match(sid) or sid.startswith(contract.PARTIAL_PREFIX):
        raise DatasetError(f"scene id {sid!r} must be 1-128 characters of letters, digits, '_', '.', '-'")
    final = scene_dir(root, sid)
    if final.exists() and not overwrite:
        raise DatasetError(f"{final}: scene exists; pass overwrite=True or delete it first")
    scenes_dir(root).mkdir(parents=True, exist_ok=True)
    remove_partials(root, sid)
    with atomic_folder(final) as partial:
        _write_contents(partial, scene)
    return final


def read_meta(root: Path, scene_id: str) -> SceneMeta:
    """The scene's meta.json, with its run.json (when present) as `SceneMeta.run`."""
    folder = scene_dir(root, scene_id)
    data = read_json(folder / contract.META_FILE)
    if (folder / contract.RUN_FILE).is_file():
        data["run"] = read_json(folder / contract.RUN_FILE)
    return SceneMeta.from_dict(data)


def read_scene(root: Path, scene_id: str) -> Scene:
    """Read a complete scene folder back into memory."""
    folder = scene_dir(root, scene_id)
    meta = read_meta(root, scene_id)
    masks = folder / contract.MASKS_DIR
    trimask_dir = folder / contract.TRIMASK_DIR
    return Scene(
        meta=meta,
        rgb={v: read_video(folder / contract.RGB_DIR / v) for v in meta.videos},
        visible=read_video(masks / contract.VISIBLE_DIR),
        layers={k: read_video(folder / contract.LAYERS_DIR / str(k)) for k in meta.layers},
        amodal={k: read_video(masks / contract.AMODAL_DIR / str(k)) for k in meta.amodal},
        trimasks={p.name: read_video(p) for p in sorted(trimask_dir.iterdir())} if trimask_dir.is_dir() else {},
        effects={k: {kind: read_video(masks / contract.EFFECTS_DIR / str(k) / kind) for kind in kinds}
                 for k, kinds in meta.effects.items()},
        changed={k: read_video(masks / contract.CHANGED_DIR / str(k)) for k in meta.changed},
    )
