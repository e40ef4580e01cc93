"""Static-camera footage -> analysed windows -> Scenes.

`analyse(path, name, settings)` runs the whole pipeline on one input (read, check the camera,
stabilise, plate + exposure + segmentation refined `iterations` times, tracks, windows,
gates) and returns an `Analysis`; `build_scene` turns one accepted window into a Scene.
`TripodMaker` is the picklable task for the runner: it holds the plan (which input and
window each scene index is) and re-analyses an input in a worker when it is not cached.

Per window: `full` = the (stabilised) frames, `bg` = the exposure-matched plate, masks/visible
= object tracks renumbered 1..n, and a stored trimask: 0 = objects grown by `dilation`,
128 = detected shadows and other unexplained changes (grown by `shadow_dilation`) and pixels
without data, 255 elsewhere. The sample removes every object; its target is `bg`.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from genbench import contract
from genbench.errors import GenbenchError
from genbench.generators import video_io
from genbench.generators.bboxes import mask_bboxes
from genbench.generators.tripod.align import estimate_alignment, stabilise
from genbench.generators.tripod.consistency import attached, drop_short_tracks, lasting, persistent
from genbench.generators.tripod.noise import NoiseModel, fit_noise
from genbench.generators.tripod.plate import expected, fit_exposure, fit_light, masked_median, plate_video
from genbench.generators.tripod.quality import (
    frames_to_check,
    inverted_reason,
    reject_reason,
    surroundings_fill_errors,
    window_quality,
)
from genbench.generators.tripod.segment import FrameLabels, classify, edge_allowance, track
from genbench.generators.tripod.settings import TripodSettings
from genbench.generators.tripod.windows import Window, cut_windows
from genbench.pixels import recorded_psnr
from genbench.records import Instance, SampleSpec, SceneMeta, TrimaskSpec
from genbench.scene import Scene
from genbench.trimask import dilate, disk

GENERATOR = "tripod"
MAX_OBJECTS = 255


def input_name(path: Path) -> str:
    """A scene-id-safe name of an input: its file stem (or folder name), other characters as '-'."""
    stem = path.stem if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:80] or "input"


def scene_id(name: str, window: int) -> str:
    return f"{GENERATOR}-{name}-w{window:03d}"


@dataclass
class Analysis:
    """Everything known about one input after the pipeline.

    frames: (T, H, W, 3) uint8 (stabilised when the camera shook); valid: (T, H, W) bool;
    plate: (H, W, 3) float32; gains/offsets: (T, 3) exposure; tracks: (T, H, W) int32 track ids;
    uncertain: (T, H, W) bool shadows and residual changes; clean: (H, W) int32 frames where each
    pixel was background; windows: every candidate window, accepted or rejected, in time order;
    rejection: why the whole input was rejected (None if it was not); warps: (T, 2, 3) float32 the
    frames were stabilised with (`align.stabilise`), None when they were not; light: (T, rows, cols)
    float32 light grids of the exposure model (`plate.fit_light`), None without one; window_quality: the
    `quality.window_quality` figures of each candidate window that passed the earlier gates, by index.
    """

    name: str
    path: str
    fps: float | None
    frames: np.ndarray
    valid: np.ndarray
    plate: np.ndarray
    gains: np.ndarray
    offsets: np.ndarray
    tracks: np.ndarray
    shadow: np.ndarray
    uncertain: np.ndarray
    clean: np.ndarray
    windows: list[Window] = field(default_factory=list)
    rejection: str | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    warps: np.ndarray | None = None
    light: np.ndarray | None = None
    window_quality: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def accepted(self) -> list[Window]:
        return [] if self.rejection else [w for w in self.windows if w.reason is None]


def _empty(name: str, path: Path, frames: np.ndarray, fps: float | None, reason: str, quality: dict[str, Any],
           start: float) -> Analysis:
    n, h, w = frames.shape[:3]
    zeros = np.zeros((n, h, w), dtype=bool)
    return Analysis(
        name=name, path=str(path), fps=fps, frames=frames, valid=~zeros, plate=np.zeros((h, w, 3), np.float32),
        gains=np.ones((n, 3), np.float32), offsets=np.zeros((n, 3), np.float32), tracks=zeros.astype(np.int32),
        shadow=zeros, uncertain=zeros, clean=np.zeros((h, w), np.int32), rejection=reason, quality=quality,
        seconds=time.perf_counter() - start,
    )


@dataclass
class Exposure:
    """The background model: plate (H, W, 3) float32; gains, offsets (T, 3) float32; light (T, rows, cols)
    float32 light grids or None (`plate.expected`)."""

    plate: np.ndarray
    gains: np.ndarray
    offsets: np.ndarray
    light: np.ndarray | None = None

    def expected(self, t: int) -> np.ndarray:
        return expected(self.plate, self.gains, self.offsets, t, self.light)


def _segment_all(frames: np.ndarray, valid: np.ndarray, model: Exposure, noise: NoiseModel,
                 settings: TripodSettings, misregistration: np.ndarray) -> list[FrameLabels]:
    """Classify every frame; misregistration: (T,) pixels each frame may be off the plate."""
    edges = edge_allowance(model.plate, 1.0)
    return [classify(frames[t], model.expected(t), valid[t], settings,
                     edges * (misregistration[t] * model.gains[t].max()), noise.maps(t)) for t in range(len(frames))]


def _background_model(frames: np.ndarray, valid: np.ndarray, settings: TripodSettings,
                      misregistration: np.ndarray) -> tuple[Exposure, NoiseModel, np.ndarray, list[FrameLabels]]:
    """Plate, exposure, light and noise, refined `iterations` times against the segmentation (each round
    learns from the pixels the previous one found to be background). Returns the model, the noise model,
    the (H, W) int32 count of frames each pixel was background in, and the final frame labels."""
    use = valid
    plate, clean = masked_median(frames, use)
    gains, offsets = fit_exposure(frames, plate, use)
    model = Exposure(plate, gains, offsets)
    noise = fit_noise(frames, use, plate, gains, offsets)
    for _ in range(settings.iterations):
        labels = _segment_all(frames, valid, model, noise, settings, misregistration)
        changed = np.stack([lab.objects | lab.shadow | lab.residual for lab in labels])
        use = valid & ~dilate(changed, settings.shadow_dilation)
        gains, offsets = fit_exposure(frames, model.plate, use, model.light)
        light = fit_light(frames, model.plate, gains, offsets, use) if settings.light else None
        plate, clean = masked_median(frames, use, gains, offsets, light)
        gains, offsets = fit_exposure(frames, plate, use, light)
        model = Exposure(plate, gains, offsets, light)
        noise = fit_noise(frames, use, plate, gains, offsets, light)
    return model, noise, clean, _segment_all(frames, valid, model, noise, settings, misregistration)


def _masks(labels: list[FrameLabels], valid: np.ndarray, settings: TripodSettings
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tracks, shadow and uncertain masks ((T, H, W) int32, bool, bool) from the frame labels, with the rules
    of `consistency`: short tracks are dropped, uncertain changes must persist and stay with an object (or,
    once speckles are opened away, be large and lasting), and pixels without data are uncertain."""
    tracks, dropped = drop_short_tracks(track(np.stack([lab.objects for lab in labels]), settings.link_radius),
                                        settings.min_track)
    objects = tracks > 0
    shadow = np.stack([lab.shadow for lab in labels])
    candidates = persistent(shadow | np.stack([lab.residual for lab in labels]) | dropped, settings.link_radius)
    h, w = objects.shape[1:]
    clear = [lab.clear for lab in labels]
    near = np.stack([attached(c, o, settings.reach, settings.min_blob * h * w, x)
                     for c, o, x in zip(candidates, objects, clear, strict=True)])
    solid = np.stack([cv2.morphologyEx(f.astype(np.uint8), cv2.MORPH_OPEN, disk(2)) > 0 for f in candidates & ~near])
    kept = near | lasting(solid, settings.min_blob * h * w, settings.min_track)
    return tracks, shadow & kept, kept | ~valid


