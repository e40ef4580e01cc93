"""A read clip -> a Scene of the data contract, and a folder of clips -> a dataset.

Per clip: ``rgb/full`` is the input; the video without the removed objects becomes ``rgb/bg`` when it lacks
every object of the masks, else ``rgb/minus_<k>`` (the one removed object, others kept); ``masks/visible``
holds the release's masks as instance ids. The sample removes what the `without` video lacks; its trimask is
derived from the masks (the paper's convention: object 0, background 128, other objects 255) or, with
``trimask="effect"``, stored with the measured effect as the only uncertain band (`effects.effect_trimask`).
The effect tolerance measured from the pair goes to ``quality.params.effect_tolerance``, which the benchmark's
effect region reads. A clip without a `without` video (DAVIS) has no removal sample: nothing to score against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genbench import contract
from genbench.dataset import finalize, read_info
from genbench.errors import GenbenchError
from genbench.generators.bboxes import mask_bboxes
from genbench.importers.clip import ClipData, PairClip, digest, read_clip
from genbench.importers.effects import effect_trimask, mask_edge_strength, pair_effects
from genbench.progress import get_logger
from genbench.records import Instance, SampleSpec, SceneMeta, TrimaskSpec
from genbench.scene import Scene, list_scene_ids, read_meta, remove_partials, scene_complete, write_scene
from genbench.trimask import dilate

log = get_logger("import")
TRIMASK_MODES = ("paper", "effect")
GENERATOR_PREFIX = "import:"


@dataclass(frozen=True)
class ImportSettings:
    """What shapes an imported dataset besides the source files; identical for every scene of it."""

    source: str  # importer name, e.g. rose-bench
    release: str  # what layout was read to write the importer (repository@commit or card URL)
    split: str = "test"
    max_frames: int | None = None
    max_size: int | None = None
    trimask: str = "paper"

    def __post_init__(self) -> None:
        if self.split not in contract.SPLITS:
            raise GenbenchError(f"--split must be one of {', '.join(contract.SPLITS)}, got {self.split!r}")
        if self.trimask not in TRIMASK_MODES:
            raise GenbenchError(f"--trimask must be one of {', '.join(TRIMASK_MODES)}, got {self.trimask!r}")
        if self.max_frames is not None and self.max_frames < 1:
            raise GenbenchError(f"--max-frames must be >= 1, got {self.max_frames}")
        if self.max_size is not None and self.max_size < 16:
            raise GenbenchError(f"--max-size must be >= 16, got {self.max_size}")

    @property
    def generator(self) -> str:
        return f"{GENERATOR_PREFIX}{self.source}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scene_id(settings: ImportSettings, clip: PairClip) -> str:
    return f"{settings.source}-{clip.name}"


def _instances(ids: np.ndarray, source: str, clip: PairClip) -> list[Instance]:
    out = []
    for k in sorted(int(v) for v in np.unique(ids) if v):
        boxes, frames = mask_bboxes(ids == k)
        out.append(Instance(id=k, asset_id=f"{source}:{clip.name}#{k}", kind="object",
                            extra={"bboxes": boxes, "bbox_frames": frames}))
    return out


def build_scene(clip: PairClip, data: ClipData, index: int, settings: ImportSettings) -> Scene:
    """The Scene of one read clip (see module docstring)."""
    sid = scene_id(settings, clip)
    n, h, w = data.full.shape[:3]
    instances = _instances(data.ids, settings.source, clip)
    all_ids = [inst.id for inst in instances]
    rgb = {contract.FULL: data.full}
    samples: list[SampleSpec] = []
    trimasks: dict[str, np.ndarray] = {}
    quality: dict[str, Any] = {}
    if data.without is not None:
        target = contract.target_video(data.removed, all_ids)
        rgb[target] = data.without
        removed = np.isin(data.ids, data.removed)
        effects = pair_effects(data.full, data.without, removed)
        spec = TrimaskSpec(stored=settings.trimask == "effect")
        edges = {"input": mask_edge_strength(data.full, removed), "without": mask_edge_strength(data.without, removed)}
        if edges["without"] > edges["input"]:
            log.warning("clip %s: the masks' outline shows more in the video without the object (%.1f) than in the "
                        "input (%.1f); are the two swapped? (layout as read from %s)", clip.name, edges["without"],
                        edges["input"], settings.release)
        quality = {contract.QUALITY_PARAMS: {contract.EFFECT_TOLERANCE: effects.tolerance},
                   **effects.quality(data.full, data.without, dilate(removed, spec.dilation)), "mask_edges": edges}
        samples = [SampleSpec(remove=data.removed, trimask=spec)]
        if spec.stored:
            trimasks[contract.sample_id(sid, data.removed)] = effect_trimask(removed, effects)
    files = {"input": clip.full, "without": clip.without, "masks": clip.masks}
    description = {"clip": clip.name, "mask_kind": clip.mask_kind,
                   "files": {k: {"path": p.name, "sha256": digest(p)} for k, p in files.items() if p is not None}}
    meta = SceneMeta(scene_id=sid, generator=settings.generator, seed=0, index=index, num_frames=n, height=h,
                     width=w, fps=float(data.fps or 24.0), split=settings.split, instances=instances,
                     videos=sorted(rgb), samples=samples, settings=settings.to_dict(), spec=description,
                     quality=quality)
    return Scene(meta=meta, rgb=rgb, visible=data.ids, trimasks=trimasks)


def _check_existing(out: Path, settings: ImportSettings) -> None:
    """Refuse a folder holding a dataset (or scenes of an interrupted import) made with other settings."""
    made = None
    if (out / contract.DATASET_FILE).is_file():
        info = read_info(out)
        made = (info.generator, info.settings)
    elif list_scene_ids(out):
        meta = read_meta(out, list_scene_ids(out)[0])
        made = (meta.generator, meta.settings)
    if made is not None and made != (settings.generator, settings.to_dict()):
        raise GenbenchError(f"{out} holds a dataset made by {made[0]} with other settings; import into a new folder")


def import_clips(clips: list[PairClip], out: Path, settings: ImportSettings) -> tuple[int, int]:
    """Write every clip as a scene under `out` (resumable: complete scenes are skipped), then the manifest and
    dataset.json. Returns (written, skipped). A clip that fails stops the run with its error; the scenes
    written before it stay complete."""
    if not clips:
        raise GenbenchError(f"no {settings.source} clips found")
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise GenbenchError(f"{settings.source}: clip names repeat after cleaning: {sorted(names)}")
    out = Path(out)
    _check_existing(out, settings)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    written = skipped = 0
    for index, clip in enumerate(clips):
        if scene_complete(out, scene_id(settings, clip)):
            skipped += 1
            continue
        data = read_clip(clip, max_frames=settings.max_frames, max_size=settings.max_size)
        write_scene(out, build_scene(clip, data, index, settings))
        written += 1
        log.info("%s: imported %s", out, clip.name)
    finalize(out, name=out.name, generator=settings.generator, settings=settings.to_dict())
    return written, skipped
