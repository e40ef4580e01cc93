"""PSNR, SSIM and LPIPS of frames, whole or per region, under benchmark protocol v2.

Inputs are (T, H, W, 3) uint8 RGB frames (sRGB as stored, no colour conversion, native resolution);
region masks are (T, H, W) bool. Every metric is computed per frame; `FrameScorer.score` returns
region -> {metric: (T,) float64, plus the per-frame pixel counts the clip means pool with}. The
choices, pinned here and printed with every result (`PROTOCOL`):

- **PSNR** (`genbench.pixels`) over R, G and B, data range 1.0, from exact integer sums, capped at
  100 dB. In a region: from the MSE over the region's pixels only.
- **SSIM** exactly as ``skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=1.0)``
  with its defaults (7x7 uniform window, K1 0.01, K2 0.03, sample covariance, the map averaged over
  channels and over the pixels at least 3 from the border); see `genbench.benchmark.ssim`.
- **LPIPS** with the official `lpips` package: AlexNet backbone (`lpips_backbone`, loaded offline),
  linear layers v0.1, inputs scaled to [-1, 1]. Whole frame: the package's value (each layer's map
  averaged spatially, then summed). Spatial map: ``spatial=True``'s (each layer's map upsampled
  bilinearly to H x W, then summed). AlexNet needs frames of at least `MIN_SIZE` pixels on each side.
- **A region's score depends on that region's pixels only.** SSIM's window and LPIPS's receptive
  field see neighbours, so on the raw prediction a region would inherit the error next to it (a
  left-behind object raises the LPIPS of the shadow region beside it). A region is therefore scored
  on the **composite**: the prediction inside the region, the ground truth outside it; the SSIM map
  and the LPIPS spatial map of the composite against the ground truth are averaged over the region
  (SSIM: its pixels in the interior). Two predictions equal inside a region score the same there,
  and a region predicted exactly scores perfectly (PSNR 100, SSIM 1, LPIPS 0) whatever happens
  elsewhere.
- An empty region in a frame gives NaN for that frame and a pixel count of 0.

Cost: one LPIPS backbone pass for the ground truth and one for the prediction per frame, plus one
per region whose composite is neither the ground truth (the region is exact: LPIPS 0 without a
pass) nor the prediction itself (every change lies inside the region: its map is reused). The
composites of a batch of frames run through AlexNet together. PSNR and SSIM run on the CPU in
`FrameScorer.prepare` (thread-safe, so reader threads do it while LPIPS runs), LPIPS on the device
in `FrameScorer.finish`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genbench.benchmark import ssim as ssim_mod
from genbench.devices import torch_device
from genbench.errors import GenbenchError
from genbench.pixels import PSNR_CAP, SQUARED_SCALE, psnr_from_mse, squared_error

PROTOCOL_VERSION = 2
MIN_SIZE = 31  # AlexNet's second max-pool needs a 7x7 conv1 output
LPIPS_NET = "alex"
LPIPS_VERSION = "0.1"
METRICS = ("psnr", "ssim", "lpips")
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "lpips": False}
# Per-frame counts stored beside the metrics: what a clip's pooled mean weighs each frame by.
PIXELS, SSIM_PIXELS, MSE = "pixels", "ssim_pixels", "mse"
BATCH_PIXELS = 1 << 21  # pixels through AlexNet per batch: 32 images of 256x256

PROTOCOL: dict[str, Any] = {
    "version": PROTOCOL_VERSION,
    "colour_space": "sRGB as stored (uint8 RGB PNG), no conversion",
    "resolution": "native (no resizing)",
    "psnr": {"channels": "RGB", "data_range": 1.0, "cap_db": PSNR_CAP, "accumulation": "exact integer sums"},
    "ssim": {"implementation": "skimage.metrics.structural_similarity defaults (exact port, tested)",
             "window": f"{ssim_mod.WIN}x{ssim_mod.WIN} uniform", "K1": ssim_mod.K1, "K2": ssim_mod.K2,
             "covariance": "sample", "border": "filter radius cropped", "data_range": 1.0},
    "lpips": {"package": "lpips 0.1.4", "net": LPIPS_NET, "version": LPIPS_VERSION, "input_range": "[-1, 1]"},
    "region_rule": "composite: the prediction inside the region, the ground truth outside; PSNR from the region's "
                   "pixels, SSIM and LPIPS maps of the composite averaged over the region",
    "empty_region": "NaN, left out of means",
}

Scores = dict[str, dict[str, np.ndarray]]  # region -> metric or count -> (T,) float64


def mean_finite(values: np.ndarray) -> float:
    """Mean of the non-NaN values; NaN when there are none."""
    values = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(values)
    return float(values[keep].mean()) if keep.any() else float("nan")


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


def lpips_features(model: Any, frames: Any) -> list[Any]:
    """AlexNet features of (N, 3, H, W) uint8 frames, each unit-normalised over channels (lpips.normalize_tensor)."""
    import lpips

    return [lpips.normalize_tensor(f) for f in model.net(model.scaling_layer(to_lpips_input(frames)))]


def lpips_layers(model: Any, feats_a: list[Any], feats_b: list[Any]) -> list[Any]:
    """Each layer's LPIPS map between normalised features (`lpips_features`) of equally many images:
    the linear layer on the squared difference, (N, 1, h_k, w_k) per layer."""
    return [model.lins[k]((fa - fb) ** 2) for k, (fa, fb) in enumerate(zip(feats_a, feats_b, strict=True))]


def lpips_value(layers: list[Any]) -> Any:
    """(N,): what ``lpips.LPIPS.forward`` returns: each layer's map averaged spatially, summed over layers."""
    return sum(layer.mean((1, 2, 3)) for layer in layers)


