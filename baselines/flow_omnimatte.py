"""`flow-omnimatte`: the classical layering the Generative Omnimatte paper compares against.

Omnimatte (Lu et al., CVPR 2021) splits a video into a background over a homography-aligned canvas
and one RGBA layer per object, and gives each layer the shadows and reflections that *move with*
its object: a layer must explain the input's colours and its optical flow, so a shadow whose
pixels move like the object is cheaper inside that object's layer than in the static background.
This is that idea without the per-video network and without RAFT weights (which cannot be fetched
here): OpenCV's DIS optical flow, OpenCV's ECC homographies and a median canvas, in four steps.

1. **Background canvas.** Each frame is aligned to the middle frame by an ECC homography
   estimated on the pixels away from the objects (identity when ECC does not converge: a static
   camera). The canvas is the per-pixel median of the aligned frames where no object (and no
   effect already found) is; what no frame sees is inpainted. The background video is the canvas
   warped back into every frame.
2. **Residual.** What the background does not explain, |frame - bg| (max over channels), above
   `noise_k` robust standard deviations of the residual measured away from every object.
3. **Ownership by motion.** The residual outside every object is split into connected pieces per
   frame. A piece belongs to the object whose camera-compensated flow (mean DIS flow inside its
   mask) is closest to the piece's own mean flow, among the objects within `reach` of it, if the
   two agree within `flow_tolerance` pixels per frame; else it stays in the background (the
   residual is then noise or something no object explains).
4. **Layers.** Alpha is 1 on the object's mask; on its pieces, the smallest alpha that explains
   the frame as some colour over the background (a shadow of strength s gives s). The colour is
   solved from that alpha, `(frame - (1 - alpha) bg) / alpha` (Omnimatte's detail transfer), so
   layer over background gives the frame back inside the layer. Away from every object and effect
   (twice `reach`), where the canvas explains the frame within the noise threshold, the background
   keeps the frame's own pixels.

Steps 1-3 run `passes` times: each canvas leaves out the effects the previous round gave to layers,
so a shadow that lies on a pixel in most frames (a slow one) does not stay in the background. Only
owned effects are left out: a residual that no object's motion explains may be the previous canvas's
own error (a clean frame against a canvas darkened by a slow shadow), and hiding it would hide the
clean frames too.

Known failures: a shadow that does not touch `reach` of its object, or moves unlike it (a long
shadow under a turning light), stays in the background; noise pieces that move like a nearby
object join its layer; a dynamic background (water, leaves) looks like an effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from genbench.baselines.common import inpaint_image
from genbench.baselines.flow_propagation import optical_flow
from genbench.baselines.median import clean_plate
from genbench.errors import GenbenchError
from genbench.methods import LayeringMethod
from genbench.pixels import minimal_alpha
from genbench.trimask import dilate

ALIGNMENT_GAIN = 0.9  # a homography is kept only if it cuts the median alignment error by 10% against none
ROBUST_SIGMA = 1.4826  # median absolute deviation -> standard deviation of a normal distribution


@dataclass(frozen=True)
class FlowOmnimatteConfig:
    """noise_k: residual threshold in robust standard deviations (at least `min_level` uint8 levels).
    reach: pixels a piece may lie from its object's mask. flow_tolerance: pixels per frame by which a
    piece's mean flow may differ from its object's. object_margin: pixels around the objects left out of
    the canvas and of the noise estimate. passes: canvas/ownership rounds."""

    noise_k: float = 3.0
    min_level: int = 3
    reach: int = 6
    flow_tolerance: float = 1.0
    object_margin: int = 2
    min_piece: int = 4
    passes: int = 3


def ecc_homographies(grey: np.ndarray, keep: np.ndarray, reference: int) -> np.ndarray:
    """(T, 3, 3) float64 homographies H_t with frame_t(H_t p) ~ frame_ref(p), estimated by ECC on `keep`.

    grey: (T, H, W) uint8; keep: (T, H, W) bool, the pixels that may be used (away from the objects).
    ECC fits a translation first, then a homography started from it (on small frames a homography
    started from the identity often stops in a wrong minimum). Of none, the translation and the
    homography, a richer model is taken only when it cuts the median alignment error by
    `ALIGNMENT_GAIN` against the simpler one kept so far (on a static camera, noise and unlabelled
    motion otherwise pull ECC off), and never when it moves a corner by more than a quarter of the frame.
    """
    t_count, height, width = grey.shape
    out = np.tile(np.eye(3), (t_count, 1, 1))
    template = grey[reference].astype(np.float32)
    for t in range(t_count):
        if t == reference:
            continue
        mask = (keep[reference] & keep[t]).astype(np.uint8)
        best = np.eye(3)
        best_error = _alignment_error(grey[t], template, best, keep[reference])
        start = np.eye(2, 3, dtype=np.float32)
        for motion in (cv2.MOTION_TRANSLATION, cv2.MOTION_HOMOGRAPHY):
            if motion == cv2.MOTION_HOMOGRAPHY:
                start = best.astype(np.float32)
            warp = _ecc(template, grey[t].astype(np.float32), start, motion, mask)
            if warp is None or not _plausible(warp, height, width):
                continue
            error = _alignment_error(grey[t], template, warp, keep[reference])
            if error < ALIGNMENT_GAIN * best_error:
                best, best_error = warp, error
        out[t] = best
    return out


def _ecc(template: np.ndarray, image: np.ndarray, start: np.ndarray, motion: int,
         mask: np.ndarray) -> np.ndarray | None:
    """cv2.findTransformECC from `start` as a (3, 3) float64 homography, or None when it does not converge."""
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    try:
        _, warp = cv2.findTransformECC(template, image, start.copy(), motion, criteria, mask, 3)
    except cv2.error:
        return None
    return np.vstack([warp, [0.0, 0.0, 1.0]]) if warp.shape[0] == 2 else warp.astype(np.float64)


def _plausible(homography: np.ndarray, height: int, width: int) -> bool:
    """Whether the homography keeps every corner of the frame within a quarter of the frame of where it was."""
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=np.float64).T
    moved = homography @ corners
    moved = moved[:2] / moved[2:]
    return bool(np.isfinite(moved).all() and np.abs(moved - corners[:2]).max() <= max(height, width) / 4)


def _alignment_error(image: np.ndarray, template: np.ndarray, homography: np.ndarray, keep: np.ndarray) -> float:
    """Median |image warped to the template - template| over `keep` (pixels the warp leaves inside the frame)."""
    warped = warp_to(image.astype(np.float32), homography)
    inside = warp_to(np.ones(image.shape, np.uint8), homography, nearest=True) > 0
    where = keep & inside
    return float(np.median(np.abs(warped - template)[where])) if where.any() else np.inf


def warp_to(image: np.ndarray, homography: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """`image` sampled at H p for every pixel p: frame t -> the reference when H = H_t."""
    height, width = image.shape[:2]
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    return cv2.warpPerspective(image, homography, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)


def background_video(frames: np.ndarray, hidden: np.ndarray, homographies: np.ndarray) -> np.ndarray:
    """The median canvas of the aligned frames where nothing is hidden, warped back into every frame."""
    aligned = np.stack([warp_to(f, h) for f, h in zip(frames, homographies, strict=True)])
    covered = np.stack([warp_to(np.ones(frames.shape[1:3], np.uint8), h, nearest=True) > 0
                        for h in homographies])
    hidden_aligned = np.stack([warp_to(m.astype(np.uint8), h, nearest=True) > 0
                               for m, h in zip(hidden, homographies, strict=True)])
    canvas, seen = clean_plate(aligned, hidden_aligned | ~covered)
    canvas = inpaint_image(canvas, ~seen)
    return np.stack([warp_to(canvas, np.linalg.inv(h)) for h in homographies])


def camera_flow(homography_a: np.ndarray, homography_b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, 2) flow from frame a to frame b that the camera alone explains (the homographies to the reference)."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    in_ref = np.linalg.inv(homography_a) @ points
    in_b = homography_b @ (in_ref / in_ref[2:])
    in_b = in_b[:2] / in_b[2:]
    return (in_b - points[:2]).T.reshape(height, width, 2).astype(np.float32)


def object_flows(frames: np.ndarray, homographies: np.ndarray) -> np.ndarray:
    """(T, H, W, 2) camera-compensated DIS flow from each frame to the next (the last frame repeats the one before)."""
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    t_count = len(frames)
    if t_count < 2:
        return np.zeros((*frames.shape[:3], 2), np.float32)
    flows = [optical_flow(grey[t], grey[t + 1]) - camera_flow(homographies[t], homographies[t + 1], grey.shape[1:])
             for t in range(t_count - 1)]
    return np.stack([*flows, flows[-1]])


def residual_levels(frames: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """(T, H, W) max-channel |frames - bg| in uint8 levels."""
    return np.abs(frames.astype(np.int16) - bg.astype(np.int16)).max(axis=-1)


def noise_threshold(residual: np.ndarray, away: np.ndarray, config: FlowOmnimatteConfig) -> float:
    """`noise_k` robust standard deviations of the residual where `away` (no object nearby), at least `min_level`."""
    values = residual[away]
    sigma = ROBUST_SIGMA * float(np.median(values)) if values.size else 0.0
    return max(float(config.min_level), config.noise_k * sigma)


def assign_pieces(effect: np.ndarray, masks: dict[int, np.ndarray], flows: np.ndarray,
                  config: FlowOmnimatteConfig) -> dict[int, np.ndarray]:
    """Object id -> (T, H, W) bool: the pieces of `effect` ((T, H, W) bool) each object's motion explains."""
    owned = {k: np.zeros(effect.shape, dtype=bool) for k in masks}
    ids = list(masks)
    for t in range(effect.shape[0]):
        present = [k for k in ids if masks[k][t].any()]
        if not present:
            continue
        motion = {k: flows[t][masks[k][t]].mean(axis=0) for k in present}
        near = {k: dilate(masks[k][t][None], config.reach)[0] for k in present}
        count, labels = cv2.connectedComponents(effect[t].astype(np.uint8), connectivity=8)
        for piece_id in range(1, count):
            piece = labels == piece_id
            if piece.sum() < config.min_piece:
                continue
            candidates = [k for k in present if (near[k] & piece).any()]
            if not candidates:
                continue
            piece_motion = flows[t][piece].mean(axis=0)
            distance = {k: float(np.linalg.norm(piece_motion - motion[k])) for k in candidates}
            best = min(candidates, key=lambda k: distance[k])
            if distance[best] <= config.flow_tolerance:
                owned[best][t] |= piece
    return owned


