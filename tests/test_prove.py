"""PROVE's RC-S / RC-T (`genbench.benchmark.prove`) against a transliteration of PROVE's own code, on a tiny DINOv2.

The model is a random 2-layer DINOv2 saved to disk with a BitImageProcessor beside it, so the real loading
path (`from_pretrained` of a local folder) is exercised; the numbers mean nothing, the agreement does.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage.data import brick
from skimage.measure import label, regionprops

from genbench.benchmark import prove
from genbench.errors import GenbenchError

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def save_tiny_dinov2(folder: Path, seed: int = 0) -> Path:
    """A random DINOv2 (hidden 32, 2 layers, 2 heads, patch 14) and DINOv2's image processor settings."""
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    config = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, patch_size=14,
                          image_size=56)
    Dinov2Model(config).save_pretrained(folder)
    BitImageProcessor(size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224}, resample=3,
                      do_rescale=True, rescale_factor=1 / 255, do_normalize=True, image_mean=IMAGENET_MEAN,
                      image_std=IMAGENET_STD).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_dinov2(tmp_path_factory.mktemp("dinov2-tiny"))


@pytest.fixture(scope="module")
def features(tiny_dir: Path) -> prove.DinoFeatures:
    return prove.DinoFeatures(tiny_dir)


# ------------------------------------------------------------------------------------------------------------------
# The reference: PROVE's utils/bbox.py, utils/predictors.py and utils/metrics.py (commit 7ca299a), transliterated
# statement by statement, per-window Python loop included.


