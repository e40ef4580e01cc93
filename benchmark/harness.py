"""Run methods, cache their predictions, score predictions: predict, then score, with files in between.

`evaluate` does, per method name:

1. **predict** (unless a predictions folder is given): the method comes only from the registry
   (``registry.get(name)()``, `genbench.methods.METHODS` by default) and must implement the task's
   interface (`RemovalMethod.remove` or `LayeringMethod.decompose`). Its outputs are checked and
   written per item, atomically, under ``OUT/predictions/<name>/`` in the predictions layout; a
   rerun with the same method, dataset and settings reuses them (`predictions.open_cache`).
2. **validate** the predictions folder (`predictions.validate_predictions`).
3. **score** every item with `metrics.FrameScorer`: reading (and hashing) the next items runs in
   threads while the current one is scored.

Removal: sample -> method(full, trimask) -> frames, scored against the target (`bg` or
`minus_<k>`) on the regions of `regions.removal_regions`. Layering: scene -> method(full, visible
masks) -> background + one RGBA layer per object; the background is scored against `bg` (regions
of removing every object), each layer composited over the GT background against `solo_<k>`
(regions: k's dilated mask, its effect, the rest), and its alpha against the GT layer's alpha.

Alpha metrics per frame: **IoU** is the soft IoU sum(min(a, b)) / sum(max(a, b)) of the alpha
mattes in [0, 1] (equal to the usual IoU when both are binary; a faint shadow counts by its
strength instead of vanishing under a 0.5 threshold), NaN when both are empty; **L1** is the mean
|a - b| over all pixels.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from genbench import contract
from genbench.benchmark import items as it
from genbench.benchmark.metrics import PROTOCOL, FrameScorer
from genbench.benchmark.predicting import Job, predict_items, wrong_task
from genbench.benchmark.predictions import (
    combine_digests,
    drop_empty_cache,
    open_cache,
    validate_predictions,
)
from genbench.benchmark.prove import PROVE_COMMIT
from genbench.benchmark.regions import removal_regions, split_regions
from genbench.benchmark.results import HEADLINES, ClipScores, EvalResult, MethodRun
from genbench.benchmark.split import SHIPPED
from genbench.dataset import provenance, read_info
from genbench.errors import GenbenchError, require_at_least
from genbench.frames import read_frames
from genbench.pixels import differs, over
from genbench.progress import get_logger, track
from genbench.records import TrimaskSpec
from genbench.registry import Registry
from genbench.samples import LayeringItem, layering_scenes, load_layering, load_removal, removal_samples
from genbench.trimask import dilate
from genbench.trimask import trimask as derive_trimask

log = get_logger("eval")
T = TypeVar("T")
U = TypeVar("U")

PREDICTIONS_DIR = "predictions"
_PLAIN = re.compile(r"^[A-Za-z0-9_.=-]{1,32}$")
MINI_SPLIT = SHIPPED  # the frozen benchmark split shipped in the package
WEIGHTING = ("a clip's score in a region pools its region pixels over the clip's frames (PSNR of the pooled MSE; "
             "SSIM and LPIPS maps averaged over them); clip-weighted mean over clips as the headline, frame-weighted "
             "mean of per-frame scores over all frames beside it; empty regions left out")
REGION_TEXT = ("full frame; object = trimask remove region (0); effect = input and ground truth differ by more "
               "than the scene's effect tolerance (meta.json quality.params.effect_tolerance, else 2 levels) outside "
               "the object; preserve = the rest; effect:<kind> = the effect pixels of a kind, where the data "
               "records per-kind masks")


@dataclass(frozen=True)
class EvalSettings:
    """What `evaluate` scores and how. max_frames caps every clip (the protocol's frame cap)."""

    task: str = "removal"
    split: str | None = None  # None: `test` when the dataset has it, else its only split
    max_frames: int | None = None
    device: str | None = None  # None: CUDA when available, else CPU
    readers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))  # threads reading frames ahead
    workers: int = 1  # processes running a method at once (`predicting.predict_items`): the same bytes, sooner

    def __post_init__(self) -> None:
        if self.task not in it.TASKS:
            raise GenbenchError(f"task {self.task!r} is not one of {', '.join(it.TASKS)}")
        if self.max_frames is not None and self.max_frames < 1:
            raise GenbenchError(f"the frame cap must be >= 1, got {self.max_frames}")
        require_at_least("--workers", self.workers)


