"""Metrics: LPIPS reproduces published values, PSNR and SSIM equal direct computations, the offline backbone."""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from genbench.benchmark import lpips_backbone as lb
from genbench.benchmark.metrics import FrameScorer, to_lpips_input
from genbench.benchmark.regions import removal_regions
from genbench.commands import _metrics
from genbench.commands import metrics as metrics_cmd
from genbench.errors import GenbenchError
from genbench.frames import write_video
from genbench.pixels import PSNR_CAP

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference" / "lpips"


@pytest.fixture(scope="module")
def scorer() -> FrameScorer:
    return FrameScorer("cpu")


def _frames(rng: np.random.Generator, shape: tuple[int, ...] = (3, 40, 48, 3)) -> tuple[np.ndarray, np.ndarray]:
    """A smooth-ish clip and a noisy, partly flat copy of it."""
    base = np.cumsum(rng.integers(-6, 7, size=shape), axis=2).clip(0, 255).astype(np.uint8)
    other = np.clip(base.astype(int) + rng.integers(-25, 26, size=shape), 0, 255).astype(np.uint8)
    other[:, :10, :12] = 77  # flat patches: the variance terms cancel there
    base[:, 5:12, :9] = 77
    return base, other


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference/lpips is absent")
def test_published_lpips_and_psnr_values_reproduced(scorer: FrameScorer) -> None:
    expected = json.loads((REFERENCE / "expected.json").read_text())
    assert len(expected["pairs"]) >= 7
    for pair in expected["pairs"]:
        a, b = _read(REFERENCE / pair["a"]), _read(REFERENCE / pair["b"])
        full = scorer.score(a[None], b[None])["full"]
        assert abs(full["lpips"][0] - pair["lpips_alex_v0.1"]) <= 1e-3, pair
        if "psnr_rgb" in pair:  # printed with 2 decimals
            assert abs(full["psnr"][0] - pair["psnr_rgb"]) <= 0.005 + 1e-9, pair


def test_psnr_equals_direct_numpy(scorer: FrameScorer) -> None:
    rng = np.random.default_rng(0)
    a, b = _frames(rng)
    mask = rng.random(a.shape[:3]) < 0.3
    mask[1] = False  # an empty region in one frame
    scores = scorer.score(a, b, {"some": mask})
    for t in range(len(a)):
        x, y = a[t].astype(np.float64) / 255.0, b[t].astype(np.float64) / 255.0
        mse = np.mean((x - y) ** 2)
        assert scores["full"]["psnr"][t] == pytest.approx(10 * np.log10(1.0 / mse), abs=1e-9)
        if mask[t].any():
            mse_r = np.mean(((x - y) ** 2)[mask[t]])
            assert scores["some"]["psnr"][t] == pytest.approx(10 * np.log10(1.0 / mse_r), abs=1e-9)
        else:
            assert all(np.isnan(scores["some"][m][t]) for m in ("psnr", "ssim", "lpips"))


def test_ssim_equals_scikit_image(scorer: FrameScorer) -> None:
    rng = np.random.default_rng(1)
    a, b = _frames(rng)
    everywhere = np.ones(a.shape[:3], dtype=bool)
    scores = scorer.score(a, b, {"all": everywhere})
    for t in range(len(a)):
        want = structural_similarity(a[t] / 255.0, b[t] / 255.0, channel_axis=-1, data_range=1.0)
        assert scores["full"]["ssim"][t] == pytest.approx(want, abs=1e-9)
        assert scores["all"]["ssim"][t] == pytest.approx(want, abs=1e-9)  # region mean over the interior


def test_lpips_matches_the_official_forward(scorer: FrameScorer) -> None:
    import lpips

    rng = np.random.default_rng(2)
    a, b = _frames(rng, (2, 64, 64, 3))
    scores = scorer.score(a, b)
    x = torch.cat([lpips.im2tensor(f) for f in a])
    y = torch.cat([lpips.im2tensor(f) for f in b])
    with torch.no_grad():
        official = scorer.lpips(x, y).flatten().numpy()
    np.testing.assert_allclose(scores["full"]["lpips"], official, atol=1e-6)