def analyse(path: Path, name: str, settings: TripodSettings) -> Analysis:
    """Run the tripod pipeline on one video file or frame folder (see module docstring)."""
    start = time.perf_counter()
    path = Path(path)
    info = video_io.probe(path)
    frames = video_io.read_frames(path, max_size=settings.max_size)
    return analyse_frames(frames, name, settings, path=path, fps=info.fps,
                          quality={"input_size": [info.height, info.width]}, start=start)


def analyse_frames(frames: np.ndarray, name: str, settings: TripodSettings, *, path: Path | str = "",
                   fps: float | None = None, quality: dict[str, Any] | None = None,
                   start: float | None = None) -> Analysis:
    """The tripod pipeline on (T, H, W, 3) uint8 `frames` already in memory (already downscaled)."""
    start = time.perf_counter() if start is None else start
    path = Path(path)
    n, h, w = frames.shape[:3]
    quality = {**(quality or {}), "size": [h, w], "num_frames": n}
    if n < settings.min_frames:
        return _empty(name, path, frames, fps, f"only {n} frames, fewer than min_frames {settings.min_frames}",
                      quality, start)

    alignment = estimate_alignment(frames)
    diagonal = float(np.hypot(h, w))
    quality["camera_shift_px"] = round(alignment.max_shift, 3)
    quality["camera_shift_fraction"] = round(alignment.max_shift / diagonal, 5)
    if alignment.failed:
        reason = (f"camera moved: {len(alignment.failed)} of {n} frames could not be aligned with the reference "
                  f"(first: frame {alignment.failed[0]}); tripod footage needs a static camera")
        return _empty(name, path, frames, fps, reason, quality, start)
    if alignment.max_shift > settings.max_shift * diagonal:
        worst = int(np.argmax(alignment.shifts))
        return _empty(name, path, frames, fps, f"camera moved: frame {worst} is {alignment.max_shift:.1f} px "
                      f"({alignment.max_shift / diagonal:.1%} of the diagonal) from the reference, more than the "
                      f"{settings.max_shift:.1%} allowed; tripod footage needs a static camera", quality, start)
    stabilised = alignment.max_shift > settings.stabilize_above
    quality["stabilised"] = bool(stabilised)
    if stabilised:
        frames, valid = stabilise(frames, alignment)
    else:
        valid = np.ones((n, h, w), dtype=bool)

    if stabilised:
        misregistration = np.full(n, settings.misregistration_stabilised)
    else:  # each frame is as far off the plate as the camera's path says, plus what the estimate may miss
        misregistration = settings.misregistration + alignment.shifts
    model, noise, clean, labels = _background_model(frames, valid, settings, misregistration)
    plate, gains, offsets = model.plate, model.gains, model.offsets
    tracks, shadow, uncertain = _masks(labels, valid, settings)
    objects = tracks > 0
    quality.update({
        "noise_sigma": round(noise.clip_sigma, 3),
        "noise": noise.summary(),
        "gain_range": [round(float(gains.min()), 4), round(float(gains.max()), 4)],
        "never_clean_fraction": round(float((clean < settings.min_clean).mean()), 5),
        "tracks": int(tracks.max()),
    })
    analysis = Analysis(name=name, path=str(path), fps=fps, frames=frames, valid=valid, plate=plate, gains=gains,
                        offsets=offsets, tracks=tracks, shadow=shadow, uncertain=uncertain, clean=clean,
                        quality=quality, warps=alignment.warps if stabilised else None, light=model.light)
    analysis.windows = [_gate(analysis, wnd, settings) for wnd in cut_windows(objects, settings)]
    if not analysis.windows:
        analysis.rejection = "no moving object detected"
    analysis.seconds = time.perf_counter() - start
    return analysis