def default_data() -> Path:
    """The benchmark split shipped in the package (`MINI_SPLIT`), when it is installed."""
    if (MINI_SPLIT / contract.DATASET_FILE).is_file():
        return MINI_SPLIT
    raise GenbenchError(f"no --data given and the built-in benchmark split is missing ({MINI_SPLIT}); "
                        "reinstall genbench or pass --data DIR (any genbench dataset)")


def prefetch(fn: Callable[[T], U], items: Iterable[T], workers: int, ahead: int = 4) -> Iterator[U]:
    """`map(fn, items)` in order, computed by `workers` threads up to `ahead` items in advance."""
    if workers < 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


@contextmanager
def _opencv_threads(count: int) -> Iterator[None]:
    """Run the block with OpenCV's thread pool set to `count`, then restore it."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def alpha_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame soft IoU and L1 of (T, H, W) uint8 alpha mattes (module docstring)."""
    a = pred.astype(np.float64) / 255.0
    b = truth.astype(np.float64) / 255.0
    inter = np.minimum(a, b).sum((1, 2))
    union = np.maximum(a, b).sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, np.nan)
    return {"iou": iou, "l1": np.abs(a - b).mean((1, 2))}


def mean_alpha_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """A layer's soft alpha IoU as a run reports it: the mean over frames that have alpha in either matte.

    A float `pred` in [0, 1] is first quantised to uint8, as a method's returned layer is.
    """
    if pred.dtype != np.uint8:
        pred = np.round(np.clip(pred, 0.0, 1.0) * 255).astype(np.uint8)
    return float(np.nanmean(alpha_scores(pred, truth)["iou"]))


def method_label(spec: str) -> str:
    """The name results and prediction folders use for a method spec ``NAME[:ARGUMENT]``.

    ``NAME``, or ``NAME:ARGUMENT`` when the argument is short and plain (``cv2-inpaint:telea``),
    else ``NAME:<first 8 hex digits of the argument's sha256>`` (an external command line).
    """
    name, sep, argument = spec.partition(":")
    if not sep:
        return name.strip()
    if _PLAIN.match(argument):
        return f"{name.strip()}:{argument}"
    return f"{name.strip()}:{hashlib.sha256(argument.encode()).hexdigest()[:8]}"


