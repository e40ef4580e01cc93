"""The dataset card: README.md with the Hub's YAML metadata, and the preview image it shows.

YAML (written by huggingface_hub's DatasetCardData and datasets' DatasetInfosDict, not by hand):
license, task categories, tags, size category, one config per source with its data files (the first
is the default, so ``load_dataset(DIR)`` works), and each config's features and split sizes. The
body says how the data was made: the generator, its settings and seeds, the command that made it
and the one that published it, counts per split, the layout of a row, and how to load it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from datasets import DatasetInfo, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData
from PIL import Image

from genbench import contract
from genbench.frames import read_video
from genbench.preview import strip
from genbench.publish.features import FEATURES
from genbench.samples import effect_tolerance
from genbench.scene import scene_dir
from genbench.trimask import trimask as derive_trimask

if TYPE_CHECKING:
    from genbench.publish.export import Source
    from genbench.records import SceneMeta

CARD_FILE = "README.md"
PREVIEW_FILE = "preview.png"
CARD_MARKER = "<!-- written by genbench publish -->"
PREVIEW_HEIGHT = 128
TASK_CATEGORIES = ["image-to-image", "image-to-video"]
TAGS = ["video", "video-inpainting", "object-removal", "omnimatte", "shadows", "reflections", "genbench"]
SOURCE_TEXT = {
    "kubric": "Kubric-style renders (Blender Cycles + pybullet); every object removed from the render, not made "
              "transparent, so `minus_<k>` and `bg` are exact by construction; ground-truth RGBA layers.",
    "paste": "object-paste composites: an object track (with its shadow when made with --shadow) pasted onto "
             "another clip; `bg` is the target clip byte for byte.",
    "tripod": "static-camera footage: `bg` is a temporal-median clean plate matched to each frame's exposure; "
              "the detected shadow is the trimask's uncertain band (stored trimasks).",
    "toy": "numpy toy scenes: coloured shapes with a drop shadow over a gradient, exact layers (for tests).",
}


def size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def _preview_row(source: Source) -> np.ndarray:
    """Middle frame of the source's first scene: input | trimask | target | clean plate."""
    meta = next(iter(source.metas.values()))
    folder = scene_dir(source.root, meta.scene_id)
    t = meta.num_frames // 2
    full = read_video(folder / contract.RGB_DIR / contract.FULL)[t]
    spec = meta.samples[0]
    sid = contract.sample_id(meta.scene_id, spec.remove)
    if spec.trimask.stored:
        tri = read_video(folder / contract.TRIMASK_DIR / sid)[t]
    else:
        tri = derive_trimask(read_video(folder / contract.MASKS_DIR / contract.VISIBLE_DIR)[t:t + 1], spec.remove,
                             spec.trimask)[0]
    target = read_video(folder / contract.RGB_DIR / contract.target_video(spec.remove, meta.object_ids))[t]
    panels, labels = [full, tri, target], ["input", "trimask", "target"]
    if contract.BG in meta.videos:
        panels.append(read_video(folder / contract.RGB_DIR / contract.BG)[t])
        labels.append("bg")
    factor = max(1, -(-PREVIEW_HEIGHT // full.shape[0]))
    up = [p.repeat(factor, 0).repeat(factor, 1)[None] for p in panels]
    row = strip(up, [f"{source.config}: {labels[0]}", *labels[1:]])[0]
    return row


def write_preview(path: Path, sources: list[Source]) -> None:
    rows = [_preview_row(s) for s in sources]
    width = max(r.shape[1] for r in rows)
    canvas = np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows])
    Image.fromarray(canvas).save(path, format="PNG", compress_level=9)


def card_data(sources: list[Source], license: str) -> DatasetCardData:
    scenes = sum(len(s.metas) for s in sources)
    configs = []
    for i, s in enumerate(sources):
        files = [{"split": split, "path": f"{s.config}/{split}-*.parquet"} for split in s.shards]
        configs.append({"config_name": s.config, "data_files": files, **({"default": True} if i == 0 else {})})
    data = DatasetCardData(license=license, task_categories=TASK_CATEGORIES, tags=TAGS,
                           size_categories=[size_category(scenes)], pretty_name="genbench paired removal data",
                           configs=configs)
    infos = DatasetInfosDict()
    for s in sources:
        splits = SplitDict()
        for split, shards in s.shards.items():
            splits.add(SplitInfo(name=split, num_bytes=sum(sh.bytes for sh in shards),
                                 num_examples=sum(len(sh.scenes) for sh in shards)))
        infos[s.config] = DatasetInfo(features=FEATURES, splits=splits, config_name=s.config)
    infos.to_dataset_card_data(data)
    return data