@functools.cache
def upsampling_matrix(n_out: int, n_in: int, device: Any) -> Any:
    """(n_out, n_in) float32: the weights of ``F.interpolate(mode="bilinear", align_corners=False)`` along one
    axis, taken from the function itself (one-hot inputs), so they are its weights exactly."""
    import torch
    import torch.nn.functional as F

    eye = torch.eye(n_in, device=device).reshape(n_in, 1, n_in, 1)
    return F.interpolate(eye, size=(n_out, 1), mode="bilinear", align_corners=False).reshape(n_in, n_out).T


def lpips_region_means(layers: list[Any], masks: Any) -> Any:
    """(N,) float64: the mean over each mask's pixels of the LPIPS spatial map (``spatial=True``: each layer's
    map upsampled bilinearly to H x W, summed), without upsampling anything.

    Bilinear upsampling is linear and separable, U(L) = A_h L A_w^T, so the mean of U(L) over a mask M is
    <L, A_h^T M A_w> / |M|: each mask is pooled down to each layer's grid instead of every map being blown up
    to the frame's size (float32 products, summed in float64). layers: `lpips_layers` of N images; masks:
    (N, H, W) bool tensor.
    """
    import torch

    _, height, width = masks.shape
    m = masks.to(torch.float32)
    total = torch.zeros(len(m), dtype=torch.float64, device=m.device)
    for layer in layers:
        h, w = layer.shape[-2:]
        pooled = upsampling_matrix(height, h, m.device).T @ m @ upsampling_matrix(width, w, m.device)  # (N, h, w)
        total += (layer[:, 0] * pooled).sum((1, 2), dtype=torch.float64)
    return total / m.sum((1, 2), dtype=torch.float64)


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


# How a region's composite relates to the two whole frames, per frame: it decides the LPIPS work.
EMPTY, EXACT, WHOLE, COMPOSITE = 0, 1, 2, 3  # no pixels; = the truth; = the prediction; neither