def test_lpips_input_scaling_is_bit_identical_to_lpips_im2tensor() -> None:
    import lpips

    values = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    ours = to_lpips_input(torch.from_numpy(values).permute(2, 0, 1)[None])
    assert torch.equal(ours, lpips.im2tensor(values))


def test_identical_frames_score_perfectly(scorer: FrameScorer) -> None:
    a, _ = _frames(np.random.default_rng(3))
    scores = scorer.score(a, a.copy(), {"half": np.ones(a.shape[:3], dtype=bool)})
    for region in ("full", "half"):
        assert np.all(scores[region]["psnr"] == PSNR_CAP)
        assert np.all(scores[region]["lpips"] == 0.0)
        np.testing.assert_allclose(scores[region]["ssim"], 1.0, atol=1e-12)


def test_small_or_mismatched_frames_are_refused(scorer: FrameScorer) -> None:
    tiny = np.zeros((1, 16, 16, 3), dtype=np.uint8)
    with pytest.raises(GenbenchError, match="at least 31x31"):
        scorer.score(tiny, tiny)
    a = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    with pytest.raises(GenbenchError, match="must both be"):
        scorer.score(a, np.zeros((2, 32, 32, 3), dtype=np.uint8))


def test_batches_give_the_same_scores_as_one_pass(scorer: FrameScorer) -> None:
    a, b = _frames(np.random.default_rng(4), (5, 32, 32, 3))
    mask = np.random.default_rng(5).random(a.shape[:3]) < 0.5
    whole = scorer.score(a, b, {"m": mask})
    small = FrameScorer.__new__(FrameScorer)
    small.__dict__.update(scorer.__dict__, batch_pixels=2 * 32 * 32)  # 2 frames per batch
    batched = small.score(a, b, {"m": mask})
    for region in whole:
        for metric, values in whole[region].items():
            np.testing.assert_allclose(batched[region][metric], values, atol=1e-6)


