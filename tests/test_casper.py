"""Casper: the model, training (loss goes down, resume is exact), checkpoints and inference."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from genbench.contract import TRIMASK_PRESERVE
from genbench.errors import GenbenchError
from genbench.methods import build_method
from genbench.models.casper.checkpoint import from_pretrained, read_config, save_pretrained
from genbench.models.casper.config import CONFIGS, CasperConfig
from genbench.models.casper.data import make_batch, open_sources
from genbench.models.casper.model import CasperNet, TemporalMix
from genbench.models.casper.pipeline import CasperPipeline, training_scheduler, window_starts
from genbench.models.casper.train import Trainer, TrainSettings
from genbench.models.threads import torch_threads
from genbench.samples import load_removal, removal_samples

MICRO = CasperConfig(name="micro", channels=(8, 16), attention_heads=2, time_embed_dim=16, frames=4, crop=16,
                     batch_size=2, learning_rate=3e-3, prefill="none")
MICRO_CV2 = replace(MICRO, name="micro-cv2", prefill="cv2")


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One CPU thread (fast on a shared machine), restored after each test."""
    with torch_threads(1):
        yield


def _settings(data: Path, out: Path, steps: int, **kw: object) -> TrainSettings:
    kw.setdefault("config", MICRO)
    return TrainSettings(data=[data], out=out, steps=steps, warmup=0, checkpoint_every=0, checkpoint_minutes=1e9,
                         log_every=0, **kw)


def _clip(root: Path) -> tuple[np.ndarray, np.ndarray]:
    item = load_removal(root, removal_samples(root, "train")[0], None, target=False)
    return item.frames, item.trimask


def _model_that_changes_every_pixel() -> CasperNet:
    torch.manual_seed(2)
    model = CasperNet(MICRO_CV2).eval()
    for p in model.conv_out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return model


def test_untrained_model_is_the_identity() -> None:
    torch.manual_seed(0)
    model = CasperNet(MICRO)
    video = torch.rand(2, 3, 5, 16, 32) * 2 - 1
    out = model(torch.randn_like(video), video, torch.zeros(2, 2, 5, 16, 32), torch.tensor([3, 999]))
    assert out.shape == video.shape and torch.equal(out, video)
    with pytest.raises(ValueError, match="multiples of 2"):
        model(video[..., :15], video[..., :15], torch.zeros(2, 2, 5, 16, 31)[..., :15], torch.tensor([0, 0]))


def test_temporal_mix_is_a_replicate_padded_conv1d_at_every_pixel() -> None:
    """The mix runs as a (k, 1) conv2d over whole clips; recomputed here pixel by pixel with its Conv1d."""
    torch.manual_seed(0)
    mix = TemporalMix(6, 3)
    torch.nn.init.normal_(mix.conv.weight)
    torch.nn.init.normal_(mix.conv.bias)
    frames, x = 5, torch.randn(2 * 5, 6, 4, 3)
    y = torch.nn.functional.silu(mix.norm(x)).reshape(2, frames, 6, 4, 3)
    expected = torch.empty_like(y)
    for b, i, j in np.ndindex(2, 4, 3):
        expected[b, :, :, i, j] = mix.conv(y[b, :, :, i, j].T[None])[0].T  # (C, T) sequence -> (T, C)
    with torch.no_grad():
        assert torch.allclose(mix(x, frames), x + expected.reshape(x.shape), atol=1e-5)


@pytest.mark.parametrize(("prefill", "baseline"), [("cv2", "cv2-inpaint"), ("median", "median")])
def test_untrained_prefill_model_is_its_baseline(toy_dataset: Path, prefill: str, baseline: str) -> None:
    frames, trimask = _clip(toy_dataset)
    out = CasperPipeline(CasperNet(replace(MICRO_CV2, prefill=prefill)).eval(), steps=2)(frames, trimask)
    assert np.array_equal(out, build_method(baseline).remove(frames, trimask))
    assert not np.array_equal(out, frames)
    with pytest.raises(ValueError, match="needs the pre-filled clip"):
        x = torch.zeros(1, 3, 2, 16, 16)
        CasperNet(MICRO_CV2)(x, x, torch.zeros(1, 2, 2, 16, 16), torch.tensor([0]))