def composite_kind(changed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(T,) int: EMPTY, EXACT, WHOLE or COMPOSITE for region `mask`, given where the prediction `changed`
    from the truth (both (T, H, W) bool)."""
    t = len(mask)
    flat_m, flat_c = mask.reshape(t, -1), changed.reshape(t, -1)
    inside = (flat_c & flat_m).any(1)
    outside = (flat_c & ~flat_m).any(1)
    kind = np.where(~inside, EXACT, np.where(outside, COMPOSITE, WHOLE))
    return np.where(flat_m.any(1), kind, EMPTY)


def composite(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The prediction inside `mask`, the truth outside: (..., H, W, 3) uint8."""
    return np.where(mask[..., None], pred, target)


@dataclass
class Pending:
    """A clip between `FrameScorer.prepare` and `FrameScorer.finish`.

    done: PSNR, MSE, SSIM and pixel counts per region (from `prepare`); kinds: region -> (T,) composite kind."""

    pred: np.ndarray
    target: np.ndarray
    regions: dict[str, np.ndarray]
    done: Scores = field(default_factory=dict)
    kinds: dict[str, np.ndarray] = field(default_factory=dict)


def composite_ssim(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, inner: np.ndarray) -> float:
    """Mean SSIM over the region's interior pixels `inner` ((H - 6, W - 6) bool) of the composite of `pred` inside
    `mask` ((H, W) bool) and `target` outside, against `target` (frames (H, W, 3) uint8).

    A pixel's SSIM depends on its 7x7 window only, so the map is computed on the region's bounding box grown by
    the window radius: the same bits as the whole frame's map there, at the cost of the region's size."""
    pad = ssim_mod.PAD
    ys, xs = np.nonzero(inner)  # interior coordinates: frame row = y + pad
    top, left = int(ys.min()), int(xs.min())  # frame rows top..bottom+2*pad hold the windows
    bottom, right = int(ys.max()) + 2 * pad + 1, int(xs.max()) + 2 * pad + 1
    box = (slice(top, bottom), slice(left, right))
    s_map = ssim_mod.ssim_map_cv2(composite(pred[box], target[box], mask[box])[None], target[box][None])[0]
    return float(s_map[ys - top, xs - left].mean())


def pixel_scores(pred: np.ndarray, target: np.ndarray, regions: dict[str, np.ndarray]) -> tuple[Scores, dict]:
    """PSNR, MSE, SSIM and pixel counts per frame, whole frame and per region (on the composite), and each
    region's composite kind per frame. numpy/OpenCV only, so it runs in reader threads."""
    t, h, w, _ = pred.shape
    pad = ssim_mod.PAD
    sq = squared_error(pred, target).astype(np.float64)  # (T, H, W), summed over RGB
    changed = sq > 0
    s_full = ssim_mod.ssim_map_cv2(pred, target)  # (T, H - 6, W - 6)
    full_mse = sq.reshape(t, -1).sum(1) / (SQUARED_SCALE * h * w)
    out: Scores = {"full": {"psnr": psnr_from_mse(full_mse), MSE: full_mse, "ssim": s_full.reshape(t, -1).mean(1),
                            PIXELS: np.full(t, float(h * w)), SSIM_PIXELS: np.full(t, float(s_full[0].size))}}
    kinds: dict[str, np.ndarray] = {}
    for name, mask in regions.items():
        kind = composite_kind(changed, mask)
        kinds[name] = kind
        pixels = mask.reshape(t, -1).sum(1).astype(np.float64)
        inner = mask[:, pad:-pad, pad:-pad]
        inner_pixels = inner.reshape(t, -1).sum(1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mse = np.where(pixels > 0, (sq * mask).reshape(t, -1).sum(1) / (SQUARED_SCALE * pixels), np.nan)
        ssim = np.full(t, np.nan)
        for i in range(t):
            if inner_pixels[i] == 0:
                continue
            if kind[i] == EXACT:
                ssim[i] = 1.0  # the composite is the truth
            elif kind[i] == WHOLE:
                ssim[i] = s_full[i][inner[i]].mean()
            else:
                ssim[i] = composite_ssim(pred[i], target[i], mask[i], inner[i])
        out[name] = {"psnr": psnr_from_mse(mse), MSE: mse, "ssim": ssim, PIXELS: pixels, SSIM_PIXELS: inner_pixels}
    return out, kinds


@dataclass
class FrameScorer:
    """Scores predicted frames against targets on one device. Build once (LPIPS loads), call `score` per clip.

    `passes` and `frames` count the AlexNet passes and frames scored so far (the cost of the composites)."""

    device: str | None = None
    batch_pixels: int = BATCH_PIXELS
    passes: int = 0
    frames: int = 0

    def __post_init__(self) -> None:
        import torch

        self.device = torch_device(self.device)
        self._torch = torch
        self.lpips = build_lpips(self.device)

    @property
    def backbone(self) -> dict[str, str]:
        return {"source": self.lpips.backbone_source, "digest": self.lpips.backbone_digest}

    def score(self, pred: np.ndarray, target: np.ndarray, regions: Mapping[str, np.ndarray] | None = None) -> Scores:
        """Per-frame PSNR, SSIM, LPIPS of `pred` vs `target`, whole frame and per region (module docstring).

        pred, target: (T, H, W, 3) uint8. regions: name -> (T, H, W) bool (never "full").
        Returns {"full": {"psnr", "ssim", "lpips", "mse", "pixels", "ssim_pixels"}, <region>: {...}}, each (T,)
        float64; NaN where a region is empty in a frame.
        """
        return self.finish(self.prepare(pred, target, regions))

    def prepare(self, pred: np.ndarray, target: np.ndarray,
                regions: Mapping[str, np.ndarray] | None = None) -> Pending:
        """Check the inputs and compute PSNR and SSIM (numpy/OpenCV; thread-safe)."""
        regions = dict(regions or {})
        _check(pred, target, regions)
        done, kinds = pixel_scores(pred, target, regions)
        return Pending(pred, target, regions, done, kinds)

    def finish(self, pending: Pending) -> Scores:
        """LPIPS, whole frame and per region, in batches on the device; returns all scores."""
        t, h, w, _ = pending.pred.shape
        out: Scores = {r: dict(v) for r, v in pending.done.items()}
        for r in out:
            out[r]["lpips"] = np.full(t, np.nan)
        per_frame = 2 + len(pending.regions)  # at most: the truth, the prediction and one composite per region
        step = max(1, self.batch_pixels // (h * w * per_frame))
        with self._torch.inference_mode():
            for start in range(0, t, step):
                self._lpips_batch(pending, slice(start, min(t, start + step)), out)
        self.frames += t
        return out

    def _lpips_batch(self, pending: Pending, sl: slice, out: Scores) -> None:
        """LPIPS of frames `sl`: one AlexNet pass over the truths, predictions and needed composites together.

        A frame the prediction leaves exact needs no pass (every score there is perfect)."""
        torch = self._torch
        changed = [f for f in range(sl.start, sl.stop) if pending.done["full"][MSE][f] > 0]
        out["full"]["lpips"][sl] = 0.0
        for name in pending.regions:
            kinds = pending.kinds[name][sl]
            out[name]["lpips"][sl] = np.where(kinds == EMPTY, np.nan, 0.0)  # EXACT scores 0 without a pass
        if not changed:
            return
        jobs = [(name, f) for name in pending.regions for f in changed if pending.kinds[name][f] == COMPOSITE]
        images = [pending.target[changed], pending.pred[changed]]
        images += [composite(pending.pred[f], pending.target[f], pending.regions[name][f])[None] for name, f in jobs]
        stack = torch.from_numpy(np.concatenate(images)).to(self.device).permute(0, 3, 1, 2)
        feats = lpips_features(self.lpips, stack)
        self.passes += len(stack)
        n = len(changed)
        row = {f: i for i, f in enumerate(changed)}
        truth_of = torch.tensor([*range(n), *(row[f] for _, f in jobs)], device=stack.device)
        layers = lpips_layers(self.lpips, [x[n:] for x in feats], [x[truth_of] for x in feats])
        out["full"]["lpips"][changed] = lpips_value([layer[:n] for layer in layers]).double().cpu().numpy()
        # region means: a region equal to the prediction reads the prediction's map, a composite its own
        reads = [(name, f, row[f]) for name in pending.regions for f in changed if pending.kinds[name][f] == WHOLE]
        reads += [(name, f, n + j) for j, (name, f) in enumerate(jobs)]
        if reads:
            index = torch.tensor([i for _, _, i in reads], device=stack.device)
            masks = torch.from_numpy(np.stack([pending.regions[name][f] for name, f, _ in reads])).to(stack.device)
            means = lpips_region_means([layer[index] for layer in layers], masks).cpu().numpy()
            for (name, f, _), value in zip(reads, means, strict=True):
                out[name]["lpips"][f] = value