def _gate(analysis: Analysis, window: Window, settings: TripodSettings) -> Window:
    """Apply the content gates to an accepted candidate window: too many / too small objects,
    object or shadow pixels where the plate was never seen clean, then the quality bar
    (`quality.reject_reason`); the window's quality figures are kept in `analysis.window_quality`."""
    if window.reason is not None:
        return window
    sl = slice(window.start, window.stop)
    tracks = analysis.tracks[sl]
    ids = np.unique(tracks[tracks > 0])
    h, w = tracks.shape[1:]
    if ids.size > MAX_OBJECTS:
        return Window(window.index, window.start, window.stop, f"{ids.size} objects, more than {MAX_OBJECTS}")
    largest = max(float((tracks == k).sum(axis=(1, 2)).max()) for k in ids) / (h * w)
    if largest < settings.min_object:
        return Window(window.index, window.start, window.stop, f"object too small: the largest covers at most "
                      f"{largest:.2%} of the frame, less than min_object {settings.min_object:.2%}")
    region = (tracks > 0) | analysis.shadow[sl]
    unclean = region & (analysis.clean < settings.min_clean)[None]
    fraction = float(unclean.sum()) / max(1, int(region.sum()))
    if fraction > settings.max_unclean:
        return Window(window.index, window.start, window.stop, f"pixels never seen clean: {fraction:.1%} of the "
                      f"object and shadow pixels were background in fewer than {settings.min_clean} frames, so the "
                      "plate there is a guess")
    checked = window.start + frames_to_check(tracks > 0)  # the plate of those frames only: the scene makes the rest
    plate = plate_video(analysis.plate, analysis.gains[checked], analysis.offsets[checked],
                        None if analysis.light is None else analysis.light[checked])
    inverted = inverted_reason(surroundings_fill_errors(analysis.frames[checked], plate,
                                                        analysis.tracks[checked] > 0))
    if inverted is not None:
        return Window(window.index, window.start, window.stop, inverted)
    figures = window_quality(tracks, analysis.shadow[sl], analysis.uncertain[sl], analysis.valid[sl],
                             None if analysis.light is None else analysis.light[sl], settings)
    analysis.window_quality[window.index] = figures
    reason = reject_reason(analysis.quality["noise_sigma"], figures, settings)
    if reason is not None:
        return Window(window.index, window.start, window.stop, reason)
    return window