def test_configs_scale_and_round_trip() -> None:
    sizes = {name: sum(p.numel() for p in CasperNet(c).parameters()) for name, c in CONFIGS.items()
             if name != "base"}
    assert sizes["tiny"] < sizes["small"]
    for config in CONFIGS.values():
        assert CasperConfig.from_dict(config.to_dict()) == config


def test_training_reduces_the_loss(toy_dataset: Path, tmp_path: Path) -> None:
    """The weighted x0 loss on a fixed held-out batch drops after 25 steps on the toy data."""
    trainer = Trainer(_settings(toy_dataset, tmp_path / "ck", 25))
    batch = make_batch(open_sources([toy_dataset], None, "val", MICRO.prefill), 4, MICRO.frames, MICRO.crop,
                       np.random.default_rng(123), MICRO.change_weight)
    gen = torch.Generator().manual_seed(5)
    noise = torch.randn(batch["target"].shape, generator=gen)
    t = torch.tensor([50, 300, 600, 900])
    noisy = training_scheduler(MICRO).add_noise(batch["target"], noise, t)

    def held_out_loss() -> float:
        with torch.no_grad():
            pred = trainer.model(noisy, batch["video"], batch["trimask"], t)
        w = batch["weight"]
        return float((w * (pred - batch["target"]) ** 2).sum() / (w.sum() * 3))

    before = held_out_loss()
    trainer.run()
    after = held_out_loss()
    assert after < 0.7 * before, (before, after)
    assert np.mean(trainer.losses[-5:]) < np.mean(trainer.losses[:5])


def test_resume_repeats_an_uninterrupted_run_exactly(toy_dataset: Path, tmp_path: Path) -> None:
    straight = Trainer(_settings(toy_dataset, tmp_path / "a", 6, config=MICRO_CV2))
    straight.run()
    first = Trainer(_settings(toy_dataset, tmp_path / "b", 3, config=MICRO_CV2))
    first.run()
    resumed = Trainer(_settings(toy_dataset, tmp_path / "b", 6, config=MICRO_CV2, resume=True))
    assert resumed.step == 3
    resumed.run()
    assert resumed.losses == straight.losses
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    for a, b in zip(straight.ema.shadow_params, resumed.ema.shadow_params, strict=True):
        assert torch.equal(a, b)
    # the saved model is the EMA, and it loads back bit for bit
    loaded = from_pretrained(tmp_path / "b")
    for a, b in zip(straight.ema.shadow_params, loaded.parameters(), strict=True):
        assert torch.equal(a, b)
    config, info = read_config(tmp_path / "b")
    assert config == MICRO_CV2 and info["step"] == 6


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = CasperNet(MICRO)
    for p in model.parameters():
        torch.nn.init.normal_(p)
    loaded = from_pretrained(save_pretrained(model, tmp_path / "m"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(),
                                                 strict=True))
    half = from_pretrained(save_pretrained(model, tmp_path / "h", dtype=torch.float16))
    assert all(torch.equal(a.half().float(), b) for a, b in zip(model.state_dict().values(),
                                                                half.state_dict().values(), strict=True))


def test_window_starts_cover_the_clip() -> None:
    assert window_starts(5, 8, 4) == [0]
    assert window_starts(8, 8, 4) == [0]
    assert window_starts(11, 8, 4) == [0, 3]
    assert window_starts(20, 8, 4) == [0, 4, 8, 12]