class Evaluator:
    """Holds the dataset, the settings and one scorer (LPIPS loaded once) across methods."""

    def __init__(self, data: Path, settings: EvalSettings, scorer: FrameScorer | None = None,
                 dinov2: Any = None) -> None:
        """dinov2: `genbench.benchmark.prove.DinoFeatures` to compute PROVE's RC-S and RC-T (removal), or None."""
        self.data = Path(data)
        self.info = read_info(self.data)
        if settings.task == "removal":
            self.samples = removal_samples(self.data, settings.split)
            split = self.samples[0].split
            self.expected = [e for s in self.samples for e in it.removal_expected(s, settings.max_frames)]
        else:
            self.scenes = layering_scenes(self.data, settings.split)
            split = self.scenes[0].split
            self.expected = [e for m in self.scenes for e in it.layering_expected(m, settings.max_frames)]
        self.settings = replace(settings, split=split)
        self.dataset_sha256 = it.dataset_digest(self.data)
        self.scorer = scorer or FrameScorer(settings.device)
        self.dinov2 = dinov2

    @property
    def item_ids(self) -> list[str]:
        if self.settings.task == "removal":
            return [s.sample_id for s in self.samples]
        return [m.scene_id for m in self.scenes]

    def cache_key(self, spec: str, registry: Registry) -> dict[str, Any]:
        """What the cached predictions depend on; any change clears the cache (new weights, or genbench's code
        changed in a checkout whose version number did not)."""
        from genbench.dataset import code_digest
        from genbench.methods import method_fingerprint

        s = self.settings
        return {"method": spec, "method_fingerprint": method_fingerprint(spec, registry), "task": s.task,
                "split": s.split, "max_frames": s.max_frames, "dataset_sha256": self.dataset_sha256,
                "genbench": provenance()["genbench"], "code_sha256": code_digest()}

    # -- predict -------------------------------------------------------------------------------------
    def predict(self, spec: str, root: Path, registry: Registry) -> tuple[float, int]:
        """Run the method of `spec` (``NAME[:ARGUMENT]``) on every item not yet in the cache at `root`.

        Returns (seconds spent inside the method, frames it produced).
        """
        name = method_label(spec)
        done = open_cache(root, self.cache_key(spec, registry))
        todo = [i for i in self.item_ids if i not in done]
        if len(todo) < len(self.item_ids):
            log.info("%s: %d of %d predictions cached in %s", name, len(self.item_ids) - len(todo),
                     len(self.item_ids), root)
        if not todo:
            return 0.0, 0
        removal = self.settings.task == "removal"
        entries = {s.sample_id: s for s in self.samples} if removal else {m.scene_id: m for m in self.scenes}
        job = Job(spec, name, self.settings.task, self.data, root, self.settings.max_frames)
        written = predict_items(job, [entries[i] for i in todo], registry, self.settings.workers)
        spent, frames = 0.0, 0
        for seconds, count in track(written, f"{name}: {'predicting' if removal else 'decomposing'}",
                                       total=len(todo), unit="clips" if removal else "scenes"):
            spent, frames = spent + seconds, frames + count
        return spent, frames

    # -- score ---------------------------------------------------------------------------------------
    def score(self, name: str, root: Path, *, generated: bool) -> MethodRun:
        """Validate and score the predictions folder `root` under the label `name`."""
        validate_predictions(root, self.expected)
        with _opencv_threads(1):  # the reader threads are the parallelism; OpenCV's own pool would oversubscribe
            return self._score(name, root, generated=generated)

    def _score(self, name: str, root: Path, *, generated: bool) -> MethodRun:
        t0 = time.perf_counter()
        digests: dict[str, str] = {}
        clips: list[ClipScores] = []
        if self.settings.task == "removal":
            for sid, digest, scene_id, pending in track(
                    prefetch(lambda s: self._load_removal(root, s), self.samples, self.settings.readers),
                    f"{name}: scoring", total=len(self.samples), unit="clips"):
                digests[sid] = digest
                clip = ClipScores(sid, scene_id, "removal", len(pending.pred), self.scorer.finish(pending))
                if self.dinov2 is not None:
                    from genbench.benchmark.prove import score_clip

                    clip.prove = score_clip(pending.pred, pending.regions["object"], self.dinov2)
                clips.append(clip)
        else:
            for sid, digest, item, bg, layers in track(
                    prefetch(lambda m: self._load_layering(root, m), self.scenes, self.settings.readers),
                    f"{name}: scoring", total=len(self.scenes), unit="scenes"):
                digests[sid] = digest
                clips += self._score_layering(item, bg, layers)
        seconds = time.perf_counter() - t0
        frames = sum(c.frames for c in clips if c.kind in ("removal", "bg"))
        return MethodRun(name, self.settings.task, root, combine_digests(digests), generated, clips,
                         {"score_seconds": round(seconds, 3), "score_frames_per_second": round(frames / seconds, 2)})

    def _load_removal(self, root: Path, sample: Any) -> tuple:
        item = load_removal(self.data, sample, self.settings.max_frames)
        h = hashlib.sha256()
        pred = read_frames(root / sample.sample_id, len(item.frames), h, sample.sample_id)
        regions = removal_regions(item.frames, item.target, item.trimask, item.tolerance, item.effects,
                                  item.dynamics)
        # PSNR and SSIM run here, in the reader thread, on the CPU (`FrameScorer.prepare`)
        return sample.sample_id, h.hexdigest(), sample.scene_id, self.scorer.prepare(pred, item.target, regions)

    def _load_layering(self, root: Path, meta: Any) -> tuple:
        item = load_layering(self.data, meta, self.settings.max_frames)
        t = len(item.frames)
        h = hashlib.sha256()
        bg = read_frames(root / meta.scene_id / contract.BG, t, h, f"{meta.scene_id}/bg")
        layers = {k: read_frames(root / meta.scene_id / contract.LAYERS_DIR / str(k), t, h,
                                 f"{meta.scene_id}/layers/{k}") for k in meta.object_ids}
        return meta.scene_id, h.hexdigest(), item, bg, layers

    def _score_layering(self, item: LayeringItem, bg: np.ndarray, layers: dict[int, np.ndarray]) -> list:
        sid, spec = item.meta.scene_id, TrimaskSpec()
        tri = derive_trimask(item.visible, item.meta.object_ids, spec)
        every_kind: dict[str, np.ndarray] = {}
        for kinds in item.effects.values():
            for kind, mask in kinds.items():
                every_kind[kind] = every_kind[kind] | mask if kind in every_kind else mask
        regions = removal_regions(item.frames, item.bg, tri, item.tolerance, every_kind)
        clips = [ClipScores(f"{sid}/bg", sid, "bg", len(bg), self.scorer.score(bg, item.bg, regions))]
        for k, layer in layers.items():
            recomposed = over(layer, item.bg)
            regions_k = split_regions(dilate(item.objects[k], spec.dilation),
                                      differs(item.solo[k], item.bg, item.tolerance), item.effects.get(k))
            values = self.scorer.score(recomposed, item.solo[k], regions_k)
            clips.append(ClipScores(f"{sid}/layer_{k}", sid, "layer", len(layer), values,
                                    alpha_scores(layer[..., 3], item.layers[k][..., 3])))
        return clips

    def protocol(self) -> dict[str, Any]:
        return {**PROTOCOL, "task": self.settings.task, "max_frames": self.settings.max_frames,
                "headline": HEADLINES[self.settings.task], "weighting": WEIGHTING, "regions": REGION_TEXT,
                "prove": {"followed": f"xiaomi-research/prove @ {PROVE_COMMIT}",
                          "rc": "computed" if self.dinov2 is not None else "not computed (no DINOv2 weights given)"},
                "lpips": {**PROTOCOL["lpips"], "backbone": self.scorer.backbone},
                "frame_sizes": sorted({f"{e.width}x{e.height}" for e in self.expected})}