def effect_tolerance(noise_sigma: float) -> int:
    """The levels above which `full` and `bg` differ by more than the footage's noise: 3 sigma of the measured
    sensor noise (one channel of three exceeds it on well under 1% of background pixels), at least the default."""
    return max(contract.DEFAULT_EFFECT_TOLERANCE, math.ceil(3.0 * noise_sigma))


def stored_trimask(objects: np.ndarray, uncertain: np.ndarray, valid: np.ndarray,
                   settings: TripodSettings) -> np.ndarray:
    """The trimask a tripod scene stores, (T, H, W) uint8 in {0, 128, 255}, from (T, H, W) bool object, uncertain
    and valid masks: 0 = objects grown by `dilation`, 128 = uncertain changes grown by `shadow_dilation` and
    pixels without data (not grown), 255 elsewhere."""
    remove = dilate(objects, settings.dilation)
    band = (dilate(uncertain & valid, settings.shadow_dilation) | ~valid) & ~remove
    tri = np.full(objects.shape, contract.TRIMASK_PRESERVE, dtype=np.uint8)
    tri[band] = contract.TRIMASK_UNCERTAIN
    tri[remove] = contract.TRIMASK_REMOVE
    return tri


def build_scene(analysis: Analysis, window: Window, index: int, settings: TripodSettings,
                settings_dict: dict[str, Any]) -> Scene:
    """The Scene of one accepted window. `settings_dict` is the run's settings as stored in meta.json."""
    sl = slice(window.start, window.stop)
    full = analysis.frames[sl]
    bg = plate_video(analysis.plate, analysis.gains[sl], analysis.offsets[sl],
                     None if analysis.light is None else analysis.light[sl])
    tracks = analysis.tracks[sl]
    flat = tracks.ravel()
    ids_seen, first = np.unique(flat, return_index=True)
    order = [int(k) for k in ids_seen[np.argsort(first)] if k > 0]  # global track ids in order of appearance
    visible = np.zeros(tracks.shape, dtype=np.uint8)
    for new, k in enumerate(order, start=1):
        visible[tracks == k] = new
    ids = list(range(1, len(order) + 1))
    tri = stored_trimask(visible > 0, analysis.uncertain[sl], analysis.valid[sl], settings)
    sid = scene_id(analysis.name, window.index)
    preserve = tri == contract.TRIMASK_PRESERVE
    diff = np.abs(full.astype(np.int16) - bg.astype(np.int16))[preserve]
    instances = []
    for new, k in enumerate(order, start=1):
        boxes, frames = mask_bboxes(visible == new)
        instances.append(Instance(id=new, asset_id=f"tripod:{analysis.name}#track{k}", kind="moving_object",
                                  extra={"track": k, "bboxes": boxes, "bbox_frames": frames,
                                         "visibility": [int(v) for v in (visible == new).sum(axis=(1, 2))]}))
    n, h, w = full.shape[:3]
    spec = {
        "input": analysis.name,
        "window": window.index,
        "frames": [window.start, window.stop],
        "exposure": {"gains": np.round(analysis.gains[sl].astype(np.float64), 5).tolist(),
                     "offsets": np.round(analysis.offsets[sl].astype(np.float64), 4).tolist()},
        "split": "train",
    }
    quality = {
        **analysis.quality,
        contract.QUALITY_PARAMS: {contract.EFFECT_TOLERANCE: effect_tolerance(analysis.quality["noise_sigma"])},
        **analysis.window_quality.get(window.index, {}),
        "preserve_mae": round(float(diff.mean()) if diff.size else 0.0, 4),
        "preserve_psnr": recorded_psnr(full, bg, preserve),
        "shadow_fraction": round(float(analysis.shadow[sl].mean()), 5),
        "uncertain_fraction": round(float((tri == contract.TRIMASK_UNCERTAIN).mean()), 5),
    }
    meta = SceneMeta(
        scene_id=sid, generator=GENERATOR, seed=0, index=index, num_frames=n, height=h, width=w,
        fps=float(analysis.fps or 24.0), split="train", instances=instances,
        videos=[contract.FULL, contract.BG], layers=[], amodal=[],
        samples=[SampleSpec(remove=tuple(ids), trimask=TrimaskSpec(dilation=settings.dilation, band=0, stored=True))],
        settings=settings_dict, spec=spec, quality=quality, run={"timings": {"analysis": round(analysis.seconds, 4)}},
    )
    return Scene(meta=meta, rgb={contract.FULL: np.ascontiguousarray(full), contract.BG: bg}, visible=visible,
                 trimasks={contract.sample_id(sid, ids): tri})