def _counts_table(sources: list[Source]) -> str:
    lines = ["| config | split | scenes | samples | input frames | shards |", "|---|---|---|---|---|---|"]
    for s in sources:
        for split, c in sorted(s.counts.items()):
            lines.append(f"| {s.config} | {split} | {c['scenes']} | {c['samples']} | {c['frames']} | "
                         f"{len(s.shards.get(split, []))} |")
    return "\n".join(lines)


TRIPOD_FIGURES = {  # meta.json quality key -> what it says (figures made without ground truth)
    "noise_sigma": "noise sigma of the footage (levels)",
    "effect_tolerance": "effect tolerance (levels, `quality.params`)",
    "mask_stability": "object mask stability (IoU of consecutive masks after the motion)",
    "shadow_stability": "shadow band stability",
    "unattached_uncertain": "uncertain pixels with no object near",
    "no_data": "pixels without data (stabilised borders)",
    "preserve_psnr": "PSNR of input vs plate on preserved pixels (dB)",
}
TRIPOD_BAR = ("max_noise", "min_stability", "max_unattached", "max_unclean", "min_object")


def _quality_value(quality: dict, key: str) -> float | None:
    value = effect_tolerance(quality) if key == contract.EFFECT_TOLERANCE else quality.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def tripod_quality_section(s: Source) -> str:
    """Markdown: min / median / max over the source's tripod scenes of each quality figure of `TRIPOD_FIGURES`,
    and the bar windows had to pass (from the settings); empty when the source has no tripod scene."""
    metas = [m for m in s.metas.values() if m.generator == "tripod"]
    if not metas:
        return ""
    lines = ["Quality of the tripod windows (figures estimated without ground truth, per scene):", "",
             "| figure | min | median | max |", "|---|---|---|---|"]
    for key, label in TRIPOD_FIGURES.items():
        values = [v for m in metas if (v := _quality_value(m.quality, key)) is not None]
        if values:
            lo, mid, hi = np.min(values), np.median(values), np.max(values)
            lines.append(f"| {label} | {lo:.4g} | {mid:.4g} | {hi:.4g} |")
    bar = ", ".join(f"`{k}` = {s.info.settings[k]}" for k in TRIPOD_BAR if k in s.info.settings)
    lines += ["", f"Windows below the bar ({bar}) were rejected; the dataset's `rejected.json` lists each with "
              "its reason.", ""]
    return "\n".join(lines)


def effect_kind_counts(metas: list[SceneMeta]) -> dict[str, tuple[int, float]]:
    """Effect kind -> (removal samples holding it, mean fraction of the frame it covers in them), from each
    scene's measured per-kind masks (meta.json `effects`, `quality.objects.<k>.kinds.areas`); empty when no
    scene measured kinds. A sample removing several objects holds the kinds of each."""
    found: dict[str, list[float]] = {}
    for meta in metas:
        objects = meta.quality.get("objects", {})
        for sample in meta.samples:
            areas: dict[str, float] = {}
            for k in sample.remove:
                measured = objects.get(str(k), {}).get("kinds", {}).get("areas", {})
                for kind in meta.effects.get(k, []):
                    areas[kind] = areas.get(kind, 0.0) + float(measured.get(kind, 0.0))
            for kind, area in areas.items():
                found.setdefault(kind, []).append(area)
    return {kind: (len(v), float(np.mean(v))) for kind, v in sorted(found.items())}


def effect_kinds_section(s: Source) -> str:
    """Markdown: removal samples per measured effect kind (docs/effect-kinds.md); empty when none was measured."""
    counts = effect_kind_counts(list(s.metas.values()))
    if not counts:
        return ""
    total = sum(len(m.samples) for m in s.metas.values())
    lines = [f"Effect kinds measured from the renders' light passes, over its {total} removal samples "
             "(`masks/effects/<k>/<kind>/`; a sample can hold several):", "",
             "| kind | samples | mean area (% of frame) |", "|---|---|---|"]
    lines += [f"| {kind} | {n} | {100 * area:.2f} |" for kind, (n, area) in counts.items()]
    return "\n".join([*lines, "", ""])


