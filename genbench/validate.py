"""End-to-end check of a dataset folder against the data contract.

`validate_dataset(root)` returns every problem it finds, each with the path it concerns
and a message saying what is wrong; it never stops at the first one. `genbench validate`
prints them and exits 1 when there is any error, 0 otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from genbench import contract
from genbench.dataset import read_info, read_manifest, samples_of
from genbench.errors import DatasetError
from genbench.records import Sample, SampleSpec, SceneMeta
from genbench.scene import list_scene_ids, read_json, scenes_dir


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    severity: str = "error"  # "error" fails validation; "warning" does not

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


@dataclass
class Report:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    scenes: int = 0
    samples: int = 0
    frames: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


# What each kind of video must look like: PNG modes allowed, and the pixel values allowed
# (None = any). `ids` is filled per scene for the visible mask.
@dataclass(frozen=True)
class _VideoKind:
    modes: tuple[str, ...]
    values: frozenset[int] | None = None


_RGB = _VideoKind(("RGB",))
_RGBA = _VideoKind(("RGBA",))
_AMODAL = _VideoKind(("L",), frozenset({0, 255}))
_TRIMASK = _VideoKind(("L",), frozenset(contract.TRIMASK_VALUES))


def _check_video(folder: Path, meta: SceneMeta, kind: _VideoKind, rel: str) -> tuple[list[Problem], int]:
    """Check one frame folder: every frame present, no extras, PNG, mode, size, values."""
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(rel, "video folder missing")], 0
    names = {p.name for p in folder.iterdir()}
    expected = [contract.frame_name(i) for i in range(meta.num_frames)]
    missing = [n for n in expected if n not in names]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        problems.append(Problem(rel, f"{len(missing)} of {meta.num_frames} frames missing: {shown}"))
    extra = sorted(names - set(expected))
    if extra:
        problems.append(Problem(rel, f"unexpected file(s) {', '.join(extra[:5])}: only "
                                     f"{expected[0]} .. {expected[-1]} belong here"))
    checked = 0
    for name in expected:
        path = folder / name
        if name not in names:
            continue
        where = f"{rel}/{name}"
        try:
            with Image.open(path) as img:
                fmt, mode, size = img.format, img.mode, img.size
                pixels = np.asarray(img) if kind.values is not None else None
        except (UnidentifiedImageError, OSError) as exc:
            problems.append(Problem(where, f"unreadable image ({exc.__class__.__name__})"))
            continue
        checked += 1
        if fmt != "PNG":
            problems.append(Problem(where, f"is {fmt}, frames must be PNG"))
        if mode not in kind.modes:
            problems.append(Problem(where, f"PNG mode {mode}, expected {' or '.join(kind.modes)} (8-bit)"))
        if size != (meta.width, meta.height):
            problems.append(Problem(where, f"size {size[0]}x{size[1]}, expected {meta.width}x{meta.height} "
                                           "(width x height, from meta.json)"))
        if pixels is not None and kind.values is not None:
            bad = sorted(set(np.unique(pixels).tolist()) - kind.values)
            if bad:
                allowed = sorted(kind.values)
                shown = allowed if len(allowed) <= 8 else f"{allowed[:8]}..."
                problems.append(Problem(where, f"values {bad[:8]} not allowed (allowed: {shown})"))
    return problems, checked


def _subfolders(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


def check_scene(root: Path, scene_id: str) -> tuple[list[Problem], int]:
    """All problems of one scene folder, and how many frames were read."""
    folder = scenes_dir(root) / scene_id
    rel = f"{contract.SCENES_DIR}/{scene_id}"
    try:
        meta = SceneMeta.from_dict(read_json(folder / contract.META_FILE))
    except (DatasetError, TypeError, ValueError) as exc:
        return [Problem(f"{rel}/{contract.META_FILE}", str(exc).split(": ", 1)[-1])], 0
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        problems.append(Problem(f"{rel}/{path}" if path else rel, message))

    if meta.scene_id != scene_id:
        add(contract.META_FILE, f"scene_id {meta.scene_id!r} does not match its folder name")
    if meta.schema_version != contract.SCHEMA_VERSION:
        add(contract.META_FILE, f"schema_version {meta.schema_version}, expected {contract.SCHEMA_VERSION}")
    if meta.split not in contract.SPLITS:
        add(contract.META_FILE, f"split {meta.split!r} is not one of {', '.join(contract.SPLITS)}")
    if meta.num_frames < 1 or meta.height < 1 or meta.width < 1:
        add(contract.META_FILE, f"num_frames/resolution must be positive, got {meta.num_frames} frames "
                                f"{meta.height}x{meta.width}")
        return problems, 0
    ids = meta.object_ids
    duplicated = sorted(k for k, n in Counter(ids).items() if n > 1)
    if duplicated or any(not 1 <= k <= 255 for k in ids):
        add(contract.META_FILE, f"instance ids must be unique and in 1..255, got {ids}")
    if contract.FULL not in meta.videos:
        add(contract.META_FILE, "videos must include 'full'")

    videos: list[tuple[str, _VideoKind]] = [(f"{contract.RGB_DIR}/{v}", _RGB) for v in meta.videos]
    videos += [(f"{contract.LAYERS_DIR}/{k}", _RGBA) for k in meta.layers]
    visible_kind = _VideoKind(("L", "P"), frozenset({0, *ids}))
    videos.append((f"{contract.MASKS_DIR}/{contract.VISIBLE_DIR}", visible_kind))
    videos += [(f"{contract.MASKS_DIR}/{contract.AMODAL_DIR}/{k}", _AMODAL) for k in meta.amodal]
    for k, kinds in meta.effects.items():
        if k not in ids:
            add(contract.META_FILE, f"effects: object {k} is not an instance id")
        for kind in kinds:
            if not contract.EFFECT_KIND_PATTERN.match(kind):
                add(contract.META_FILE, f"effects: kind {kind!r} of object {k} is not a plain lower-case name")
            videos.append((f"{contract.MASKS_DIR}/{contract.EFFECTS_DIR}/{k}/{kind}", _AMODAL))
    videos += [(f"{contract.MASKS_DIR}/{contract.CHANGED_DIR}/{k}", _AMODAL) for k in meta.changed]
    stored = sorted(_subfolders(folder / contract.TRIMASK_DIR))
    videos += [(f"{contract.TRIMASK_DIR}/{s}", _TRIMASK) for s in stored]

    for listed, on_disk, what in (
        (meta.videos, _subfolders(folder / contract.RGB_DIR), contract.RGB_DIR),
        ([str(k) for k in meta.layers], _subfolders(folder / contract.LAYERS_DIR), contract.LAYERS_DIR),
        ([str(k) for k in meta.amodal], _subfolders(folder / contract.MASKS_DIR / contract.AMODAL_DIR),
         f"{contract.MASKS_DIR}/{contract.AMODAL_DIR}"),
        ([str(k) for k in meta.effects], _subfolders(folder / contract.MASKS_DIR / contract.EFFECTS_DIR),
         f"{contract.MASKS_DIR}/{contract.EFFECTS_DIR}"),
        ([str(k) for k in meta.changed], _subfolders(folder / contract.MASKS_DIR / contract.CHANGED_DIR),
         f"{contract.MASKS_DIR}/{contract.CHANGED_DIR}"),
        *(([kind for kind in kinds], _subfolders(folder / contract.MASKS_DIR / contract.EFFECTS_DIR / str(k)),
           f"{contract.MASKS_DIR}/{contract.EFFECTS_DIR}/{k}") for k, kinds in meta.effects.items()),
    ):
        for name in sorted(on_disk - set(listed)):
            add(f"{what}/{name}", "folder not listed in meta.json")
    for k in [*meta.layers, *meta.amodal, *meta.changed]:
        if k not in ids:
            add(contract.META_FILE, f"layer/amodal/changed id {k} is not an instance id")

    frames = 0
    for path, kind in videos:
        found, checked = _check_video(folder / path, meta, kind, f"{rel}/{path}")
        problems += found
        frames += checked

    sample_ids = set()
    for spec in meta.samples:
        try:
            sample = Sample.from_scene(meta, spec)
        except ValueError as exc:
            add(contract.META_FILE, f"sample {list(spec.remove)}: {exc}")
            continue
        sample_ids.add(sample.sample_id)
        if sample.target not in meta.videos:
            add(contract.META_FILE, f"sample {sample.sample_id}: target video {sample.target!r} not written")
        if spec.affected:
            problems += _check_affected(rel, meta, spec, sample.sample_id)
        if spec.trimask.stored and sample.sample_id not in stored:
            add(f"{contract.TRIMASK_DIR}/{sample.sample_id}", "stored trimask declared in meta.json is missing")
    for name in stored:
        if name not in sample_ids:
            add(f"{contract.TRIMASK_DIR}/{name}", "trimask of no sample in meta.json")
    return problems, frames


def _check_affected(rel: str, meta: SceneMeta, spec: SampleSpec, sample_id: str) -> list[Problem]:
    """A sample whose removal changes how other objects move: those objects exist and stay, the removed
    object has a changed-region mask, and the trimask (uncertain there) is stored."""
    where = f"{rel}/{contract.META_FILE}"
    out = []
    strangers = sorted(set(spec.affected) - set(meta.object_ids) | set(spec.affected) & set(spec.remove))
    if strangers:
        out.append(Problem(where, f"sample {sample_id}: affected objects {strangers} are not kept instances"))
    if len(spec.remove) != 1 or spec.remove[0] not in meta.changed:
        out.append(Problem(where, f"sample {sample_id}: affected objects need the removed object's changed-region "
                                  f"mask under {contract.MASKS_DIR}/{contract.CHANGED_DIR}/"))
    if not spec.trimask.stored:
        out.append(Problem(where, f"sample {sample_id}: affected objects need a stored trimask (uncertain where "
                                  "they move differently)"))
    return out


def _readable_metas(root: Path, scene_ids: list[str]) -> dict[str, SceneMeta]:
    """meta.json of every scene that has a readable one (check_scene reports the others)."""
    metas: dict[str, SceneMeta] = {}
    for sid in scene_ids:
        try:
            metas[sid] = SceneMeta.from_dict(read_json(scenes_dir(root) / sid / contract.META_FILE))
        except (DatasetError, TypeError, ValueError):
            continue
    return metas


def _check_manifest(root: Path, scene_ids: list[str], metas: dict[str, SceneMeta], report: Report) -> None:
    try:
        rows = read_manifest(root)
    except (DatasetError, KeyError, TypeError, ValueError) as exc:
        report.problems.append(Problem(contract.MANIFEST_FILE, str(exc).split(": ", 1)[-1]))
        return
    report.samples = len(rows)
    known = set(scene_ids)
    for sample_id, n in Counter(r.sample_id for r in rows).items():
        if n > 1:
            report.problems.append(Problem(contract.MANIFEST_FILE, f"sample {sample_id} appears {n} times"))
    listed = set()
    for row in rows:
        where = f"{contract.MANIFEST_FILE}[{row.sample_id}]"
        listed.add(row.sample_id)
        if row.scene_id not in known:
            report.problems.append(Problem(where, f"points at scene {row.scene_id!r}, which does not exist"))
            continue
        meta = metas.get(row.scene_id)
        if meta is None:
            continue
        try:
            expected = {s.sample_id: s for s in samples_of(meta)}
        except ValueError:
            continue  # reported by check_scene
        if row.sample_id not in expected:
            report.problems.append(Problem(where, f"scene {row.scene_id} has no such sample in its meta.json"))
        elif row != expected[row.sample_id]:
            diff = [k for k, v in row.to_row().items() if expected[row.sample_id].to_row()[k] != v]
            report.problems.append(Problem(where, f"row disagrees with meta.json on {', '.join(diff)}"))
        target = scenes_dir(root) / row.scene_id / contract.RGB_DIR / row.target
        if not target.is_dir():
            report.problems.append(Problem(where, f"target video {contract.SCENES_DIR}/{row.scene_id}/"
                                                  f"{contract.RGB_DIR}/{row.target} does not exist"))
    for sid, meta in metas.items():
        try:
            for s in samples_of(meta):
                if s.sample_id not in listed:
                    report.problems.append(Problem(contract.MANIFEST_FILE, f"sample {s.sample_id} of scene {sid} "
                                                   "is missing: the manifest is stale"))
        except ValueError:
            continue


def validate_dataset(
    root: Path, *, workers: int = 1, progress: Callable[[Iterable], Iterable] | None = None
) -> Report:
    """Check `root` end to end. `progress` wraps the per-scene iterator (e.g. a progress bar)."""
    root = Path(root)
    report = Report(root)
    if not root.is_dir():
        report.problems.append(Problem(str(root), "not a folder"))
        return report
    try:
        info = read_info(root)
    except DatasetError as exc:
        report.problems.append(Problem(contract.DATASET_FILE, str(exc).split(": ", 1)[-1]))
        info = None
    if not scenes_dir(root).is_dir():
        report.problems.append(Problem(contract.SCENES_DIR, "folder missing"))
    scene_ids = list_scene_ids(root)
    report.scenes = len(scene_ids)
    for p in scenes_dir(root).iterdir() if scenes_dir(root).is_dir() else []:
        if p.name.startswith(contract.PARTIAL_PREFIX):
            report.problems.append(Problem(f"{contract.SCENES_DIR}/{p.name}", "partial scene left by an interrupted "
                                           "run (invisible to readers; the next run removes it)", "warning"))
        elif not p.is_dir():
            report.problems.append(Problem(f"{contract.SCENES_DIR}/{p.name}", "stray file among scene folders"))

    results: Iterable[tuple[list[Problem], int]]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(check_scene, root, sid) for sid in scene_ids]
            results = [f.result() for f in (progress(futures) if progress else futures)]
    else:
        ids = progress(scene_ids) if progress else scene_ids
        results = [check_scene(root, sid) for sid in ids]
    for problems, frames in results:
        report.problems += problems
        report.frames += frames

    metas = _readable_metas(root, scene_ids)
    _check_manifest(root, scene_ids, metas, report)
    if info is not None:
        counts: dict[str, dict[str, int]] = {}
        for meta in metas.values():
            c = counts.setdefault(meta.split, {"scenes": 0, "samples": 0})
            c["scenes"] += 1
            c["samples"] += len(meta.samples)
        if info.counts != counts:
            report.problems.append(Problem(contract.DATASET_FILE, f"counts {info.counts} disagree with the scenes "
                                                                  f"on disk {counts}"))
    return report