@dataclass(frozen=True)
class PlannedScene:
    """Scene `index` of a run: window `window` (frames start..stop-1) of the input at `path`."""

    path: str
    name: str
    window: int
    start: int
    stop: int

    @property
    def scene_id(self) -> str:
        return scene_id(self.name, self.window)


class TripodMaker:
    """Picklable task for the runner: scene `index` of the plan.

    Keeps one analysis in memory (one input at a time, so memory stays bounded): the one
    handed to `remember` (the command analyses the inputs last to first, so it remembers the
    first), then the last one it made. A scene of another input re-analyses that input
    (deterministically, so the window is the same); worker processes start with none.
    """

    def __init__(self, settings: TripodSettings, settings_dict: dict[str, Any], plan: list[PlannedScene]) -> None:
        self.settings, self.settings_dict, self.plan = settings, settings_dict, plan
        self._cache: Analysis | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}

    def remember(self, analysis: Analysis) -> None:
        self._cache = analysis

    def __call__(self, index: int) -> Scene:
        planned = self.plan[index]
        if self._cache is None or self._cache.path != planned.path:
            self._cache = analyse(Path(planned.path), planned.name, self.settings)
        window = next((w for w in self._cache.accepted if w.index == planned.window), None)
        if window is None or (window.start, window.stop) != (planned.start, planned.stop):
            raise GenbenchError(f"{planned.path}: window {planned.window} changed between analyses")
        return build_scene(self._cache, window, index, self.settings, self.settings_dict)