def evaluate(methods: list[str], data: Path | None, out: Path, settings: EvalSettings | None = None, *,
             predictions: Path | None = None, registry: Registry | None = None,
             scorer: FrameScorer | None = None, dinov2: Any = None) -> EvalResult:
    """Run (or take the predictions of) each method in `methods` and score it on `data`.

    methods: method specs ``NAME`` or ``NAME:ARGUMENT`` (`genbench.methods.build_method`), e.g.
    ``external:python my.py {input} {output}``; `method_label` names each in the results.
    predictions: an existing predictions folder to score instead of running a method; then
    `methods` holds exactly one name, which only labels the results.
    dinov2: `genbench.benchmark.prove.DinoFeatures` for PROVE's RC-S and RC-T (removal), or None.
    """
    from genbench.methods import METHODS, method_description, method_unavailable

    settings = settings or EvalSettings()
    registry = registry if registry is not None else METHODS
    if not methods:
        raise GenbenchError("no method given; pass --method NAME[,NAME...]")
    if predictions is not None and len(methods) != 1:
        raise GenbenchError("--predictions scores one predictions folder: pass exactly one --method name for it")
    labels = [methods[0]] if predictions is not None else [method_label(m) for m in methods]
    if len(set(labels)) != len(labels):
        raise GenbenchError(f"methods repeat: {', '.join(labels)}")
    if predictions is None:
        for spec in methods:
            registry.get(spec.partition(":")[0].strip())  # unknown names fail before any work, listing known ones
        for spec in methods:  # so do methods that cannot run here (a recipe without its checkout or weights)
            name = spec.partition(":")[0].strip()  # and methods of the other task
            if (reason := method_unavailable(spec, registry)) is not None:
                raise GenbenchError(f"method {name!r}: {reason}")
            if (its_task := getattr(registry.get(name), "task", settings.task)) != settings.task:
                raise wrong_task(name, its_task, settings.task)
    out_existed = Path(out).exists()
    data = Path(data) if data is not None else default_data()
    evaluator = Evaluator(data, settings, scorer, dinov2)
    settings = evaluator.settings  # the split resolved
    runs = []
    for spec, label in zip(methods, labels, strict=True):
        if predictions is not None:
            runs.append(evaluator.score(label, Path(predictions), generated=False))
            continue
        root = Path(out) / PREDICTIONS_DIR / label.replace(":", "@")
        try:
            spent, frames = evaluator.predict(spec, root, registry)
        except BaseException:  # a method that could not start (a checkpoint not there, say) leaves nothing behind
            drop_empty_cache(root, up_to=Path(out) if not out_existed else Path(out) / PREDICTIONS_DIR)
            raise
        run = evaluator.score(label, root, generated=True)
        run.spec = spec
        run.about = method_description(spec, registry)
        if frames:
            run.timing.update(predict_seconds=round(spent, 3), predict_frames=frames,
                              predict_frames_per_second=round(frames / max(spent, 1e-9), 2))
        runs.append(run)
    dataset = {"path": str(data), "name": evaluator.info.name, "generator": evaluator.info.generator,
               "split": settings.split, "sha256": evaluator.dataset_sha256, "items": len(evaluator.item_ids),
               "settings": asdict(settings)}
    return EvalResult(dataset=dataset, protocol=evaluator.protocol(), provenance=provenance(),
                      created=datetime.now(UTC).isoformat(timespec="seconds"), runs=runs)