def _three_regions(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """object / effect / preserve: a blob, a ring around it and the rest, as a removal has them."""
    _, h, w = shape
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    obj = np.broadcast_to(r < h / 6, shape).copy()
    effect = np.broadcast_to((r >= h / 6) & (r < h / 3), shape).copy()
    return {"object": obj, "effect": effect, "preserve": ~obj & ~effect}


@pytest.mark.parametrize("region", ["object", "effect", "preserve"])
def test_a_region_scores_only_its_own_pixels(scorer: FrameScorer, region: str) -> None:
    """Two predictions equal inside a region score identically there, whatever they do outside it."""
    rng = np.random.default_rng(11)
    truth, _ = _frames(rng, (3, 48, 48, 3))
    regions = _three_regions(truth.shape[:3])
    inside = regions[region]
    good = np.clip(truth.astype(int) + rng.integers(-30, 31, truth.shape), 0, 255).astype(np.uint8)
    other = good.copy()
    other[~inside] = rng.integers(0, 256, size=(int((~inside).sum()), 3), dtype=np.uint8)  # garbage elsewhere
    a, b = scorer.score(good, truth, regions), scorer.score(other, truth, regions)
    for metric in ("psnr", "ssim", "lpips"):
        np.testing.assert_allclose(a[region][metric], b[region][metric], rtol=0, atol=1e-6, err_msg=metric)
    assert not np.allclose(a["full"]["lpips"], b["full"]["lpips"])  # the frames do differ
    # and a region predicted exactly scores perfectly, however wrong the rest is
    exact = truth.copy()
    exact[~inside] = other[~inside]
    perfect = scorer.score(exact, truth, regions)[region]
    assert np.all(perfect["psnr"] == PSNR_CAP) and np.all(perfect["lpips"] == 0) and np.all(perfect["ssim"] == 1)


def test_region_scores_equal_a_direct_composite_through_the_lpips_package_and_skimage(scorer: FrameScorer) -> None:
    """The second computation: build the composite in numpy, run lpips.LPIPS(spatial=True) and skimage's SSIM
    map on it, and average them over the region."""
    rng = np.random.default_rng(12)
    truth, pred = _frames(rng, (2, 40, 48, 3))
    regions = _three_regions(truth.shape[:3])
    scores = scorer.score(pred, truth, regions)
    model = scorer.lpips
    model.spatial = True
    try:
        for name, mask in regions.items():
            for t in range(2):
                comp = np.where(mask[t][..., None], pred[t], truth[t])
                with torch.no_grad():
                    lp_map = model(lpips_tensor(comp), lpips_tensor(truth[t]))[0, 0].numpy()
                _, s_map = structural_similarity(comp / 255.0, truth[t] / 255.0, channel_axis=-1, data_range=1.0,
                                                 full=True)
                inner = np.zeros_like(mask[t])
                inner[3:-3, 3:-3] = mask[t][3:-3, 3:-3]
                assert scores[name]["lpips"][t] == pytest.approx(lp_map[mask[t]].mean(), abs=1e-6), name
                assert scores[name]["ssim"][t] == pytest.approx(s_map.mean(-1)[inner].mean(), abs=1e-9), name
    finally:
        model.spatial = False


def lpips_tensor(image: np.ndarray) -> torch.Tensor:
    import lpips

    return lpips.im2tensor(image)


def test_only_regions_that_need_a_composite_cost_an_alexnet_pass() -> None:
    scorer = FrameScorer("cpu")
    truth, pred = _frames(np.random.default_rng(13), (2, 40, 40, 3))
    regions = _three_regions(truth.shape[:3])
    only_object = truth.copy()
    only_object[regions["object"]] = pred[regions["object"]]  # changes lie inside the object region only
    scores = scorer.score(only_object, truth, regions)
    assert scorer.passes == 2 * 2  # truth and prediction per frame: object reuses the prediction, the rest exact
    assert np.all(scores["effect"]["lpips"] == 0) and np.all(scores["preserve"]["lpips"] == 0)
    scorer.score(pred, truth, regions)
    assert scorer.passes == 4 + 2 * (2 + 3)  # now every region needs its own composite
    scorer.score(truth, truth.copy(), regions)
    assert scorer.passes == 14 and scorer.frames == 6  # an exact clip costs nothing


def test_removal_regions_partition_the_frame() -> None:
    frames = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    target = frames.copy()
    target[0, 0, 0] = 3  # differs by 3 > 2: effect
    target[0, 0, 1] = 2  # differs by 2: not an effect
    target[0, 3, 3] = 50  # inside the object region: object, not effect
    tri = np.full((1, 4, 4), 128, dtype=np.uint8)
    tri[0, 3, 3] = 0
    regions = removal_regions(frames, target, tri)
    assert regions["effect"].sum() == 1 and regions["effect"][0, 0, 0]
    assert regions["object"].sum() == 1 and regions["object"][0, 3, 3]
    total = sum(m.astype(int) for m in regions.values())
    assert np.all(total == 1)
    assert "dynamics" not in regions  # only samples that record a changed region have one
    # a changed-dynamics region is scored apart: out of effect (and its kinds) and preserve, never the object's
    dynamics = np.zeros((1, 4, 4), bool)
    dynamics[0, 0, :2] = True
    dynamics[0, 3, 3] = True
    apart = removal_regions(frames, target, tri, kinds={"shadow": np.ones((1, 4, 4), bool)}, dynamics=dynamics)
    assert not apart["effect"].any() and not apart["effect:shadow"].any()
    assert apart["dynamics"].sum() == 2 and apart["object"][0, 3, 3]
    total = sum(apart[r].astype(int) for r in ("object", "effect", "preserve", "dynamics"))
    assert np.all(total == 1)


# -- the offline backbone ------------------------------------------------------------------------------

def test_unpickler_refuses_anything_but_numpy() -> None:
    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        lb.safe_unpickle(pickle.dumps({"x": Evil()}))
    arrays = {"AlexNet_0": {"Conv_0": {"kernel": np.ones((2, 2, 3, 4), np.float32)}}}
    assert np.array_equal(lb.safe_unpickle(pickle.dumps(arrays, protocol=3))["AlexNet_0"]["Conv_0"]["kernel"],
                          np.ones((2, 2, 3, 4)))


def test_conversion_maps_flax_hwio_to_torchvision_oihw() -> None:
    rng = np.random.default_rng(0)
    shapes = [(11, 11, 3, 64), (5, 5, 64, 192), (3, 3, 192, 384), (3, 3, 384, 256), (3, 3, 256, 256)]
    ckpt = {"AlexNet_0": {f"Conv_{i}": {"kernel": rng.standard_normal(s).astype(np.float32),
                                        "bias": rng.standard_normal(s[3]).astype(np.float32)}
                          for i, s in enumerate(shapes)}}
    out = lb.convert_ckpt(ckpt)
    assert sorted(out) == sorted(lb.FEATURE_KEYS)
    kernel = ckpt["AlexNet_0"]["Conv_1"]["kernel"]
    assert out["features.3.weight"].shape == (192, 64, 5, 5)
    assert out["features.3.weight"][7, 5, 1, 2] == kernel[1, 2, 5, 7]  # [o, i, y, x] == [y, x, i, o]
    assert np.array_equal(out["features.10.bias"], ckpt["AlexNet_0"]["Conv_4"]["bias"])
    with pytest.raises(GenbenchError, match="expected AlexNet layout"):
        lb.convert_ckpt({"AlexNet_0": {}})


def test_cache_is_verified_and_missing_backbone_says_how_to_fix(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    backbone = lb.load_features()  # the real one (cache made by `make install`)
    monkeypatch.setenv("GENBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(lb, "PIP", ("/nonexistent/python",))
    with pytest.raises(GenbenchError, match=r"python -m genbench\.benchmark\.lpips_backbone"):
        lb.load_features()
    lb._save_cache(backbone.tensors, lb.cache_path())  # a good cache loads with no network
    assert lb.load_features().digest == lb.CONVERTED_DIGEST
    tampered = dict(backbone.tensors)
    tampered["features.0.bias"] = tampered["features.0.bias"] + 1e-3
    lb._save_cache(tampered, lb.cache_path())  # a cache that is not the official one is refused
    with pytest.raises(GenbenchError, match="not available offline"):
        lb.load_features()


# -- genbench metrics A B ------------------------------------------------------------------------------

def _metrics_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _metrics(parser)
    return parser.parse_args(list(argv))


def test_metrics_command_on_images_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _frames(np.random.default_rng(6), (2, 32, 40, 3))
    write_video(tmp_path / "a", a)
    write_video(tmp_path / "b", b)
    assert metrics_cmd.run(_metrics_args(str(tmp_path / "a"), str(tmp_path / "b"), "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 2 and report["width"] == 40
    x, y = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    direct = 10 * np.log10(1 / np.mean((x - y) ** 2))  # a clip's score: the PSNR of its pooled MSE
    assert report["psnr"] == pytest.approx(direct, abs=1e-9)
    assert 0 < report["lpips"] < 1 and 0 < report["ssim"] < 1
    assert metrics_cmd.run(_metrics_args(str(tmp_path / "a" / "00000.png"), str(tmp_path / "b" / "00000.png"))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["PSNR", "SSIM", "LPIPS"]
    assert float(lines[1].split()[1]) == pytest.approx(report["per_frame"]["psnr"][0], abs=1e-4)
    with pytest.raises(GenbenchError, match="must match"):
        metrics_cmd.run(_metrics_args(str(tmp_path / "a"), str(tmp_path / "b" / "00000.png")))