def test_inference_keeps_shape_and_preserve_region(toy_dataset: Path) -> None:
    """Any size (not a multiple of the stride), more frames than the window, deterministic bytes."""
    model = _model_that_changes_every_pixel()
    frames, trimask = _clip(toy_dataset)
    frames = np.concatenate([frames, frames[::-1], frames])[:, :31, :29]  # 12 frames, 31x29
    trimask = np.concatenate([trimask, trimask[::-1], trimask])[:, :31, :29]
    assert (trimask == TRIMASK_PRESERVE).any()
    out = CasperPipeline(model, steps=2, seed=3)(frames, trimask)
    assert out.shape == frames.shape and out.dtype == np.uint8
    keep = trimask == TRIMASK_PRESERVE
    assert np.array_equal(out[keep], frames[keep])
    assert not np.array_equal(out[~keep], frames[~keep])
    assert np.array_equal(out, CasperPipeline(model, steps=2, seed=3)(frames, trimask))
    raw = CasperPipeline(model, steps=2, seed=3, copy_preserve=False)(frames, trimask)
    assert not np.array_equal(raw[keep], frames[keep])
    snapped = CasperPipeline(model, steps=2, seed=3, snap=255)(frames, trimask)  # only the remove region changes
    outside = trimask != 0
    assert np.array_equal(snapped[outside], frames[outside]) and np.array_equal(snapped[~outside], out[~outside])


def test_views_average_the_answers_on_the_clip_mirrored_and_reversed(toy_dataset: Path, tmp_path: Path) -> None:
    """`views` N is the mean of the answers on the first N views of the clip, each mapped back (default: the
    config's); with two views the answer on the mirrored clip is the mirrored answer; omnimatte's removal ensemble
    averages one-view draws (`remove_sample`), so its two views are Casper's two views; the preserve region stays
    the input's."""
    from genbench.models.casper.method import Casper
    from genbench.models.omnimatte.ensemble import Ensemble
    from genbench.models.views import average, seen

    model = _model_that_changes_every_pixel()
    frames, trimask = _clip(toy_dataset)
    one = CasperPipeline(model, steps=2, seed=3)
    answers = [seen(one(seen(frames, v), seen(trimask, v)), v) for v in range(4)]
    assert not np.array_equal(answers[0], answers[1])  # the model depends on which way it is shown the clip
    for views in (2, 4):
        assert np.array_equal(CasperPipeline(model, steps=2, seed=3, views=views)(frames, trimask),
                              average(answers[:views]))
    two = CasperPipeline(model, steps=2, seed=3, views=2)
    assert np.array_equal(two(seen(frames, 1), seen(trimask, 1)), seen(two(frames, trimask), 1))
    keep = trimask == TRIMASK_PRESERVE
    assert np.array_equal(two(frames, trimask)[keep], frames[keep])
    save_pretrained(model, tmp_path / "views1")
    save_pretrained(CasperNet(replace(MICRO_CV2, views=2)).eval(), tmp_path / "views2")
    (tmp_path / "views2" / "model.safetensors").write_bytes((tmp_path / "views1" / "model.safetensors").read_bytes())
    shipped_two = Casper(tmp_path / "views2", steps=2, seed=3)  # the config's views
    assert np.array_equal(shipped_two.remove(frames, trimask), average(answers[:2]))
    assert np.array_equal(Casper(tmp_path / "views2", steps=2, seed=3, views=1).remove(frames, trimask), answers[0])
    assert np.array_equal(Ensemble(Casper(tmp_path / "views1", steps=2, seed=3), views=2).remove(frames, trimask),
                          average(answers[:2]))
    assert np.array_equal(Ensemble(shipped_two, views=2).remove(frames, trimask), average(answers[:2]))
    assert np.array_equal(shipped_two.remove_sample(frames, trimask, 0), answers[0])  # a draw is one view
    assert np.array_equal(Ensemble(shipped_two).remove(frames, trimask), answers[0])
    with pytest.raises(GenbenchError, match="views must be 1 to 4"):
        Casper(tmp_path / "views1", views=5)
    with pytest.raises(GenbenchError, match="views must be 1 to 4"):
        replace(MICRO_CV2, views=0)


