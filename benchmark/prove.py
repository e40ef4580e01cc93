"""PROVE-Bench's reference-free removal-coherence metrics, RC-S (spatial) and RC-T (temporal), on DINOv2 features.

PROVE-Bench (ACM MM 2026, github.com/xiaomi-research/prove) scores video object removal with two metrics that
need no ground truth, only the result and the removal masks. This module computes the same numbers as PROVE's
`run_prove_metrics.py`, `utils/metrics.py`, `utils/bbox.py` and `utils/predictors.py` at commit
7ca299a7a5e12f0fb8285fb58ae744f691607b35 (our code, their math; `tests/test_prove.py` checks it against a
transliteration of their per-window loop). PROVE's published table uses ``facebook/dinov2-giant``; other DINOv2
sizes give other numbers. The choices, all PROVE's:

- **Masks.** A mask is (H, W) bool (True = removed) or uint8 (0..255), or (H, W, 3) uint8 as decoded from a mask
  video. A pixel is "in" the mask when its value is > 127 (bool True counts as 255). PROVE reduces a 3-channel
  mask to grey with PIL's "L" (luma) in RC-S but takes channel 0 in RC-T; we do the same.
- **Square crop** (`bounding_square`): the bounding box of the mask's pixels, the centred square of its longest
  side (centre rounded half-to-even, as Python's `round`), grown on every side by round(side / 3) but by no more
  than the distance to the nearest image edge (so a box touching an edge is not grown at all) nor side // 2,
  shrunk to at most min(H, W), then shifted inside the image. Crops are therefore always square.
- **Features** (`DinoFeatures`): the crop is resized (cv2 INTER_LINEAR) so its longest side is 448 (new size
  ``int(side * (448 / longest))``, truncated, so some sides become 447), padded at the bottom/right to a multiple
  of 14 with RGB (123, 116, 103), run through the checkpoint's image processor with ``do_resize=False,
  do_center_crop=False`` (rescale + ImageNet normalisation) and `Dinov2Model`; the patch tokens of
  ``last_hidden_state`` (CLS dropped) form an (H/14, W/14) grid (32 x 32 for every square crop), float32.
- **Mask on the grid**: the crop of the mask, as float32, resized to the resized crop's size (cv2 INTER_NEAREST),
  padded with 0, adaptive-max-pooled to the feature grid.
- **Windows**: ``unfold`` with kernel ``max(1, int(16 * s))`` and stride ``max(1, int(8 * s))``,
  ``s = max(grid) / 64`` (the kernel, not s, is floored at 1), i.e. 8 x 8 cells with stride 4 on a 32 x 32 grid.
- **MMD** of two feature sets: rows L2-normalised, RBF kernel ``exp(-d^2 / (2 * 10^2))``, biased estimate
  ``mean K_XX + mean K_YY - 2 mean K_XY``, times 1000, all in float32 as PROVE does.
- **RC-S** (`rc_s`, higher is better, in (0, 1]): the mask binarised (> 127), 4-connected components (skimage
  ``label``, connectivity 1), components smaller than min(200, largest area) dropped, one square crop per kept
  component. Inside a crop the *raw* mask is used and any value > 0 is foreground (so noise values 1..127 and
  parts of other or dropped components in the crop count as removed region; background is value 0). Windows
  with > 5 foreground and > 5 background cells give MMD(foreground, background cells of the window); windows
  with > 5 foreground and no background cell give MMD(foreground, every background cell of the crop), when the
  crop has any; other windows are skipped. Per crop ``g = exp(-max(0, mean MMD) / 3)`` (NaN when no window
  qualifies); per frame the mean of g over components (NaN if any component is NaN).
- **RC-T** (`rc_t`, lower is better, >= 0): one square crop of the union of the two binarised masks, applied to
  both frames; cells where both pooled masks are > 0.5 are selected; each window with >= 5 selected cells gives
  MMD(features of frame t, features of frame t+1 at those cells); the pair's score is the mean over windows (no
  exponential), NaN when no window qualifies.
- **Clip** (`score_clip`): the first min(T, 81) frames; frames are resized (cv2 INTER_LINEAR) to the masks' size
  when they differ; RC-S is the mean over frames that gave a value, RC-T the mean over consecutive pairs that
  gave a value; NaN when none did. PROVE's dataset score is the mean over clips that have a value.

The per-window MMD is computed one window at a time with exactly PROVE's sequence of float32 operations (any
batched form reorders float32 sums, and ``K_XX + K_YY - 2 K_XY`` cancels ~3 digits, which moves results by
~1e-5); what is vectorised is only exact: window selection, and the background term that PROVE recomputes for
every all-foreground window (identical inputs, identical bits). Nothing heavy is imported at import time.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genbench.errors import GenbenchError

if TYPE_CHECKING:
    import torch

PROVE_COMMIT = "7ca299a7a5e12f0fb8285fb58ae744f691607b35"
ENV_VAR = "GENBENCH_DINOV2"
MAX_FRAMES = 81  # PROVE reads at most 81 frames of a clip
THRESHOLD = 127  # mask pixel "in" when > THRESHOLD
MIN_COMPONENT_AREA = 200  # RC-S drops components smaller than min(this, largest component)
TARGET_SIZE = 448  # longest side of a crop fed to DINOv2
PATCH = 14  # DINOv2 patch size
PAD_RGB = (123, 116, 103)
KERNEL, STRIDE, GRID_REFERENCE = 16, 8, 64.0  # window size/stride at a 64-cell grid, scaled to the real grid
SIGMA = 10  # RBF bandwidth on unit-normalised features
MMD_SCALE = 1000
TAU_MMD = 3  # RC-S: g = exp(-mmd / TAU_MMD)
RC_S_MIN_CELLS = 5  # RC-S: a window needs more than this many foreground (and background) cells
RC_T_MIN_CELLS = 5  # RC-T: a window needs at least this many cells in both masks
WEIGHT_FILES = (
    "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, x2/y2 exclusive

__all__ = [
    "ENV_VAR",
    "MAX_FRAMES",
    "PROVE_COMMIT",
    "Box",
    "DinoFeatures",
    "bounding_square",
    "component_boxes",
    "rc_s",
    "rc_t",
    "score_clip",
]


# ----------------------------------------------------------------------------------------------- masks and boxes


def _square(left: int, top: int, right: int, bottom: int, height: int, width: int) -> Box:
    """PROVE's find_bounding_square_1_3 for the pixel box [left, right) x [top, bottom) in a (height, width) image."""
    size = max(right - left, bottom - top)
    start_x = round((left + right) / 2.0 - size / 2)  # Python rounds halves to even, as PROVE's int(round(.))
    start_y = round((top + bottom) / 2.0 - size / 2)
    grow = min(round(size * (1 / 3)), start_x, start_y, width - (start_x + size), height - (start_y + size), size // 2)
    grow = max(grow, 0)
    final = min(size + 2 * grow, min(width, height))
    x = max(0, min(max(0, start_x - grow), width - final))
    y = max(0, min(max(0, start_y - grow), height - final))
    return int(x), int(y), int(x + final), int(y + final)


def bounding_square(mask: np.ndarray) -> Box | None:
    """PROVE's square crop around the nonzero pixels of `mask` ((H, W) bool or integer); None when there are none.

    Returns (x1, y1, x2, y2) with x2 - x1 == y2 - y1 and 0 <= x1 < x2 <= W, 0 <= y1 < y2 <= H.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise GenbenchError(f"bounding_square needs an (H, W) mask, got shape {m.shape}")
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return _square(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1, *m.shape)


def _grey(mask: np.ndarray, three_channels: str) -> np.ndarray:
    """(H, W) uint8 mask values: bool -> 0/255; (H, W, 3) uint8 -> PIL luma ("luma") or channel 0 ("first")."""
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[:, :, 0]
    if m.dtype == np.bool_ and m.ndim == 2:
        return m.astype(np.uint8) * 255
    if m.dtype != np.uint8 or not (m.ndim == 2 or (m.ndim == 3 and m.shape[2] == 3)):
        raise GenbenchError(f"a PROVE mask is (H, W) bool/uint8 or (H, W, 3) uint8, got {m.dtype} {m.shape}")
    if m.ndim == 2:
        return m
    if three_channels == "first":
        return np.ascontiguousarray(m[:, :, 0])
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(m)).convert("L"))


def component_boxes(mask: np.ndarray) -> list[Box]:
    """RC-S's square crops: one per 4-connected component of ``mask > 127`` (bool: True) that is kept.

    `mask`: (H, W) bool/uint8 or (H, W, 3) uint8. Components smaller than min(200, largest area) are dropped;
    boxes come in skimage label order (raster order of each component's first pixel).
    """
    from skimage.measure import label, regionprops

    labels = label(_grey(mask, "luma") > THRESHOLD, connectivity=1)
    regions = regionprops(labels)
    if not regions:
        return []
    min_area = min(MIN_COMPONENT_AREA, max(r.area for r in regions))
    boxes = []
    for r in regions:
        if r.area >= min_area:
            top, left, bottom, right = r.bbox
            boxes.append(_square(left, top, right, bottom, *labels.shape))
    return boxes


# ---------------------------------------------------------------------------------------------------- features


@dataclass(frozen=True)
class _Grid:
    """DINOv2 patch tokens of one crop and the geometry that maps the crop onto them."""

    tokens: torch.Tensor  # (1, Hf * Wf, C) float32 patch tokens (CLS dropped), row-major over the grid
    grid_hw: tuple[int, int]  # (Hf, Wf)
    resized_hw: tuple[int, int]  # crop size after the resize to TARGET_SIZE, before padding
    pad_hw: tuple[int, int]  # rows / columns of padding added at the bottom / right

    def spatial(self) -> torch.Tensor:
        """(1, C, Hf, Wf) view of the tokens."""
        return self.tokens.permute(0, 2, 1).view(1, self.tokens.shape[2], *self.grid_hw)

    def pool_mask(self, mask: np.ndarray) -> torch.Tensor:
        """(h, w) crop of a mask (any values) -> (1, 1, Hf, Wf) float32: resized (nearest), padded 0, max-pooled."""
        import cv2
        import torch

        (new_h, new_w), (pad_h, pad_w) = self.resized_hw, self.pad_hw
        m = cv2.resize(mask.astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        m = cv2.copyMakeBorder(m, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
        m = torch.as_tensor(m, device=self.tokens.device).float()[None, None]
        return torch.nn.functional.adaptive_max_pool2d(m, output_size=self.grid_hw)

    def windows(self, x: torch.Tensor) -> torch.Tensor:
        """(1, D, Hf, Wf) -> (n_windows, D, k*k): PROVE's sliding windows (unfold) in PROVE's memory layout."""
        import torch

        scale = max(self.grid_hw) / GRID_REFERENCE
        kernel, stride = max(1, int(KERNEL * scale)), max(1, int(STRIDE * scale))
        patches = torch.nn.functional.unfold(x, kernel_size=kernel, stride=stride)
        return patches.view(1, x.shape[1], kernel * kernel, patches.shape[-1]).permute(3, 1, 2, 0).squeeze(-1)


class DinoFeatures:
    """A DINOv2 model and its image processor, loaded only from a local folder, that turns crops into patch tokens.

    `path`: a folder holding a DINOv2 checkpoint saved by `transformers` (config.json with model_type "dinov2",
    preprocessor_config.json, weights); None reads it from the environment variable ``GENBENCH_DINOV2``.
    PROVE's table uses facebook/dinov2-giant. `device`: "cuda" when available, else "cpu", unless given.
    The model runs in float32 with the processor `AutoImageProcessor` picks for the folder, as PROVE's script does
    (transformers 5: the torchvision `BitImageProcessor`; its pixels differ from the PIL/numpy one's by <= 1 ulp).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, device: str | None = None) -> None:
        folder = _checkpoint_folder(path)
        import torch

        try:
            from transformers import AutoImageProcessor, Dinov2Model
        except ImportError as exc:
            raise GenbenchError("PROVE metrics need `transformers`: pip install 'genbench[prove]'") from exc

        from genbench.devices import torch_device

        self.path = folder
        self.device = torch_device(device)
        try:
            self.processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
            model = Dinov2Model.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GenbenchError(f"cannot load the DINOv2 checkpoint in {folder} ({first}); {_DOWNLOAD_HINT}") from exc
        self.model = model.to(device=self.device, dtype=torch.float32).eval()

    def encode(self, image: np.ndarray) -> _Grid:
        """(h, w, 3) uint8 RGB crop -> its patch tokens (PROVE's DinoPredictor.set_image)."""
        import cv2
        import torch

        h, w = image.shape[:2]
        scale = TARGET_SIZE / max(h, w)
        new_h, new_w = int(h * scale), int(w * scale)
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_h, pad_w = (PATCH - new_h % PATCH) % PATCH, (PATCH - new_w % PATCH) % PATCH
        padded = cv2.copyMakeBorder(resized, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=PAD_RGB)
        inputs = self.processor(images=padded, return_tensors="pt", do_resize=False, do_center_crop=False)
        with torch.inference_mode():
            hidden = self.model(pixel_values=inputs["pixel_values"].to(self.device)).last_hidden_state
        grid_hw = ((new_h + pad_h) // PATCH, (new_w + pad_w) // PATCH)
        if hidden.shape[1] - 1 != grid_hw[0] * grid_hw[1]:
            raise GenbenchError(f"DINOv2 returned {hidden.shape[1]} tokens for a {grid_hw} grid plus CLS; "
                                "PROVE needs a DINOv2 without register tokens")
        return _Grid(hidden[:, 1:, :], grid_hw, (new_h, new_w), (pad_h, pad_w))


_DOWNLOAD_HINT = (f"download facebook/dinov2-giant (e.g. `hf download facebook/dinov2-giant --local-dir DIR`) on a "
                  f"machine with network and pass DIR (or set {ENV_VAR}=DIR)")


def _checkpoint_folder(path: str | os.PathLike[str] | None) -> Path:
    """The checkpoint folder from `path` or $GENBENCH_DINOV2, checked to look like a DINOv2 checkpoint."""
    raw = os.fspath(path) if path is not None else os.environ.get(ENV_VAR, "")
    if not raw:
        raise GenbenchError(f"PROVE metrics need local DINOv2 weights and no folder was given ({ENV_VAR} is "
                            f"unset); {_DOWNLOAD_HINT}")
    folder = Path(raw).expanduser()
    try:
        model_type = json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        model_type = None
    has_weights = any((folder / name).is_file() for name in WEIGHT_FILES)
    if model_type != "dinov2" or not has_weights or not (folder / "preprocessor_config.json").is_file():
        raise GenbenchError(f"{folder} is not a DINOv2 checkpoint folder (config.json with model_type 'dinov2', "
                            f"preprocessor_config.json and weights); {_DOWNLOAD_HINT}")
    return folder


# --------------------------------------------------------------------------------------------------------- MMD


def _unit_kernel_mean(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean RBF kernel between rows of unit-normalised x and y (PROVE's op sequence), a 0-d float32 tensor."""
    import torch

    gamma = 1.0 / (2.0 * SIGMA**2)
    return torch.exp(-gamma * torch.cdist(x, y).pow(2)).mean()


def _mmd(x: torch.Tensor, y: torch.Tensor, y_unit: torch.Tensor | None = None,
         k_yy: torch.Tensor | None = None) -> torch.Tensor:
    """PROVE's compute_rbf_mmd(x (n, C), y (m, C)) * 1000 as a 0-d float32 tensor.

    `y_unit`/`k_yy`: y normalised and its kernel mean, when already computed for this very y (same bits)."""
    import torch

    x = torch.nn.functional.normalize(x, p=2, dim=1)
    if y_unit is None:
        y_unit = torch.nn.functional.normalize(y, p=2, dim=1)
    if k_yy is None:
        k_yy = _unit_kernel_mean(y_unit, y_unit)
    return (_unit_kernel_mean(x, x) + k_yy - 2 * _unit_kernel_mean(x, y_unit)) / 1 * MMD_SCALE


def _crop_rc_s(features: DinoFeatures, crop: np.ndarray, crop_mask: np.ndarray) -> float:
    """g of one RC-S crop: (s, s, 3) uint8 crop, (s, s) uint8 raw mask crop (> 0 = foreground). NaN if no window."""
    import torch

    grid = features.encode(crop)
    with torch.inference_mode():
        pooled = grid.pool_mask(crop_mask)  # (1, 1, Hf, Wf), raw mask values
        cells = grid.windows(pooled).squeeze(1)  # (n, k*k)
        feats = grid.windows(grid.spatial())  # (n, C, k*k)
        background = grid.tokens[0][pooled.view(-1) == 0]  # (m, C): every background cell of the crop
        n_fg, n_bg = (cells > 0).sum(1), (cells == 0).sum(1)
        mixed = (n_fg > RC_S_MIN_CELLS) & (n_bg > RC_S_MIN_CELLS)
        inner = (n_fg > RC_S_MIN_CELLS) & (n_bg == 0) & (background.shape[0] > 0)
        chosen = torch.nonzero(mixed | inner).flatten().tolist()
        is_mixed = mixed.tolist()
        bg_unit = bg_kernel = None
        scores = []
        for i in chosen:
            cell, feat = cells[i], feats[i]
            inside = feat[:, cell > 0].T
            if is_mixed[i]:
                scores.append(_mmd(inside, feat[:, cell == 0].T))
                continue
            if bg_unit is None:
                bg_unit = torch.nn.functional.normalize(background, p=2, dim=1)
                bg_kernel = _unit_kernel_mean(bg_unit, bg_unit)
            scores.append(_mmd(inside, background, bg_unit, bg_kernel))
        if not scores:
            return float("nan")
        values = torch.stack(scores).cpu().numpy()
    total = np.float32(0.0)
    for v in values:  # PROVE: sum() of float32 tensors, in window order, then / count, all float32
        total = np.float32(total + v)
    mean = np.float32(total / np.float32(len(values)))
    if not mean > 0:
        return 1.0
    return math.exp(float(np.float32(-mean / np.float32(TAU_MMD))))


def rc_s(frame: np.ndarray, mask: np.ndarray, features: DinoFeatures) -> float:
    """RC-S of one frame, in (0, 1], higher = the removed region blends with its surroundings; NaN if none.

    `frame`: (H, W, 3) uint8 RGB; `mask`: (H, W) bool/uint8 (True/255 = removed) or (H, W, 3) uint8.
    NaN when the mask is empty or a kept component's crop has no qualifying window (as PROVE).
    """
    frame = _check_frame(frame)
    grey = _grey(mask, "luma")
    _check_same_size(frame, grey)
    total, count = 0.0, 0.0
    for x1, y1, x2, y2 in component_boxes(grey):
        total += _crop_rc_s(features, frame[y1:y2, x1:x2], grey[y1:y2, x1:x2])
        count += 1
    return total / count if count else float("nan")


def rc_t(frame_t: np.ndarray, frame_t1: np.ndarray, mask_t: np.ndarray, mask_t1: np.ndarray,
         features: DinoFeatures) -> float:
    """RC-T of consecutive frames, >= 0 (up to float32 rounding), lower = steadier fill; NaN if nothing qualifies.

    Frames: (H, W, 3) uint8 RGB; masks: (H, W) bool/uint8 (True/255 = removed) or (H, W, 3) uint8 (channel 0).
    """
    import torch

    frame_t, frame_t1 = _check_frame(frame_t), _check_frame(frame_t1)
    in_t, in_t1 = _grey(mask_t, "first") > THRESHOLD, _grey(mask_t1, "first") > THRESHOLD
    for f, m in ((frame_t, in_t), (frame_t1, in_t1)):
        _check_same_size(f, m)
    box = bounding_square(in_t | in_t1)
    if box is None:
        return float("nan")
    x1, y1, x2, y2 = box
    grid_t = features.encode(frame_t[y1:y2, x1:x2])
    grid_t1 = features.encode(frame_t1[y1:y2, x1:x2])
    with torch.inference_mode():
        both = (grid_t.pool_mask(in_t[y1:y2, x1:x2] * np.uint8(255)) > 0.5) & (
            grid_t.pool_mask(in_t1[y1:y2, x1:x2] * np.uint8(255)) > 0.5)
        cells = grid_t.windows(both.float()).squeeze(1) > 0.5  # (n, k*k)
        feats_t, feats_t1 = grid_t.windows(grid_t.spatial()), grid_t1.windows(grid_t1.spatial())
        chosen = torch.nonzero(cells.sum(1) >= RC_T_MIN_CELLS).flatten().tolist()
        scores = [_mmd(feats_t[i][:, cells[i]].T, feats_t1[i][:, cells[i]].T) for i in chosen]
        if not scores:
            return float("nan")
        values = torch.stack(scores).cpu().tolist()
    return sum(values) / len(values)  # PROVE: Python floats of the float32 scores


def score_clip(frames: np.ndarray | Sequence[np.ndarray], masks: np.ndarray | Sequence[np.ndarray],
               features: DinoFeatures) -> dict[str, float]:
    """RC-S and RC-T of a clip: {"rc_s": mean over frames, "rc_t": mean over consecutive pairs}; NaN when none.

    `frames`: (T, H, W, 3) uint8 RGB; `masks`: (T, Hm, Wm) bool/uint8 (True/255 = removed) or (T, Hm, Wm, 3)
    uint8. As PROVE: only the first min(T_frames, T_masks, 81) frames are used, and frames are resized to the
    masks' size (cv2 INTER_LINEAR) when they differ.
    """
    import cv2

    count = min(len(frames), len(masks), MAX_FRAMES)
    masks = [np.asarray(m) for m in masks[:count]]
    kept = []
    for f in frames[:count]:
        f = _check_frame(f)
        h, w = masks[0].shape[:2]
        kept.append(f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR))
    spatial = [rc_s(f, m, features) for f, m in zip(kept, masks, strict=True)]
    temporal = [rc_t(kept[i], kept[i + 1], masks[i], masks[i + 1], features) for i in range(count - 1)]
    return {"rc_s": _mean_of_values(spatial), "rc_t": _mean_of_values(temporal)}


def _mean_of_values(values: list[float]) -> float:
    """np.mean of the non-NaN values (PROVE's clip mean); NaN when there are none."""
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def _check_frame(frame: Any) -> np.ndarray:
    f = np.asarray(frame)
    if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
        raise GenbenchError(f"a PROVE frame is (H, W, 3) uint8 RGB, got {f.dtype} {f.shape}")
    return f


def _check_same_size(frame: np.ndarray, mask: np.ndarray) -> None:
    if frame.shape[:2] != mask.shape[:2]:
        raise GenbenchError(f"frame {frame.shape[:2]} and mask {mask.shape[:2]} differ in size; "
                            "score_clip resizes frames to the mask size")
