"""PSNR, SSIM and LPIPS of frames, batched on one device (CUDA when there is one), whole or per region.

Inputs are (T, H, W, 3) uint8 RGB frames (sRGB as stored, no colour conversion, native resolution);
region masks are (T, H, W) bool. Every metric is computed per frame; `FrameScorer.score` returns
region -> metric -> (T,) float64. The choices, pinned here and printed with every result (`PROTOCOL`):

- **PSNR** over the R, G and B values with data range 1.0 on frames in [0, 1] (the same as 255 on
  uint8): ``10 log10(1 / MSE)``, the MSE summed exactly from integer differences and divided in
  float64. A frame whose MSE is 0 scores `PSNR_CAP` (100 dB) instead of infinity, so one exact frame
  cannot make a mean infinite; 100 dB is below the largest finite uint8 PSNR of a 256x256 frame
  (101 dB), so the cap only ever replaces "identical". In a region: the MSE over its pixels.
- **SSIM** exactly as ``skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=1.0)``
  with its defaults (7x7 uniform window, K1 0.01, K2 0.03, sample covariance, the map averaged over
  channels and over the pixels at least 3 from the border); see `genbench.benchmark.ssim`, which
  computes it exactly and fast. In a region: the mean of the SSIM map over the region's pixels
  inside that interior.
- **LPIPS** with the official `lpips` package: AlexNet backbone (`lpips_backbone`, loaded offline),
  linear layers v0.1, inputs scaled to [-1, 1]. Whole frame: the package's value (each layer's map
  averaged spatially, then summed). In a region: the package's spatial map (``spatial=True``: each
  layer's map upsampled bilinearly to H x W, then summed) averaged over the region's pixels.
  AlexNet needs frames of at least `MIN_SIZE` pixels on each side.
- An empty region in a frame gives NaN for that frame, which is left out of every mean.

On the CPU, PSNR and SSIM run in numpy/OpenCV (`FrameScorer.prepare`, safe to call from reader
threads while LPIPS runs); on a GPU everything runs in torch on the device (`FrameScorer.finish`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genbench.benchmark import ssim as ssim_mod
from genbench.errors import GenbenchError

PSNR_CAP = 100.0
MIN_SIZE = 31  # AlexNet's second max-pool needs a 7x7 conv1 output
LPIPS_NET = "alex"
LPIPS_VERSION = "0.1"
METRICS = ("psnr", "ssim", "lpips")
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "lpips": False}
BATCH_PIXELS = 1 << 21  # pixels per LPIPS batch: 32 frames of 256x256
_SQ_SCALE = 3 * 255.0**2  # per-pixel squared error summed over RGB / this = MSE on [0, 1]

PROTOCOL: dict[str, Any] = {
    "colour_space": "sRGB as stored (uint8 RGB PNG), no conversion",
    "resolution": "native (no resizing)",
    "psnr": {"channels": "RGB", "data_range": 1.0, "cap_db": PSNR_CAP, "accumulation": "exact integer sums"},
    "ssim": {"implementation": "skimage.metrics.structural_similarity defaults (exact port, tested)",
             "window": f"{ssim_mod.WIN}x{ssim_mod.WIN} uniform", "K1": ssim_mod.K1, "K2": ssim_mod.K2,
             "covariance": "sample", "border": "filter radius cropped", "data_range": 1.0},
    "lpips": {"package": "lpips 0.1.4", "net": LPIPS_NET, "version": LPIPS_VERSION, "input_range": "[-1, 1]",
              "region": "spatial map (bilinear upsampling) averaged over the region; AlexNet's receptive field "
                        "spreads nearby errors, so an unchanged region next to a changed one scores above 0"},
    "empty_region": "NaN, left out of means",
}

Scores = dict[str, dict[str, np.ndarray]]  # region -> metric -> (T,) float64


def pick_device(device: str | None = None) -> str:
    """`device` if given (other than "auto"), else "cuda" when available, else "cpu"."""
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def psnr_from_mse(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB for MSE on [0, 1] data (float64), capped at PSNR_CAP; NaN stays NaN."""
    mse = np.asarray(mse, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(1.0 / mse)
    return np.where(np.isnan(mse), np.nan, np.minimum(out, PSNR_CAP))


def mean_finite(values: np.ndarray) -> float:
    """Mean of the non-NaN values; NaN when there are none."""
    values = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(values)
    return float(values[keep].mean()) if keep.any() else math.nan


def build_lpips(device: str) -> Any:
    """The official lpips.LPIPS(alex, v0.1) module with the offline backbone, in eval mode on `device`."""
    import lpips
    import torch

    from genbench.benchmark.lpips_backbone import load_features

    backbone = load_features()
    with warnings.catch_warnings():  # torchvision's "pretrained is deprecated" (we pass pnet_rand=True)
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net=LPIPS_NET, version=LPIPS_VERSION, pretrained=True, pnet_rand=True, verbose=False)
    slices = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}  # features.<i> -> net.slice<s>.<i>
    state = {}
    for name, array in backbone.tensors.items():
        _, index, param = name.split(".")
        state[f"slice{slices[int(index)]}.{index}.{param}"] = torch.from_numpy(np.array(array))
    model.net.load_state_dict(state, strict=True)
    model.backbone_source = backbone.source
    model.backbone_digest = backbone.digest
    return model.eval().to(device)