def ref_find_bounding_square_1_3(binary_image):
    mask = Image.fromarray(binary_image).convert("L")
    bbox = mask.getbbox()
    if bbox is None:
        return None
    left, upper, right, lower = bbox
    width, height = right - left, lower - upper
    size = max(width, height)
    cx, cy = (left + right) / 2.0, (upper + lower) / 2.0
    start_x, start_y = round(cx - size / 2), round(cy - size / 2)  # PROVE: int(round(.)), the same int
    img_w, img_h = mask.size
    dist_left, dist_top = start_x, start_y
    dist_right, dist_bottom = img_w - (start_x + size), img_h - (start_y + size)
    sub_target = round(size * (1 / 3))
    sub = min(sub_target, dist_left, dist_top, dist_right, dist_bottom, size // 2)
    sub = max(sub, 0)
    top_left_x, top_left_y = start_x - sub, start_y - sub
    final_size = size + 2 * sub
    max_size = min(img_w, img_h)
    if final_size > max_size:
        final_size = max_size
    top_left_x, top_left_y = max(0, top_left_x), max(0, top_left_y)
    top_left_x, top_left_y = min(top_left_x, img_w - final_size), min(top_left_y, img_h - final_size)
    top_left_x, top_left_y = max(0, top_left_x), max(0, top_left_y)
    return int(top_left_x), int(top_left_y), int(top_left_x + final_size), int(top_left_y + final_size)


class RefPredictor:
    """PROVE's DinoPredictor."""

    def __init__(self, model, processor, device, target_size=448):
        self.model, self.processor, self.device, self.target_size, self.patch_size = (
            model, processor, device, target_size, 14)

    @torch.no_grad()
    def set_image(self, image):
        orig_h, orig_w = image.shape[:2]
        scale = self.target_size / max(orig_h, orig_w)
        new_h, new_w = int(orig_h * scale), int(orig_w * scale)
        self._resize_hw = (new_h, new_w)
        image_resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_h = (self.patch_size - (new_h % self.patch_size)) % self.patch_size
        pad_w = (self.patch_size - (new_w % self.patch_size)) % self.patch_size
        self._pad_hw = (pad_h, pad_w)
        image_padded = cv2.copyMakeBorder(image_resized, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT,
                                          value=(123, 116, 103))
        inputs = self.processor(images=image_padded, return_tensors="pt", do_resize=False, do_center_crop=False)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        self.features = self.model(**inputs).last_hidden_state
        h_feat, w_feat = (new_h + pad_h) // self.patch_size, (new_w + pad_w) // self.patch_size
        assert h_feat * w_feat == self.features.shape[1] - 1
        self._feat_hw = (h_feat, w_feat)

    def _mask_small(self, mask):
        (new_h, new_w), (pad_h, pad_w) = self._resize_hw, self._pad_hw
        m = cv2.resize(mask.astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        m = cv2.copyMakeBorder(m, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
        m = torch.as_tensor(m, device=self.device).float()[None, None, ...]
        return torch.nn.functional.adaptive_max_pool2d(m, output_size=self._feat_hw)

    @torch.no_grad()
    def get_convolutional_metrics(self, image, mask, kernel_size=32, stride=16, tau_mmd=0.3):
        self.set_image(image)
        patch_features = self.features[:, 1:, :]
        b, _, c = patch_features.shape
        h_feat, w_feat = self._feat_hw
        features_spatial = patch_features.permute(0, 2, 1).view(b, c, h_feat, w_feat)
        scale_factor = max(h_feat, w_feat) / 64.0
        adj_kernel_size = max(1, int(kernel_size * scale_factor))
        adj_stride = max(1, int(stride * scale_factor))
        mask_small = self._mask_small(mask)
        features_flat_global = features_spatial.view(c, -1).permute(1, 0)
        global_bg_feats = features_flat_global[(mask_small.view(-1) == 0)]
        feat_patches = torch.nn.functional.unfold(features_spatial, kernel_size=adj_kernel_size, stride=adj_stride)
        mask_patches = torch.nn.functional.unfold(mask_small, kernel_size=adj_kernel_size, stride=adj_stride)
        l_patches, k_sq = feat_patches.shape[-1], adj_kernel_size * adj_kernel_size
        feat_flat = feat_patches.view(1, c, k_sq, l_patches).permute(3, 1, 2, 0).squeeze(-1)
        mask_flat = mask_patches.view(1, 1, k_sq, l_patches).permute(3, 1, 2, 0).squeeze(-1).squeeze(1)
        valid_scores = []
        for i in range(l_patches):
            curr_mask = mask_flat[i]
            n_fg, n_bg = (curr_mask > 0).sum(), (curr_mask == 0).sum()
            if n_fg > 5 and n_bg > 5:
                curr_feat = feat_flat[i]
                valid_scores.append(self.compute_rbf_mmd(curr_feat[:, curr_mask > 0].T,
                                                         curr_feat[:, curr_mask == 0].T))
            elif n_fg > 5 and n_bg == 0:
                curr_feat = feat_flat[i]
                if global_bg_feats.shape[0] > 0:
                    valid_scores.append(self.compute_rbf_mmd(curr_feat[:, curr_mask > 0].T, global_bg_feats))
        if not valid_scores:
            return {"g_mmd": float("nan")}
        avg_raw_mmd = sum(valid_scores) / len(valid_scores)
        safe_raw_mmd = max(0.0, avg_raw_mmd)
        return {"g_mmd": math.exp(-safe_raw_mmd / max(1e-12, tau_mmd))}

    @torch.no_grad()
    def compute_rts_on_patch_mask_only_conv(self, crop_img_t, crop_img_t1, crop_mask_t, crop_mask_t1,
                                            kernel_size=32, stride=16, min_points=5):
        self.set_image(crop_img_t)
        patch_features_t = self.features[:, 1:, :]
        b, _, c = patch_features_t.shape
        h_feat, w_feat = self._feat_hw
        feat_spatial_t = patch_features_t.permute(0, 2, 1).view(b, c, h_feat, w_feat)
        m_t_small, m_t1_small = self._mask_small(crop_mask_t), self._mask_small(crop_mask_t1)
        self.set_image(crop_img_t1)
        feat_spatial_t1 = self.features[:, 1:, :].permute(0, 2, 1).view(b, c, h_feat, w_feat)
        scale_factor = max(h_feat, w_feat) / 64.0
        adj_kernel_size = max(1, int(kernel_size * scale_factor))
        adj_stride = max(1, int(stride * scale_factor))
        mask_in = ((m_t_small > 0.5) & (m_t1_small > 0.5)).float()
        unfold = torch.nn.functional.unfold
        feat_patches_t = unfold(feat_spatial_t, kernel_size=adj_kernel_size, stride=adj_stride)
        feat_patches_t1 = unfold(feat_spatial_t1, kernel_size=adj_kernel_size, stride=adj_stride)
        mask_patches = unfold(mask_in, kernel_size=adj_kernel_size, stride=adj_stride)
        l_patches, k_sq = feat_patches_t.shape[-1], adj_kernel_size * adj_kernel_size
        feat_flat_t = feat_patches_t.view(1, c, k_sq, l_patches).permute(3, 1, 2, 0).squeeze(-1)
        feat_flat_t1 = feat_patches_t1.view(1, c, k_sq, l_patches).permute(3, 1, 2, 0).squeeze(-1)
        mask_flat = mask_patches.view(1, 1, k_sq, l_patches).permute(3, 1, 2, 0).squeeze(-1).squeeze(1)
        valid_scores = []
        for i in range(l_patches):
            fg_idx = mask_flat[i] > 0.5
            if fg_idx.sum().item() < min_points:
                continue
            x_t, x_t1 = feat_flat_t[i][:, fg_idx].T, feat_flat_t1[i][:, fg_idx].T
            if x_t.shape[0] < min_points:
                continue
            valid_scores.append(self.compute_rbf_mmd(x_t, x_t1).item())
        if not valid_scores:
            return float("nan")
        return sum(valid_scores) / len(valid_scores)

    def compute_rbf_mmd(self, x, y, sigma_list=(10,)):
        x = torch.nn.functional.normalize(x, p=2, dim=1)
        y = torch.nn.functional.normalize(y, p=2, dim=1)
        xx, yy, xy = torch.cdist(x, x).pow(2), torch.cdist(y, y).pow(2), torch.cdist(x, y).pow(2)
        mmd_val = 0.0
        for sigma in sigma_list:
            gamma = 1.0 / (2.0 * sigma**2)
            k_xx, k_yy = torch.exp(-gamma * xx).mean(), torch.exp(-gamma * yy).mean()
            k_xy = torch.exp(-gamma * xy).mean()
            mmd_val += k_xx + k_yy - 2 * k_xy
        return mmd_val / len(sigma_list) * 1000


def ref_rc_s(image, mask, predictor):
    temp_mask = np.array(Image.fromarray(mask))
    if temp_mask.ndim == 3:
        temp_mask = np.array(Image.fromarray(temp_mask).convert("L"))
    binary_image_global = (temp_mask > 127).astype(np.uint8) * 255
    lab = label(binary_image_global, connectivity=1)
    regions = regionprops(lab)
    if not regions:
        return None
    min_area = 200
    max_area = max(r.area for r in regions)
    if max_area < min_area:
        min_area = max_area
    comps_data = []
    for r in regions:
        if r.area < min_area:
            continue
        square_info = ref_find_bounding_square_1_3((lab == r.label).astype(np.uint8) * 255)
        if square_info:
            comps_data.append(square_info)
    if not comps_data:
        return None
    total_score, total_weight = 0.0, 0.0
    for x1, y1, x2, y2 in comps_data:
        mask_fg = np.array(Image.fromarray(mask[y1:y2, x1:x2]).convert("L"))
        metrics = predictor.get_convolutional_metrics(image[y1:y2, x1:x2], mask_fg, kernel_size=16, stride=8,
                                                      tau_mmd=3)
        total_score += metrics["g_mmd"]
        total_weight += 1
    return total_score / total_weight


def ref_rc_t(image_t, image_t1, mask_t, mask_t1, predictor):
    def _bin(m):
        if m.ndim == 3:
            m = m[:, :, 0]
        return (m.astype(np.uint8, copy=False) > 127).astype(np.uint8) * 255

    bin_t, bin_t1 = _bin(mask_t), _bin(mask_t1)
    rect = ref_find_bounding_square_1_3(cv2.bitwise_or(bin_t, bin_t1))
    if rect is None:
        return None
    x1, y1, x2, y2 = rect
    return predictor.compute_rts_on_patch_mask_only_conv(image_t[y1:y2, x1:x2], image_t1[y1:y2, x1:x2],
                                                         bin_t[y1:y2, x1:x2], bin_t1[y1:y2, x1:x2],
                                                         kernel_size=16, stride=8)


def as_value(score) -> float:
    return float("nan") if score is None else float(score)


# ------------------------------------------------------------------------------------------------------------------
# Random cases


def random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """uint8 mask: a few blobs (some touching edges, some below 200 px) and faint 1..127 'codec noise' pixels."""
    mask = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 4)):
        cx, cy = int(rng.integers(-10, w + 10)), int(rng.integers(-10, h + 10))
        axes = (int(rng.integers(3, w // 3)), int(rng.integers(3, h // 3)))
        cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    if rng.random() < 0.5:
        x, y = int(rng.integers(0, w - 12)), int(rng.integers(0, h - 12))
        mask[y:y + 10, x:x + 12] = 255  # 120 px: dropped unless it is the largest
    noise = rng.random((h, w)) < 0.02
    mask[noise & (mask == 0)] = rng.integers(1, 128, int((noise & (mask == 0)).sum()), dtype=np.uint8)
    return mask


def random_frame(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Smooth colour field plus noise, uint8 RGB."""
    small = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
    smooth = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    return np.clip(smooth + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)


SIZES = [(128, 128), (96, 160), (160, 112), (72, 72)]


# ------------------------------------------------------------------------------------------------------------------
# (a) boxes


@pytest.mark.parametrize(("shape", "rows", "cols", "expected"), [
    ((100, 100), (40, 50), (30, 60), (20, 20, 70, 70)),  # grown by round(30 / 3) = 10 on every side
    ((100, 100), (10, 30), (0, 20), (0, 10, 20, 30)),  # touches the left edge: not grown at all
    ((100, 100), (2, 12), (45, 55), (43, 0, 57, 14)),  # 2 px from the top: grown by 2, not round(10 / 3) = 3
    ((50, 50), (10, 14), (11, 14), (9, 9, 15, 15)),  # centre 12.5 - 2 = 10.5 rounds to even: 10, not 11
    ((64, 64), (54, 64), (60, 64), (54, 54, 64, 64)),  # bottom-right corner: square shifted inside
    ((90, 90), (20, 70), (25, 65), (3, 3, 87, 87)),  # 50 px in a 90 px frame: round(50 / 3) = 17
    ((60, 120), (10, 50), (10, 100), (10, 0, 70, 60)),  # wider than the frame is tall: cut to 60, top-aligned
])
def test_bounding_square_by_hand(shape, rows, cols, expected):
    mask = np.zeros(shape, bool)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = True
    assert prove.bounding_square(mask) == expected
    assert ref_find_bounding_square_1_3(mask.astype(np.uint8) * 255) == expected
    assert prove.bounding_square(np.zeros(shape, np.uint8)) is None


def test_bounding_square_matches_prove_on_random_masks():
    rng = np.random.default_rng(3)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(8, 80, 2))
        mask = np.zeros((h, w), np.uint8)
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        mask[y0:y0 + int(rng.integers(1, h)), x0:x0 + int(rng.integers(1, w))] = 255
        box = prove.bounding_square(mask)
        assert box == ref_find_bounding_square_1_3(mask)
        x1, y1, x2, y2 = box
        assert x2 - x1 == y2 - y1 and 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


def test_component_boxes_4_connectivity_and_small_components():
    mask = np.zeros((100, 100), np.uint8)
    mask[10:30, 10:30] = 255  # 400 px: kept
    mask[60:70, 60:70] = 255  # 100 px: below min(200, 400), dropped
    mask[30, 30] = 255  # touches the big square only diagonally: its own 1 px component, dropped
    mask[80:90, 5:15] = 100  # <= 127: not in the mask
    assert prove.component_boxes(mask) == [(3, 3, 37, 37)]
    small = np.zeros((50, 50), bool)
    small[5:10, 5:10] = small[30:33, 30:33] = True  # all below 200: keep those of the largest area (25 px)
    assert prove.component_boxes(small) == [(3, 3, 12, 12)]
    assert prove.component_boxes(np.zeros((8, 8), bool)) == []


# ------------------------------------------------------------------------------------------------------------------
# (b) the module equals PROVE's loop


@pytest.fixture(scope="module")
def ref_predictor(features: prove.DinoFeatures) -> RefPredictor:
    return RefPredictor(features.model, features.processor, features.device)


def test_rc_s_and_rc_t_equal_prove_reference(features, ref_predictor):
    rng = np.random.default_rng(11)
    finite_s = finite_t = 0
    for case in range(6):
        h, w = SIZES[case % len(SIZES)]
        frame_a, frame_b = random_frame(rng, h, w), random_frame(rng, h, w)
        frame_b = ((frame_a.astype(np.uint16) * 3 + frame_b) // 4).astype(np.uint8)  # correlated next frame
        mask_a = random_mask(rng, h, w)
        mask_b = np.roll(mask_a, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), axis=(0, 1))
        if case == 5:  # a mask decoded from an RGB video: RC-S takes luma, RC-T channel 0
            mask_a = np.stack([mask_a, np.roll(mask_a, 3, 1), mask_a // 2], axis=-1)
            mask_b = np.stack([mask_b, mask_b, np.roll(mask_b, -3, 0)], axis=-1)
        ours = prove.rc_s(frame_a, mask_a, features)
        theirs = as_value(ref_rc_s(frame_a, mask_a, ref_predictor))
        assert ours == pytest.approx(theirs, abs=1e-6, nan_ok=True), case
        assert math.isnan(ours) or 0.0 < ours <= 1.0
        finite_s += not math.isnan(ours)
        ours = prove.rc_t(frame_a, frame_b, mask_a, mask_b, features)
        theirs = as_value(ref_rc_t(frame_a, frame_b, mask_a, mask_b, ref_predictor))
        assert ours == pytest.approx(theirs, abs=1e-6, nan_ok=True), case
        finite_t += not math.isnan(ours)
    assert finite_s >= 4 and finite_t >= 4  # the comparison was not NaN == NaN


def test_rc_s_counts_faint_mask_values_inside_the_crop_as_removed(features, ref_predictor):
    """Inside a crop PROVE's foreground is raw mask > 0: faint (1..127) pixels change RC-S, as in PROVE."""
    rng = np.random.default_rng(5)
    frame = random_frame(rng, 128, 128)
    mask = np.zeros((128, 128), np.uint8)
    mask[40:80, 40:80] = 255
    faint = mask.copy()
    faint[40:80, 82:96] = 60  # not a component (<= 127) but foreground inside the crop
    assert prove.component_boxes(faint) == prove.component_boxes(mask)
    with_faint = prove.rc_s(frame, faint, features)
    assert with_faint == pytest.approx(ref_rc_s(frame, faint, ref_predictor), abs=1e-6)
    assert with_faint != pytest.approx(prove.rc_s(frame, mask, features), abs=1e-6)


# ------------------------------------------------------------------------------------------------------------------
# (c) properties


def brick_tiled(size: int = 448) -> np.ndarray:
    """(size, size, 3) uint8: one 14 x 14 brick patch repeated, aligned with DINOv2's patch grid."""
    tile = brick()[100:114, 200:214]
    return np.repeat(np.tile(tile, (size // 14, size // 14))[:, :, None], 3, axis=2)


def test_rc_s_is_one_when_the_fill_continues_the_texture(tiny_dir):
    """What holds for any weights: without position embeddings DINOv2 treats patches as a set, so equal patches get
    equal features. A fill that continues a patch-periodic texture exactly makes every foreground and background
    feature equal: MMD 0, RC-S at its maximum 1. A flat fill differs from the texture: MMD > 0, RC-S < 1."""
    positionless = prove.DinoFeatures(tiny_dir)
    positionless.model.embeddings.position_embeddings.data.zero_()
    texture = brick_tiled()
    mask = np.zeros(texture.shape[:2], bool)
    mask[:, 140:300] = True  # full height: its square is the whole 448 px frame, fed to DINOv2 unresized
    assert prove.bounding_square(mask) == (0, 0, 448, 448)
    flat = texture.copy()
    flat[mask] = (200, 40, 40)
    continued = prove.rc_s(texture, mask, positionless)
    assert continued == pytest.approx(1.0, abs=1e-3)
    assert prove.rc_s(flat, mask, positionless) < continued - 0.05


def test_rc_s_in_range_and_rc_t_zero_for_identical_frames(features):
    rng = np.random.default_rng(8)
    for _ in range(3):
        frame = random_frame(rng, 112, 112)
        mask_a = random_mask(rng, 112, 112)
        mask_b = np.roll(mask_a, 4, axis=1)
        value = prove.rc_s(frame, mask_a, features)
        assert math.isnan(value) or 0.0 < value <= 1.0
        rc_t = prove.rc_t(frame, frame.copy(), mask_a, mask_b, features)
        assert math.isnan(rc_t) or rc_t == 0.0
    mask = np.zeros((112, 112), bool)
    mask[30:80, 20:70] = True
    assert prove.rc_t(frame, frame.copy(), mask, np.roll(mask, 5, axis=0), features) == 0.0
    assert prove.rc_t(frame, np.roll(frame, 9, axis=1), mask, mask, features) > 0.0


def test_nan_when_nothing_qualifies(features):
    rng = np.random.default_rng(2)
    frame, empty = random_frame(rng, 96, 96), np.zeros((96, 96), bool)
    assert math.isnan(prove.rc_s(frame, empty, features))
    assert math.isnan(prove.rc_t(frame, frame, empty, empty, features))
    left, right = empty.copy(), empty.copy()
    left[30:60, 5:30], right[30:60, 60:90] = True, True
    assert math.isnan(prove.rc_t(frame, frame, left, right, features))  # masks never overlap
    result = prove.score_clip(np.stack([frame, frame]), np.stack([empty, empty]), features)
    assert set(result) == {"rc_s", "rc_t"} and all(math.isnan(v) for v in result.values())


def test_score_clip_means_cap_and_resize(features, monkeypatch):
    rng = np.random.default_rng(4)
    frames = np.stack([random_frame(rng, 64, 64) for _ in range(4)])
    masks = np.zeros((4, 96, 96), bool)
    for t in range(4):
        masks[t, 30:70, 20 + 3 * t:60 + 3 * t] = True
    masks[0] = False  # frame 0 gives no RC-S and pair (0, 1) no RC-T: left out of the means
    big = np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_LINEAR) for f in frames])
    spatial = [prove.rc_s(big[t], masks[t], features) for t in range(4)]
    temporal = [prove.rc_t(big[t], big[t + 1], masks[t], masks[t + 1], features) for t in range(3)]
    assert math.isnan(spatial[0]) and math.isnan(temporal[0])
    result = prove.score_clip(frames, masks, features)
    assert result["rc_s"] == pytest.approx(np.mean(spatial[1:]), abs=1e-12)
    assert result["rc_t"] == pytest.approx(np.mean(temporal[1:]), abs=1e-12)
    assert prove.MAX_FRAMES == 81
    monkeypatch.setattr(prove, "MAX_FRAMES", 2)
    capped = prove.score_clip(frames, masks, features)  # frames 0 and 1 only
    assert capped["rc_s"] == pytest.approx(spatial[1], abs=1e-12) and math.isnan(capped["rc_t"])


# ------------------------------------------------------------------------------------------------------------------
# (d) weights, errors, imports


def test_missing_weights_say_what_to_do(tmp_path, monkeypatch, tiny_dir):
    monkeypatch.delenv(prove.ENV_VAR, raising=False)
    with pytest.raises(GenbenchError) as err:
        prove.DinoFeatures()
    message = str(err.value)
    assert "\n" not in message and prove.ENV_VAR in message and "facebook/dinov2-giant" in message
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vit"}))
    for folder in (tmp_path, tmp_path / "missing"):
        with pytest.raises(GenbenchError, match=r"not a DINOv2 checkpoint.*facebook/dinov2-giant") as err:
            prove.DinoFeatures(folder)
        assert "\n" not in str(err.value) and str(folder) in str(err.value)
    monkeypatch.setenv(prove.ENV_VAR, str(tiny_dir))
    assert prove.DinoFeatures(device="cpu").path == tiny_dir


def test_bad_inputs_raise():
    with pytest.raises(GenbenchError, match="frame"):
        prove.rc_s(np.zeros((8, 8), np.uint8), np.zeros((8, 8), bool), None)
    with pytest.raises(GenbenchError, match="mask"):
        prove.component_boxes(np.zeros((8, 8), np.float32))


def test_import_is_light():
    code = ("import sys, genbench.benchmark.prove; "
            "print(sorted(m for m in ('torch', 'transformers', 'cv2', 'skimage') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