def _source_section(s: Source) -> str:
    made = s.info.created_with or {}
    command = made.get("command")
    command_text = shlex.join(str(a) for a in command) if isinstance(command, list) else str(command)
    seeds = sorted({m.seed for m in s.metas.values()})
    return "\n".join([
        f"### `{s.config}`", "",
        SOURCE_TEXT.get(s.config, f"made by the genbench generator `{s.config}`."), "",
        f"- dataset name `{s.info.name}`, schema version {s.info.schema_version}, made with genbench "
        f"{made.get('genbench', '?')} (commit `{str(made.get('git_commit'))[:12]}`)",
        f"- command: `{command_text}`",
        f"- seeds: {', '.join(map(str, seeds))}; scene `i` draws everything from `SeedSequence((seed, i))`, so "
        "the command above makes byte-identical frames",
        "- settings:", "", "```json", json.dumps(s.info.settings, indent=2, sort_keys=True), "```", "",
        effect_kinds_section(s), tripod_quality_section(s)])


def card_text(sources: list[Source], license: str, command: list[str] | None) -> str:
    names = ", ".join(f"`{s.config}`" for s in sources)
    first = sources[0].config
    body = f"""
{CARD_MARKER}
# genbench paired video object-and-effect removal data

Paired videos for **removing an object together with its effects** (shadows, reflections) and for
**omnimatte layering**, made by [genbench](https://github.com/genbench). Each row is one scene: the input
video with every object, the clean plate, per object the video without it (`minus`), the object alone
(`solo`), its ground-truth RGBA layer (object + shadow/reflection as alpha) and amodal mask, and per
removal sample its trimask (0 remove, 128 uncertain, 255 preserve) and the name of its target video.

Configs, one per source: {names}.

![input | trimask | target | clean plate, middle frame of each config's first scene]({PREVIEW_FILE})

## Counts

{_counts_table(sources)}

## How it was made

{"".join(_source_section(s) for s in sources)}
Published with `{shlex.join(command) if command else "genbench publish"}`.

## Loading

```python
from datasets import load_dataset

ds = load_dataset("REPO_OR_FOLDER", "{first}", split="{next(iter(sources[0].shards))}")
row = ds[0]
frames = row["full"]                        # list of PIL images, uint8 RGB
sample = row["samples"][0]                  # a removal task of this scene
target = row["bg"] if sample["target"] == "bg" else next(
    o["minus"] for o in row["objects"] if f"minus_{{o['id']}}" == sample["target"])
```

## Format

Every frame is a lossless PNG stored as its bytes in a `datasets.Image` feature: the bytes equal the
files genbench wrote, byte for byte (lossy video would corrupt PSNR). Measured on 256x256 frames (2-core
machine): PNG decodes in 1.6 ms (OpenCV) to 2.1 ms (Pillow) per frame, raw uint8 in zstd-compressed
Parquet in 0.7 ms, but raw is 1.7x larger than PNG on noisy content (renders, footage: 173 vs 104 KiB per
frame), and streaming from the Hub is limited by bytes, not by decoding: one worker decodes ~500 PNG
frames per second, far more than a video model consumes per training step. So PNG, and the dataset
viewer shows the frames. For speed, decode in data-loader workers, or cast a column to
`Image(decode=False)` and decode with `cv2.imdecode`, ~25% faster than Pillow.
Shards hold at most `genbench publish --max-shard-mb` of frames (500 MiB by default); row groups about 64 MiB.

Columns: `scene_id`, `source`, `split`, `seed`, `index`, `num_frames`, `height`, `width`, `fps`,
`meta` (the scene's meta.json: objects, camera, lights, settings, quality figures),
`full`, `bg`, `visible` (instance ids, 0 = background), `objects` (`id`, `asset_id`, `minus`, `solo`,
`layer`, `amodal`) and `samples` (`sample_id`, `remove`, `target`, `trimask_stored`, `trimask`). A
video a source does not make is an empty list (object-paste and tripod scenes have no layers).
"""
    return f"---\n{card_data(sources, license).to_yaml()}\n---\n{body}"


def write_card(folder: Path, sources: list[Source], *, license: str, command: list[str] | None) -> None:
    DatasetCard(card_text(sources, license, command)).save(folder / CARD_FILE)
    write_preview(folder / PREVIEW_FILE, sources)