class FlowOmnimatte(LayeringMethod):
    """Omnimatte-style layers driven by motion (Lu et al. 2021), with OpenCV's DIS flow and ECC homographies.

    Known failures: a shadow that lies beyond `reach` of its object or moves unlike it stays in the
    background; a static object's shadow is only found where some frame shows the floor without it.
    """

    def __init__(self, config: FlowOmnimatteConfig | None = None) -> None:
        self.config = config or FlowOmnimatteConfig()

    def decompose(self, frames: np.ndarray, masks: dict[int, np.ndarray]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """frames (T, H, W, 3) uint8; masks: id -> (T, H, W) bool. Returns (bg, {id: (T, H, W, 4) uint8 RGBA})."""
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise GenbenchError(f"frames must be (T, H, W, 3) uint8, got {frames.dtype}{frames.shape}")
        for k, mask in masks.items():
            if mask.shape != frames.shape[:3]:
                raise GenbenchError(f"mask of object {k} is {mask.shape}, frames are {frames.shape[:3]}")
        if not masks:
            return frames.copy(), {}
        config = self.config
        masks = {k: m.astype(bool) for k, m in masks.items()}
        objects = np.zeros(frames.shape[:3], dtype=bool)
        for mask in masks.values():
            objects |= mask
        near_objects = dilate(objects, config.object_margin)
        grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
        homographies = ecc_homographies(grey, ~near_objects, len(frames) // 2)
        flows = object_flows(frames, homographies)
        owned = {k: np.zeros(objects.shape, dtype=bool) for k in masks}
        effects = np.zeros(objects.shape, dtype=bool)
        for _ in range(config.passes):
            bg = background_video(frames, near_objects | dilate(effects, config.object_margin), homographies)
            residual = residual_levels(frames, bg)
            away = ~dilate(objects, config.reach * 2) & ~effects
            effect = (residual > noise_threshold(residual, away, config)) & ~objects
            owned = assign_pieces(effect, masks, flows, config)
            effects = np.logical_or.reduce(list(owned.values()))
        explained = (residual <= noise_threshold(residual, away, config)) & away
        layers = {k: self._layer(frames, bg, masks[k], owned[k]) for k in masks}
        return np.where(explained[..., None], frames, bg), layers

    @staticmethod
    def _layer(frames: np.ndarray, bg: np.ndarray, mask: np.ndarray, effect: np.ndarray) -> np.ndarray:
        alpha = np.where(mask, 1.0, np.where(effect, minimal_alpha(frames / 255.0, bg / 255.0), 0.0))
        alpha8 = np.rint(alpha * 255).astype(np.uint8)
        a = alpha8.astype(np.float64)[..., None] / 255.0
        colour = (frames.astype(np.float64) - (1.0 - a) * bg.astype(np.float64)) / np.maximum(a, 1e-6)
        rgb = np.where(a > 0, np.clip(np.rint(colour), 0, 255), 0).astype(np.uint8)
        return np.concatenate([rgb, alpha8[..., None]], axis=-1)
