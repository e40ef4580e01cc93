"""The tripod generator on degraded footage with exact ground truth (`genbench.generators.tripod.degrade`).

Toy scenes on a textured ground are played as tripod captures and recorded the way cameras record
(`degrade.LEVELS`); the masks are scored against the truth (`genbench.generators.tripod.accuracy`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from genbench.generators.toy import ToySettings, make_toy_scene
from genbench.generators.tripod import consistency
from genbench.generators.tripod.accuracy import score
from genbench.generators.tripod.degrade import (
    LEVELS,
    Degradation,
    Footage,
    add_texture,
    degrade,
    encode,
    exposure_gains,
    rolling_light,
    sensor_noise,
    truth_from_scene,
)
from genbench.generators.tripod.make import analyse_frames, effect_tolerance
from genbench.generators.tripod.segment import firm_components
from genbench.generators.tripod.settings import TripodSettings
from genbench.pixels import psnr

SCENES, SIZE, FRAMES, PLATE_FRAMES = 6, 128, 16, 12


def footage(index: int, level: Degradation, size: int = SIZE) -> Footage:
    """Toy scene `index` (seed 0) on a textured ground, played as a tripod capture and degraded at `level`."""
    settings = ToySettings(seed=0, resolution=size, frames=FRAMES, max_objects=2, val_fraction=0.0)
    truth = truth_from_scene(make_toy_scene(settings, index), PLATE_FRAMES)
    truth = add_texture(truth, 0.12, rng=np.random.default_rng(np.random.SeedSequence((0, index, 1))))
    return degrade(truth, level, rng=np.random.default_rng(np.random.SeedSequence((0, index, 2))))


@pytest.fixture(scope="module")
def middle() -> list[dict[str, float]]:
    """Figures of the first SCENES toy scenes at the middle level (noise sigma 3, H.264 at 0.1 bit per pixel)."""
    settings = TripodSettings()
    out = []
    for i in range(SCENES):
        clip = footage(i, LEVELS["middle"])
        analysis = analyse_frames(clip.frames, f"toy{i}", settings)
        assert analysis.rejection is None, analysis.rejection
        out.append(score(analysis, clip.truth, settings))
    return out


def test_middle_level_meets_the_goals(middle: list[dict[str, float]]) -> None:
    mean = {k: float(np.mean([r[k] for r in middle])) for k in middle[0]}
    assert mean["object_iou"] >= 0.85, mean
    assert mean["shadow_recall"] >= 0.8, mean
    assert mean["bg_uncertain"] <= 0.01, mean
    assert mean["bg_remove"] <= 0.001, mean
    assert all(r["windows"] >= 1 for r in middle) and not any(r["false_windows"] for r in middle), middle


def test_degradations_do_what_they_say() -> None:
    rng = np.random.default_rng(0)
    grey = np.full((4, 64, 64, 3), 128.0, np.float32)
    noisy = sensor_noise(grey, 3.0, 0.6, rng=rng)
    assert abs(float((noisy - grey).std()) - 3.0) < 0.1  # sigma at mid grey
    dark = sensor_noise(np.full_like(grey, 16.0), 3.0, 0.6, rng=rng) - 16.0
    assert float(dark.std()) < 0.75 * 3.0  # shot noise shrinks in the dark
    gains = exposure_gains(200, 0.02, 0.01, rng=rng)
    assert gains.shape == (200, 3) and 0.01 < float(gains.std()) < 0.05 and abs(float(gains.mean()) - 1) < 0.01
    light = rolling_light(10, 32, 48, 0.1, rng=rng)
    assert light.shape == (10, 32, 48) and light.min() >= 0.9 - 1e-6 and light.max() <= 1.0 + 1e-6
    assert not np.allclose(light[0], light[-1])  # it rolls
    frames = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    decoded = encode(frames, "h264", 0.1)
    assert decoded.shape == frames.shape and 30.0 < psnr(decoded, frames) < 100.0  # lossy, not broken
    a, b = footage(0, LEVELS["light"], 64), footage(0, LEVELS["light"], 64)
    np.testing.assert_array_equal(a.frames, b.frames)  # the same rng gives the same footage


def test_noise_estimate_and_effect_tolerance() -> None:
    level = Degradation(noise_sigma=3.0)  # sensor noise only: the truth is known exactly
    clip = footage(4, level, 64)
    analysis = analyse_frames(clip.frames, "noisy", TripodSettings())
    background = ~(clip.truth.objects | clip.truth.effects)
    true_sigma = float(np.std((clip.frames.astype(np.float32) - clip.truth.full)[background]))
    assert abs(analysis.quality["noise_sigma"] - true_sigma) < 0.15 * true_sigma, (analysis.quality, true_sigma)
    assert effect_tolerance(analysis.quality["noise_sigma"]) == max(2, math.ceil(3 * analysis.quality["noise_sigma"]))
    noise = analysis.quality["noise"]
    assert noise["sigma_min"] < noise["sigma_max"]  # dark and bright regions differ (shot noise)


def test_a_window_below_the_bar_is_rejected_with_the_reason() -> None:
    clip = footage(4, LEVELS["middle"], 64)
    settings = TripodSettings(max_noise=1.0)
    analysis = analyse_frames(clip.frames, "noisy", settings)
    reasons = [w.reason for w in analysis.windows if w.reason]
    assert not analysis.accepted and any(r.startswith("footage too noisy: noise sigma") for r in reasons), reasons
    accepted = analyse_frames(clip.frames, "noisy", replace(settings, max_noise=10.0)).accepted
    assert accepted  # the same footage passes the default bar


def test_speckles_and_streaks_are_not_objects() -> None:
    rng = np.random.default_rng(5)
    plate = cv2.resize(rng.uniform(80, 170, (10, 12, 3)).astype(np.float32), (96, 80), interpolation=cv2.INTER_CUBIC)
    frames = np.repeat(plate[None], 30, axis=0) + rng.normal(0, 2.0, (30, 80, 96, 3)).astype(np.float32)
    for t in range(30):  # a bright speckle somewhere new in every frame
        y, x = rng.integers(5, 70), rng.integers(5, 86)
        frames[t, y:y + 4, x:x + 4] += 60
    frames[10:20, 40:42, 10:70] += 45  # a 2-pixel streak along a line, for ten frames
    frames = np.clip(np.round(frames), 0, 255).astype(np.uint8)
    analysis = analyse_frames(frames, "speckles", TripodSettings())
    assert analysis.tracks.max() == 0 and analysis.rejection == "no moving object detected"
    assert analysis.uncertain.mean() < 0.001  # unattached, short-lived: noise, not uncertain background


def test_consistency_rules() -> None:
    streak = np.zeros((20, 30), bool)
    streak[5:7, 2:28] = True
    block = np.zeros((20, 30), bool)
    block[5:9, 5:9] = True
    assert not consistency.thick_components(streak, 1.2).any()
    assert consistency.thick_components(block, 1.2).sum() == 16

    tracks = np.zeros((6, 10, 10), np.int32)
    tracks[0:2, 1, 1] = 1  # two frames: a speckle
    tracks[0:5, 5, 5] = 2
    kept, dropped = consistency.drop_short_tracks(tracks, 3)
    assert set(np.unique(kept)) == {0, 1} and kept[0, 5, 5] == 1 and dropped[:2, 1, 1].all()

    flicker = np.zeros((5, 10, 10), bool)
    flicker[2, 3, 3] = True  # one frame only
    flicker[1:4, 7, 7] = True
    assert consistency.persistent(flicker, 1).sum() == 3

    objects = np.zeros((40, 40), bool)
    objects[10:20, 10:20] = True
    changes = np.zeros((40, 40), bool)
    changes[20:24, 12:18] = True  # touching: a shadow
    changes[30, 30] = True  # a speckle 14 pixels away: noise
    kept = consistency.attached(changes, objects, 1.0, 20)
    assert kept[20:24, 12:18].all() and not kept[30, 30]


def test_firm_components_trim_smear_and_drop_ghosts() -> None:
    objects = np.zeros((30, 30), bool)
    objects[5:15, 5:15] = True  # a body, contrast 60, with a smeared rim column of 12
    objects[20:26, 20:26] = True  # a ghost just above the threshold
    difference = np.zeros((30, 30), np.float32)
    difference[5:15, 5:14] = 60
    difference[5:15, 14] = 12
    difference[20:26, 20:26] = 16
    firm = firm_components(objects, difference, np.full_like(difference, 14.0), 1.5, 0.5)
    assert firm[5:15, 5:14].all() and not firm[5:15, 14].any() and not firm[20:26, 20:26].any()
    # on clean footage (no noise tail, nothing a codec smeared) a faint rim is the object's anti-aliased edge
    clean = firm_components(objects, difference, np.full_like(difference, 14.0), 1.5, 0.5, blur=0.0)
    assert clean[5:15, 5:15].all() and not clean[20:26, 20:26].any()


# Object recall and IoU of the fixed-threshold pipeline (commit 582970b, before the noise model and the
# consistency rules) on clean 64-pixel toy clips 1 and 2 (`footage(i, LEVELS["clean"], 64)`, objects of
# 170-460 pixels), measured by running that commit's `analyse` on the same frames and scoring with `accuracy`:
# clip 1 recall 0.980, IoU 0.976; clip 2 recall 0.912, IoU 0.910. The noise-aware pipeline without the
# noise-scaled rim rule gave 0.964 / 0.962 and 0.899 / 0.899. The bars sit a little under the old figures.
CLEAN_SMALL_BARS = {1: (0.975, 0.97), 2: (0.905, 0.905)}


@pytest.mark.parametrize("index", sorted(CLEAN_SMALL_BARS))
def test_clean_small_objects_keep_their_edges(index: int) -> None:
    clip = footage(index, LEVELS["clean"], 64)
    settings = TripodSettings()
    analysis = analyse_frames(clip.frames, f"clean{index}", settings)
    assert analysis.rejection is None, analysis.rejection
    detected, truth = analysis.tracks > 0, clip.truth.objects
    recall = float((detected & truth).sum() / truth.sum())
    iou = score(analysis, clip.truth, settings)["object_iou"]
    min_recall, min_iou = CLEAN_SMALL_BARS[index]
    assert recall >= min_recall and iou >= min_iou, (recall, iou)
