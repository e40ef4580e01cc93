"""The wan2.1-fun-inp Casper backbone on the CPU, with a tiny random transformer and VAE in diffusers layout.

Sizes follow diffusers' own tests of `WanTransformer3DModel` and `AutoencoderKLWan` (a few channels,
2 layers); the Fun-InP input layout is kept: in_channels = 2 z + 4. Training, resume, LoRA,
sampling and an eval through the benchmark harness all take a few seconds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from genbench.cli import main
from genbench.contract import TRIMASK_PRESERVE, TRIMASK_REMOVE, TRIMASK_UNCERTAIN
from genbench.models.casper.train import TrainSettings, train
from genbench.models.casper.wan import WanCasperConfig
from genbench.models.threads import torch_threads

Z = 4  # latent channels of the tiny VAE
TEXT_DIM, IMAGE_DIM = 16, 8
CONFIG = WanCasperConfig(name="test", frames=5, crop=16, sample_steps=2, text_tokens=6, image_tokens=3,
                         learning_rate=1e-3)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    with torch_threads(1):
        yield


def make_pretrained(folder: Path, in_channels: int = 2 * Z + 4) -> Path:
    """A random tiny Wan2.1-Fun-InP-shaped transformer/ + vae/ in diffusers layout."""
    from diffusers import AutoencoderKLWan, WanTransformer3DModel

    torch.manual_seed(0)
    WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                          in_channels=in_channels, out_channels=Z, text_dim=TEXT_DIM, freq_dim=32, ffn_dim=32,
                          num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads", image_dim=IMAGE_DIM,
                          added_kv_proj_dim=24, rope_max_seq_len=32).save_pretrained(folder / "transformer")
    AutoencoderKLWan(base_dim=3, z_dim=Z, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                     temperal_downsample=[False, True, True], latents_mean=[0.1, -0.2, 0.0, 0.3],
                     latents_std=[1.5, 0.8, 1.0, 2.0]).save_pretrained(folder / "vae")
    return folder


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pretrained(tmp_path_factory.mktemp("wan") / "Wan-tiny-InP")


def _settings(data: Path, out: Path, pretrained: Path, **kw: object) -> TrainSettings:
    base = dict(data=[data], out=out, config=CONFIG, backbone="wan2.1-fun-inp", pretrained=pretrained, steps=2,
                batch_size=1, warmup=0, val_data=None, device="cpu", log_every=0)
    return TrainSettings(**{**base, **kw})  # type: ignore[arg-type]


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def test_train_resume_and_sample(toy_dataset: Path, tmp_path: Path, pretrained: Path) -> None:
    from genbench.methods import build_method

    straight = train(_settings(toy_dataset, tmp_path / "straight", pretrained))
    config = json.loads((straight / "config.json").read_text())
    assert config["format"] == "genbench-casper-wan/1" and config["training"]["step"] == 2
    assert config["pretrained"] == str(pretrained.resolve()) and config["config"]["frames"] == 5
    before = load_file(str(pretrained / "transformer" / "diffusion_pytorch_model.safetensors"))
    after = _weights(straight)
    assert set(after) == set(before)  # full fine-tuning: every transformer weight
    assert any(not torch.equal(after[k], before[k]) for k in after)
    # one step, then resume to two: the same weights as the uninterrupted run
    train(_settings(toy_dataset, tmp_path / "resumed", pretrained, steps=1))
    resumed = train(_settings(toy_dataset, tmp_path / "resumed", pretrained, resume=True))
    assert all(torch.equal(_weights(resumed)[k], after[k]) for k in after)

    method = build_method(f"casper:{straight}")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (7, 20, 24, 3), dtype=np.uint8)  # neither 4k + 1 frames nor multiples of 16
    trimask = np.full((7, 20, 24), TRIMASK_PRESERVE, np.uint8)
    trimask[:, 4:12, 6:14] = TRIMASK_UNCERTAIN
    trimask[:, 6:10, 8:12] = TRIMASK_REMOVE
    out = method.remove(frames, trimask)
    assert out.shape == frames.shape and out.dtype == np.uint8
    keep = trimask == TRIMASK_PRESERVE
    assert np.array_equal(out[keep], frames[keep])
    assert np.array_equal(out, method.remove(frames, trimask))  # deterministic
    assert np.array_equal(method.remove_sample(frames, trimask, 0), out)  # a draw of the first seed
    hole = trimask == TRIMASK_REMOVE
    assert not np.array_equal(method.remove_sample(frames, trimask, 1)[hole], out[hole])  # the next seed


def test_lora_and_eval_through_the_harness(toy_dataset: Path, tmp_path: Path, pretrained: Path) -> None:
    pytest.importorskip("peft")
    from genbench.benchmark.harness import EvalSettings, evaluate
    from genbench.benchmark.results import summarize

    ck = train(_settings(toy_dataset, tmp_path / "lora", pretrained, lora_rank=4))
    weights = _weights(ck)
    assert weights and all("lora_" in k for k in weights)
    assert any(k.endswith("lora_B.default.weight") and weights[k].abs().sum() > 0 for k in weights)
    result = evaluate([f"casper:{ck}"], toy_dataset, tmp_path / "eval", EvalSettings(split="val", device="cpu"))
    regions = summarize(result.runs[0].clips)["regions"]
    assert {"full", "object", "effect", "preserve"} <= set(regions)
    assert all(np.isfinite(m["lpips"]) for m in regions.values())


def test_prompt_embeddings_travel_with_the_checkpoint(toy_dataset: Path, tmp_path: Path, pretrained: Path) -> None:
    from genbench.models.casper.wan import load_checkpoint

    path = tmp_path / "prompt.safetensors"
    save_file({"prompt_embeds": torch.randn(5, TEXT_DIM)}, str(path))
    ck = train(_settings(toy_dataset, tmp_path / "ck", pretrained, steps=1, embeddings=path))
    text, image = load_checkpoint(ck, torch.device("cpu")).context
    assert torch.equal(text[0], load_file(str(path))["prompt_embeds"]) and image is not None
    from genbench.models.casper.wan_train import WanTrainer

    resumed = WanTrainer(_settings(toy_dataset, ck, pretrained, resume=True))  # without --embeddings
    assert torch.equal(resumed.context[0], text)
    assert image.shape == (1, CONFIG.image_tokens, IMAGE_DIM) and not image.any()


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], message: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genbench train: error:") and message in err[0], err


def test_command_line_errors(toy_dataset: Path, tmp_path: Path, pretrained: Path,
                             capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    base = ["train", "casper", "--data", str(toy_dataset), "--out", str(tmp_path / "ck"), "--val-data", "none",
            "--backbone", "wan2.1-fun-inp"]
    _fails(base, capsys, "needs --pretrained DIR")
    _fails([*base, "--pretrained", str(tmp_path / "nope")], capsys, "no such folder")
    no_vae = Path(shutil.copytree(pretrained, tmp_path / "no-vae"))
    shutil.rmtree(no_vae / "vae")
    _fails([*base, "--pretrained", str(no_vae)], capsys, "no vae/config.json")
    wrong = make_pretrained(tmp_path / "t2v", in_channels=Z)
    _fails([*base, "--pretrained", str(wrong)], capsys, "has in_channels 4, but the Fun-InP layout needs 12")
    monkeypatch.setitem(sys.modules, "peft", None)  # as if peft were not installed
    _fails([*base, "--pretrained", str(pretrained), "--lora-rank", "4"], capsys, "LoRA fine-tuning needs peft")
    _fails([*base, "--config", "tiny"], capsys,
           "unknown Casper config 'tiny'; use one of 1.3b, 1.3b-lora (backbone wan2.1-fun-inp)")
    pixel = base[:-2]
    _fails([*pixel, "--pretrained", str(pretrained)], capsys, "--pretrained: only for --backbone wan2.1-fun-inp")
    assert not (tmp_path / "ck" / "model.safetensors").exists()


def test_config_rules() -> None:
    from genbench.errors import GenbenchError

    with pytest.raises(GenbenchError, match="4k \\+ 1"):
        replace(CONFIG, frames=8)
    with pytest.raises(GenbenchError, match="multiple of 16"):
        replace(CONFIG, crop=24)


def test_cached_predictions_follow_the_pretrained_weights(tmp_path: Path) -> None:
    """A checkpoint that builds on a pretrained folder: changed base weights, a new fingerprint (new predictions)."""
    from genbench.models.casper.method import Casper

    base = tmp_path / "base"
    (base / "transformer").mkdir(parents=True)
    weights = base / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"first")
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text(json.dumps({"format": "genbench-casper-wan/1", "pretrained": str(base)}))
    (checkpoint / "model.safetensors").write_bytes(b"adapters")
    before = Casper.fingerprint(str(checkpoint))
    assert Casper.fingerprint(str(checkpoint)) == before
    weights.write_bytes(b"second, other weights")
    assert Casper.fingerprint(str(checkpoint)) != before
