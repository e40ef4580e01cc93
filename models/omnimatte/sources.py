"""Where the optimiser's inputs come from: the clean background and one solo video per object.

Either the ground truth of a scene (`rgb/bg`, `rgb/solo_<k>`: the benchmark's upper bound), or a
removal method from the registry, run with the trimasks of DESIGN.md: the clean plate removes
every object (all objects 0, background 128); solo_k keeps object k (255) and removes the others (0,
grown by the trimask's dilation except onto object k's own pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.contract import TRIMASK_PRESERVE
from genbench.errors import GenbenchError
from genbench.frames import read_video
from genbench.models.omnimatte.ensemble import Ensemble
from genbench.records import TrimaskSpec
from genbench.scene import read_meta
from genbench.trimask import trimask

DEFAULT_REMOVAL = "casper"


@dataclass
class LayerInputs:
    """frames, bg: (T, H, W, 3) uint8; solos: id -> (T, H, W, 3) uint8; masks: id -> (T, H, W) bool
    where the object is (amodal when known); visible: (T, H, W) uint8 instance ids of `frames`."""

    frames: np.ndarray
    bg: np.ndarray
    solos: dict[int, np.ndarray]
    masks: dict[int, np.ndarray]
    visible: np.ndarray
    source: str

    @property
    def unlayered(self) -> list[int]:
        """Objects seen in `frames` without a solo video (a scene rendered with fewer targets than objects, read
        with ``gt``): the input video is then not bg plus the layers, which the start's use of it assumes."""
        return sorted(set(np.unique(self.visible).tolist()) - {0} - set(self.solos))


def id_map(masks: dict[int, np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """(T, H, W) uint8 instance ids from per-object bool masks (a later id wins an overlap)."""
    out = np.zeros(shape, dtype=np.uint8)
    for k in sorted(masks):
        out[masks[k].astype(bool)] = k
    return out


def removal_method(spec: str):  # -> RemovalMethod
    """A registered removal method from its spec; a clear error when it is missing or not a removal method."""
    from genbench.methods import METHODS, RemovalMethod, build_method

    name = spec.partition(":")[0].strip()
    if name not in METHODS:
        raise GenbenchError(f"removal method {name!r} is not registered; use one of "
                            f"{', '.join(METHODS.names())}, or --method gt on a scene with rgb/bg and rgb/solo_<k>")
    method = build_method(spec)
    if not isinstance(method, RemovalMethod):
        raise GenbenchError(f"method {name!r} is not a removal method; omnimatte needs one for bg and solo videos")
    return method


def removal_ensemble(spec: str, samples: int = 1, views: int = 1) -> Ensemble:
    """The removal method of `spec` as omnimatte runs it: the mean of `samples` seeds x `views` views of the clip."""
    return Ensemble(removal_method(spec), samples, views)


def from_removal(frames: np.ndarray, masks: dict[int, np.ndarray], method, spec: TrimaskSpec | None = None,
                 amodal: dict[int, np.ndarray] | None = None, source: str = "removal") -> LayerInputs:
    """bg and solo videos from a removal method. frames (T, H, W, 3) uint8; masks: id -> (T, H, W) bool visible."""
    spec = spec or TrimaskSpec()
    visible = id_map(masks, frames.shape[:3])
    ids = sorted(masks)
    bg = method.remove(frames.copy(), trimask(visible, ids, spec)) if ids else frames.copy()
    solos = {}
    for k in ids:
        others = [j for j in ids if j != k]
        if not others:
            solos[k] = frames.copy()
            continue
        tri = trimask(visible, others, spec)
        tri[visible == k] = TRIMASK_PRESERVE  # object k is kept whole, even where the others' grown 0-region reaches it
        solos[k] = method.remove(frames.copy(), tri)
    where = {k: (amodal[k] if amodal and k in amodal else masks[k]).astype(bool) for k in ids}
    return LayerInputs(frames, bg, solos, where, visible, source)


def _object_masks(folder: Path, ids: list[int], amodal: list[int], visible: np.ndarray) -> dict[int, np.ndarray]:
    return {k: (read_video(folder / contract.MASKS_DIR / contract.AMODAL_DIR / str(k)) > 0) if k in amodal
            else visible == k for k in ids}


def scenes_with_layers(*datasets: Path) -> list[Path]:
    """The scene folders of `datasets` that hold ground-truth layers (the layering scenes), dataset after dataset,
    each in name order; a scene a render is still writing (or a killed one left) is not one."""
    return [scene for data in datasets for scene in sorted((Path(data) / contract.SCENES_DIR).iterdir())
            if (scene / contract.LAYERS_DIR).is_dir() and not scene.name.startswith(contract.PARTIAL_PREFIX)]


def from_scene(scene: Path, method: str, samples: int = 1, views: int = 1) -> LayerInputs:
    """Inputs for a scene folder (``<dataset>/scenes/<id>``): ``gt`` reads its bg and solo videos (only objects
    with a ground-truth solo video get a layer); any other spec runs that removal method on `rgb/full`, its
    output the mean of `samples` seeds and `views` views of the clip (`ensemble.Ensemble`)."""
    scene = Path(scene)
    if not (scene / contract.META_FILE).is_file():
        raise GenbenchError(f"{scene}: not a scene folder (no {contract.META_FILE}); pass <dataset>/scenes/<id>, "
                            "or a video with --masks")
    meta = read_meta(scene.parent.parent, scene.name)
    frames = read_video(scene / contract.RGB_DIR / contract.FULL)
    visible = read_video(scene / contract.MASKS_DIR / contract.VISIBLE_DIR)
    if method == "gt":
        ids = [k for k in meta.object_ids if contract.solo_video(k) in meta.videos]
        if contract.BG not in meta.videos or not ids:
            raise GenbenchError(f"{scene}: --method gt needs rgb/bg and rgb/solo_<k>; this scene has "
                                f"{', '.join(meta.videos)}; use a removal method such as casper")
        rgb = scene / contract.RGB_DIR
        solos = {k: read_video(rgb / contract.solo_video(k)) for k in ids}
        return LayerInputs(frames, read_video(rgb / contract.BG), solos,
                           _object_masks(scene, ids, meta.amodal, visible), visible, "gt")
    ids = meta.object_ids
    amodal = _object_masks(scene, ids, meta.amodal, visible)
    return from_removal(frames, {k: visible == k for k in ids}, removal_ensemble(method, samples, views),
                        amodal=amodal, source=method)