def to_lpips_input(frames: Any) -> Any:
    """(N, 3, H, W) uint8 tensor -> float32 in [-1, 1].

    (x - 127.5) / 127.5 in float32 gives, for all 256 values, the same bits as lpips.im2tensor's
    x / 127.5 - 1 in float64 cast to float32 (tested).
    """
    import torch

    return (frames.to(torch.float32) - 127.5) / 127.5


def lpips_distances(model: Any, a: Any, b: Any, *, spatial: bool) -> tuple[Any, Any]:
    """LPIPS of uint8 (N, 3, H, W) tensors `a` vs `b` with the lpips module `model`.

    Returns (value (N,), map (N, H, W) or None): value is what ``model(a, b)`` returns; map is what
    ``spatial=True`` returns. The backbone runs once per input, the linear layers once for both.
    """
    import lpips
    import torch
    import torch.nn.functional as F

    n, _, h, w = a.shape
    feats_a = model.net(model.scaling_layer(to_lpips_input(a)))
    feats_b = model.net(model.scaling_layer(to_lpips_input(b)))
    value = torch.zeros(n, device=a.device)
    spatial_map = torch.zeros(n, 1, h, w, device=a.device) if spatial else None
    for kk, (fa, fb) in enumerate(zip(feats_a, feats_b, strict=True)):
        d = (lpips.normalize_tensor(fa) - lpips.normalize_tensor(fb)) ** 2
        layer = model.lins[kk](d)  # (N, 1, h_k, w_k)
        value += layer.mean((1, 2, 3))
        if spatial_map is not None:
            spatial_map += F.interpolate(layer, size=(h, w), mode="bilinear", align_corners=False)
    return value, (spatial_map[:, 0] if spatial_map is not None else None)