def test_plate_replaces_what_other_frames_see_steadily_and_nothing_else(toy_dataset: Path) -> None:
    from genbench.baselines.median import clean_plate, steady

    model = _model_that_changes_every_pixel()
    frames, trimask = _clip(toy_dataset)
    plain = CasperPipeline(model, steps=2, seed=3)(frames, trimask)
    hole = trimask == 0
    plate, seen = clean_plate(frames, hole)
    for spread in (0, 255):
        with_plate = CasperNet(replace(MICRO_CV2, plate=spread)).eval()
        with_plate.load_state_dict(model.state_dict())
        out = CasperPipeline(with_plate, steps=2, seed=3)(frames, trimask)
        kept = hole & steady(frames, hole, plate, spread)[None]
        assert kept.any() and np.array_equal(out[kept], np.broadcast_to(plate, out.shape)[kept])
        assert np.array_equal(out[~kept], plain[~kept]) and not np.array_equal(out[kept], plain[kept])
    assert (hole & seen[None]).sum() == kept.sum()  # 255 levels of spread: every seen pixel
    with pytest.raises(GenbenchError, match="plate must be 0-255"):
        replace(MICRO_CV2, plate=256)


def test_plate_steadiness_report_counts_what_the_plate_can_keep() -> None:
    """perf/plate_steadiness.py: a square moving over a still target is seen and steady everywhere it leaves;
    with the target's own pixels changing by 20 levels every other frame, none is steady and the change shows."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("plate_steadiness", Path(__file__).parents[1] / "perf" /
                                                  "plate_steadiness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frames = np.full((8, 16, 16, 3), 100, np.uint8)
    trimask = np.full((8, 16, 16), TRIMASK_PRESERVE, np.uint8)
    for t in range(8):
        trimask[t, 4:8, t:t + 4] = 0
    region = int((trimask == 0).any(0).sum())
    assert module.clip_row(frames, trimask, 8) == (region, region, region, 0.0)
    frames[1::2] += 20
    assert module.clip_row(frames, trimask, 8) == (region, region, 0, 10.0)


def test_shrink_keeps_every_remove_pixel_and_preserves_only_whole_blocks() -> None:
    from genbench.models.casper.scale import shrink

    trimask = np.full((2, 32, 48), 128, np.uint8)
    trimask[:, :16] = TRIMASK_PRESERVE
    trimask[:, 5, 7] = 0  # one remove pixel inside the preserved band
    frames = np.full((2, 32, 48, 3), 90, np.uint8)
    small_frames, small = shrink(frames, trimask, 24)
    assert small.shape == (2, 16, 24) and small_frames.shape == (2, 16, 24, 3)
    assert np.array_equal(small_frames, np.full_like(small_frames, 90))  # area averaging keeps a flat colour
    assert (small[:, 2, 3] == 0).all() and (small == 0).sum() == 2  # the block holding the remove pixel, no more
    assert (small[:, :8][small[:, :8] != 0] == TRIMASK_PRESERVE).all() and (small[:, 8:] == 128).all()


def test_fill_at_the_training_scale_changes_only_the_remove_region_outside_the_plate(toy_dataset: Path) -> None:
    """With fill_size set, the remove region where the plate is not kept is the upscaled sample of the shrunk
    clip; every other pixel is the native sample's; a frame no larger than fill_size is left alone."""
    import cv2

    from genbench.models.casper.prefill import static_plate
    from genbench.models.casper.scale import shrink

    frames, trimask = _clip(toy_dataset)
    model = _model_that_changes_every_pixel()
    native = CasperNet(replace(MICRO_CV2, plate=8)).eval()
    native.load_state_dict(model.state_dict())
    at_scale = CasperNet(replace(MICRO_CV2, plate=8, fill_size=16)).eval()
    at_scale.load_state_dict(model.state_dict())
    plain = CasperPipeline(native, steps=2, seed=3)(frames, trimask)
    out = CasperPipeline(at_scale, steps=2, seed=3)(frames, trimask)
    _, kept = static_plate(frames, trimask, 8)
    fill = (trimask == 0) & ~kept
    assert fill.any() and np.array_equal(out[~fill], plain[~fill]) and not np.array_equal(out[fill], plain[fill])
    small = CasperPipeline(native, steps=2, seed=3)(*shrink(frames, trimask, 16))
    h, w = trimask.shape[1:]
    assert small.shape[1:3] == (16 * h // max(h, w), 16 * w // max(h, w))
    upscaled = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC) for f in small])
    assert np.array_equal(out[fill], upscaled[fill])
    large = CasperNet(replace(MICRO_CV2, plate=8, fill_size=max(h, w))).eval()
    large.load_state_dict(model.state_dict())
    assert np.array_equal(CasperPipeline(large, steps=2, seed=3)(frames, trimask), plain)
    with pytest.raises(GenbenchError, match="fill_size must be at least the stride"):
        replace(MICRO_CV2, fill_size=1)


