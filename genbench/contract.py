"""Names of the data contract, defined once.

A dataset is a folder::

    <root>/
      dataset.json          DatasetInfo
      manifest.parquet      one row per Sample
      scenes/<scene_id>/
        meta.json           SceneMeta: everything that made the scene (deterministic, checksummed)
        run.json            what differs from run to run (seconds, threads); optional, never checksummed
        rgb/<video>/00000.png ...     uint8 RGB; video is `full`, `bg`, `minus_<k>` or `solo_<k>`
        layers/<k>/00000.png ...      uint8 RGBA ground-truth layer of object k
        masks/visible/00000.png ...   uint8 instance ids (0 = background, k = object k)
        masks/amodal/<k>/00000.png    uint8 0/255: where object k is, occluded or not
        masks/effects/<k>/<kind>/...  optional uint8 0/255: where object k's effect of one kind is
                                      (shadow, reflection, ...), measured by the generator
        masks/changed/<k>/00000.png   optional uint8 0/255: where removing k changes how other objects
                                      move (physics counterfactual); uncertain in k's trimask
        trimask/<sample>/00000.png    optional stored trimask (0/128/255); otherwise derived

Object ids start at 1, so an id is both the folder suffix and the value in `masks/visible`
(Kubric's segmentation convention: 0 = background, i + 1 = instance i).
"""

from __future__ import annotations

import re

SCHEMA_VERSION = 1

DATASET_FILE = "dataset.json"
MANIFEST_FILE = "manifest.parquet"
SCENES_DIR = "scenes"
META_FILE = "meta.json"
RUN_FILE = "run.json"
PARTIAL_PREFIX = ".partial-"  # temporary scene folders; never visible as scenes
FAILURES_FILE = "failures.json"  # scenes that failed in the last run, with their errors

RGB_DIR = "rgb"
LAYERS_DIR = "layers"
MASKS_DIR = "masks"
VISIBLE_DIR = "visible"
AMODAL_DIR = "amodal"
EFFECTS_DIR = "effects"
CHANGED_DIR = "changed"
EFFECT_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # e.g. shadow, reflection, refraction, light
TRIMASK_DIR = "trimask"

FULL = "full"
BG = "bg"

# Trimask values (uint8). Casper's convention, stored with exactly these three values.
TRIMASK_REMOVE = 0
TRIMASK_UNCERTAIN = 128
TRIMASK_PRESERVE = 255
TRIMASK_VALUES = (TRIMASK_REMOVE, TRIMASK_UNCERTAIN, TRIMASK_PRESERVE)

# A scene's ground-truth settings live in meta.json `quality.params`; its effect tolerance (uint8 levels: input
# and target differing by more is an effect, by less is noise) is `quality.params.effect_tolerance`.
QUALITY_PARAMS = "params"
EFFECT_TOLERANCE = "effect_tolerance"
DEFAULT_EFFECT_TOLERANCE = 2  # where a scene records none: differences of 1-2 levels are rounding

FRAME_DIGITS = 5
FRAME_PATTERN = re.compile(r"^(\d{5})\.png$")
SCENE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

SPLITS = ("train", "val", "test")


def frame_name(index: int) -> str:
    """File name of frame `index` (0-based): ``00007.png``."""
    if index < 0 or index >= 10**FRAME_DIGITS:
        raise ValueError(f"frame index {index} out of range 0..{10**FRAME_DIGITS - 1}")
    return f"{index:0{FRAME_DIGITS}d}.png"


def minus_video(object_id: int) -> str:
    """Video with object `object_id` and its effects removed, every other object kept."""
    return f"minus_{object_id}"


def solo_video(object_id: int) -> str:
    """Video with object `object_id` alone over the background."""
    return f"solo_{object_id}"


def target_video(remove: tuple[int, ...] | list[int], all_objects: tuple[int, ...] | list[int]) -> str:
    """The ground-truth video for removing `remove` from a scene holding `all_objects`.

    Removing every object targets `bg`; removing one object targets `minus_<k>`. Other
    subsets have no rendered target in this schema and are rejected.
    """
    remove_set, all_set = set(remove), set(all_objects)
    if not remove_set:
        raise ValueError("a sample must remove at least one object")
    if not remove_set <= all_set:
        raise ValueError(f"objects {sorted(remove_set - all_set)} are not in the scene {sorted(all_set)}")
    if remove_set == all_set:
        return BG
    if len(remove_set) == 1:
        return minus_video(next(iter(remove_set)))
    raise ValueError(f"no target video for removing {sorted(remove_set)} of {sorted(all_set)}")


def sample_id(scene_id: str, remove: tuple[int, ...] | list[int]) -> str:
    """Deterministic sample id: ``<scene_id>__rm1-3`` for removing objects 1 and 3."""
    return f"{scene_id}__rm{'-'.join(str(k) for k in sorted(remove))}"