def squared_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, H, W) float32: squared uint8 differences summed over RGB (integers below 2^18, exact)."""
    import cv2

    ones = np.ones(3, dtype=np.float32)
    out = np.empty(pred.shape[:3], dtype=np.float32)
    for i in range(len(pred)):
        d = cv2.absdiff(pred[i], target[i]).astype(np.float32)
        d *= d
        out[i] = d @ ones
    return out


def region_means(maps: Any, masks: Any) -> Any:
    """Per-frame means of K maps over R masks: (N, K, P) x (N, R, P) bool -> (N, K, R); NaN for empty masks.

    Works on numpy arrays and torch tensors alike (one batched matrix product, float64).
    """
    if isinstance(maps, np.ndarray):
        m = masks.astype(np.float64)
        sums = np.matmul(maps.astype(np.float64), m.transpose(0, 2, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums / m.sum(2)[:, None, :]
    m = masks.double()
    return (maps.double() @ m.transpose(1, 2)) / m.sum(2)[:, None, :]


@dataclass
class Pending:
    """A clip between `FrameScorer.prepare` and `FrameScorer.finish`; `done` holds what is computed."""

    pred: np.ndarray
    target: np.ndarray
    regions: dict[str, np.ndarray]
    done: Scores = field(default_factory=dict)


def _check(pred: np.ndarray, target: np.ndarray, regions: dict[str, np.ndarray]) -> None:
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[-1] != 3:
        raise GenbenchError(f"frames to compare must both be (T, H, W, 3); got {pred.shape} and {target.shape}")
    if pred.dtype != np.uint8 or target.dtype != np.uint8:
        raise GenbenchError(f"frames to compare must be uint8; got {pred.dtype} and {target.dtype}")
    t, h, w, _ = pred.shape
    if min(h, w) < MIN_SIZE:
        raise GenbenchError(f"frames are {w}x{h}; LPIPS (AlexNet) needs at least {MIN_SIZE}x{MIN_SIZE}")
    for name, mask in regions.items():
        if name == "full" or mask.shape != (t, h, w) or mask.dtype != bool:
            raise ValueError(f"region {name!r}: expected a (T, H, W) bool mask other than 'full', "
                             f"got {mask.dtype}{mask.shape}")


def _pixel_scores(sq: Any, s_map: Any, masks: Any, names: list[str]) -> Scores:
    """PSNR and SSIM, whole frame and per region, from the squared-error map (N, H, W), the interior SSIM
    map (N, H - 6, W - 6) and the stacked masks (N, R, H, W) (numpy or torch)."""
    n, h, w = sq.shape
    pad = ssim_mod.PAD

    def arr(v: Any) -> np.ndarray:
        return v if isinstance(v, np.ndarray) else v.cpu().numpy()

    flat = sq.reshape(n, -1)
    total = flat.sum(1, dtype=np.float64) if isinstance(flat, np.ndarray) else arr(flat.sum(1)).astype(np.float64)
    out: Scores = {"full": {"psnr": psnr_from_mse(total / (_SQ_SCALE * h * w)),
                            "ssim": arr(s_map.reshape(n, -1).mean(1)).astype(np.float64)}}
    if names:
        r = len(names)
        mse = arr(region_means(sq.reshape(n, 1, h * w), masks.reshape(n, r, h * w)))[:, 0] / _SQ_SCALE
        inner = masks[:, :, pad:-pad, pad:-pad].reshape(n, r, -1)
        ssim = arr(region_means(s_map.reshape(n, 1, -1), inner))[:, 0]
        for j, k in enumerate(names):
            out[k] = {"psnr": psnr_from_mse(mse[:, j]), "ssim": ssim[:, j]}
    return out


@dataclass
class FrameScorer:
    """Scores predicted frames against targets on one device. Build once (LPIPS loads), call `score` per clip."""

    device: str | None = None
    batch_pixels: int = BATCH_PIXELS

    def __post_init__(self) -> None:
        import torch

        self.device = pick_device(self.device)
        self._torch = torch
        self.lpips = build_lpips(self.device)

    @property
    def backbone(self) -> dict[str, str]:
        return {"source": self.lpips.backbone_source, "digest": self.lpips.backbone_digest}

    def score(self, pred: np.ndarray, target: np.ndarray, regions: Mapping[str, np.ndarray] | None = None) -> Scores:
        """Per-frame PSNR, SSIM, LPIPS of `pred` vs `target`, whole frame and per region.

        pred, target: (T, H, W, 3) uint8. regions: name -> (T, H, W) bool (never "full").
        Returns {"full": {"psnr": (T,), "ssim": (T,), "lpips": (T,)}, <region>: {...}}, float64.
        """
        return self.finish(self.prepare(pred, target, regions))

    def prepare(self, pred: np.ndarray, target: np.ndarray,
                regions: Mapping[str, np.ndarray] | None = None) -> Pending:
        """Check the inputs; on the CPU also compute PSNR and SSIM (numpy/OpenCV; thread-safe)."""
        regions = dict(regions or {})
        _check(pred, target, regions)
        pending = Pending(pred, target, regions)
        if self.device == "cpu":
            masks = np.stack([regions[k] for k in regions], 1) if regions else None
            pending.done = _pixel_scores(squared_error(pred, target), ssim_mod.ssim_map_cv2(pred, target), masks,
                                         list(regions))
        return pending

    def finish(self, pending: Pending) -> Scores:
        """LPIPS (and, off the CPU, PSNR and SSIM) in batches on the device; returns all scores."""
        pred, target, regions = pending.pred, pending.target, pending.regions
        t, h, w, _ = pred.shape
        names = list(regions)
        out: Scores = {r: {m: np.empty(t, dtype=np.float64) for m in METRICS} for r in ["full", *names]}
        step = max(1, self.batch_pixels // (h * w))
        with self._torch.inference_mode():
            for start in range(0, t, step):
                sl = slice(start, min(t, start + step))
                chunk = self._batch(pred[sl], target[sl], {k: v[sl] for k, v in regions.items()},
                                    need_pixels=not pending.done)
                for r in out:
                    for m, values in chunk[r].items():
                        out[r][m][sl] = values
        for r, scores in pending.done.items():
            out[r].update(scores)
        return out

    def _batch(self, pred: np.ndarray, target: np.ndarray, regions: dict[str, np.ndarray], *,
               need_pixels: bool) -> Scores:
        torch, dev = self._torch, self.device
        n, h, w, _ = pred.shape
        a = _tensor(pred, dev).permute(0, 3, 1, 2)  # (N, 3, H, W) uint8
        b = _tensor(target, dev).permute(0, 3, 1, 2)
        names = list(regions)
        masks = torch.stack([_tensor(regions[k], dev) for k in names], 1) if names else None  # (N, R, H, W)
        out: Scores = {r: {} for r in ["full", *names]}
        if need_pixels:
            d = a.to(torch.int32) - b.to(torch.int32)
            out = _pixel_scores((d * d).sum(1), ssim_mod.ssim_map_torch(a, b), masks, names)
        value, spatial = lpips_distances(self.lpips, a, b, spatial=bool(names))
        out["full"]["lpips"] = value.double().cpu().numpy()
        if names:
            lp = region_means(spatial.reshape(n, 1, h * w), masks.reshape(n, len(names), h * w)).cpu().numpy()
            for j, k in enumerate(names):
                out[k]["lpips"] = lp[:, 0, j]
        return out


def _tensor(array: np.ndarray, device: str) -> Any:
    import torch

    return torch.from_numpy(np.require(array, requirements=["C", "W"])).to(device)