def test_shipped_checkpoint_runs_with_no_flags(toy_dataset: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`casper` is the reference checkpoint (`small`), `casper:tiny` the one shipped before it, `casper:PATH` a
    folder (a local folder named like a shipped checkpoint is `./NAME`)."""
    from genbench.models.casper.checkpoint import read_config
    from genbench.models.casper.method import SHIPPED, WEIGHTS

    frames, trimask = _clip(toy_dataset)
    method = build_method("casper")
    assert method.checkpoint == WEIGHTS == SHIPPED["small"] and read_config(WEIGHTS)[0].name == "small"
    out = method.remove(frames, trimask)
    assert out.shape == frames.shape
    keep = trimask == TRIMASK_PRESERVE
    assert np.array_equal(out[keep], frames[keep])
    tiny = build_method("casper:tiny")
    assert tiny.checkpoint == SHIPPED["tiny"] and read_config(tiny.checkpoint)[0].name == "tiny"
    assert not np.array_equal(tiny.remove(frames, trimask), out)
    save_pretrained(CasperNet(MICRO), tmp_path / "tiny")
    monkeypatch.chdir(tmp_path)
    other = build_method("casper:./tiny")
    assert np.array_equal(other.remove(frames, trimask), frames)  # untrained = identity


@pytest.mark.parametrize("key", ["mini-v1", "mini-v2"])
def test_shipped_checkpoint_removes_shadows_that_cv2_leaves(key: str) -> None:
    """On Kubric clips of the benchmark splits, the effect region (shadow, reflection) comes out closer to
    the ground truth than with cv2-inpaint, which leaves it untouched: in most clips and overall on both, and by
    a fifth on mini-v1 (plain floors)."""
    from genbench.benchmark.regions import removal_regions
    from genbench.benchmark.split import SHIPPED_SPLITS

    root = SHIPPED_SPLITS[key]
    samples = [s for s in removal_samples(root, "test") if s.generator == "kubric"][:6]
    casper, cv2 = build_method("casper"), build_method("cv2-inpaint")
    errors = {"casper": [], "cv2": []}
    for sample in samples:
        item = load_removal(root, sample, None)
        effect = removal_regions(item.frames, item.target, item.trimask, item.tolerance)["effect"]
        for name, method in (("casper", casper), ("cv2", cv2)):
            out = method.remove(item.frames, item.trimask).astype(np.float64)
            errors[name].append(((out - item.target)[effect] ** 2).sum())
    better = sum(c < v for c, v in zip(errors["casper"], errors["cv2"], strict=True))
    assert better > len(samples) / 2 and sum(errors["casper"]) < sum(errors["cv2"]), errors
    if key == "mini-v1":
        assert sum(errors["casper"]) < 0.8 * sum(errors["cv2"]), errors
