"""The table of `genbench` subcommands: options, help text, and where each one runs.

A command's `target` is a lazy ``"module:function"`` reference, imported only when the
command runs, so `genbench --help` never loads bpy or torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    description: str  # options and outputs, shown by --help
    add_arguments: Callable[[argparse.ArgumentParser], None]
    target: str  # "module:function(args) -> int"


def _render(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenes", type=int, required=True, help="number of scenes to make")
    p.add_argument("--out", required=True, help="dataset folder or URL (s3://, gs://) to create or resume")
    p.add_argument("--seed", type=int, default=0, help="dataset seed; (seed, index) fixes a scene (default 0)")
    p.add_argument("--resolution", type=int, help="frame width and height in pixels (default from preset)")
    p.add_argument("--frames", type=int, help="frames per scene (default from preset)")
    p.add_argument("--samples", type=int, help="Cycles samples per pixel (default from preset)")
    p.add_argument("--preset", default="default", help="named settings bundle, up to the paper's 256x256x80")
    p.add_argument("--targets", type=int, help="objects per scene that get minus_<k>/solo_<k> (default all)")
    p.add_argument("--assets", help="folder of .obj/.glb/.gltf/.ply models, searched recursively (e.g. Google "
                   "Scanned Objects), added to the built-in shapes")
    p.add_argument("--worlds", help="world kinds to draw from, comma-separated: sky, gradient, hdri "
                   "(default from preset: all three; sky,gradient is the v1 benchmark's)")
    p.add_argument("--surfaces", help="surface kinds to draw from, comma-separated: plain, pattern, procedural, photo "
                   "(default from preset: all four; plain,pattern is the v1 benchmark's)")
    p.add_argument("--hdri", help="folder of .exr/.hdr HDRIs added to the eight bundled with Blender")
    p.add_argument("--textures", help="folder of texture images added to scikit-image's bundled ones")
    p.add_argument("--counterfactual", choices=["visual", "physics"], help="what minus_<k> shows: visual (default) "
                   "leaves k out of the render only; physics re-simulates without k, so what k hit moves differently")
    _parallel(p)
    p.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto", help="Cycles device")
    p.add_argument("--estimate", action="store_true",
                   help="render a few sample scenes in a temporary folder, print the projected wall time, core-hours "
                        "and output bytes for --scenes N, and exit (writes nothing to --out)")
    p.add_argument("--estimate-scenes", type=int, default=2, help="sample scenes --estimate renders (default 2)")


def _parallel(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--executor", choices=["local", "ray"], default="local", help="local pool or a Ray cluster")
    p.add_argument("--address", help="Ray cluster address for --executor ray")
    _cpus_per_scene(p)


def _cpus_per_scene(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpus-per-scene", type=int, default=1,
                   help="with --executor ray: the CPUs each scene's task reserves on its node and the Cycles threads "
                        "it renders with (default 1; on 2 cores one 2-thread scene beat two 1-thread ones)")


def _paste(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", required=True, help="videos with object masks (DAVIS/YouTube-VOS, mp4+masks, genbench)")
    p.add_argument("--targets", required=True, help="videos, frame folders or a genbench dataset to paste onto")
    p.add_argument("--count", type=int, required=True, help="number of scenes to make")
    p.add_argument("--out", required=True, help="dataset folder or URL (s3://, gs://) to create or resume")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    p.add_argument("--shadow", action="store_true", help="add a synthetic cast shadow from the object's mask")
    p.add_argument("--frames", type=int, default=48, help="most frames per scene (default 48)")
    p.add_argument("--max-size", type=int, help="longest side in pixels; larger inputs are downscaled")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")


def _tripod(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="VIDEO_OR_FRAME_DIR", help="static-camera videos or frame folders")
    p.add_argument("--out", required=True, help="dataset folder or URL (s3://, gs://) to create or resume")
    p.add_argument("--max-size", type=int, help="longest side in pixels; larger inputs are downscaled")
    p.add_argument("--window", type=int, default=48, help="most frames per scene (default 48)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")


def _validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", metavar="DIR", help="dataset folder or URL (s3://, gs://) to check")
    p.add_argument("--workers", type=int, default=1, help="processes reading frames (default 1)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of lines")


def _metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="image or frame folder")
    p.add_argument("b", metavar="B", help="image or frame folder to compare with A")
    p.add_argument("--json", action="store_true", help="print JSON")
    _device(p)


def _device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="torch device for LPIPS: auto (cuda when available), cpu, cuda")


def _eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", required=True,
                   help="method spec(s) NAME[:ARG], comma-separated; an ARG runs to the next method's name "
                        "(casper:A,casper:B,median), external's to the end: external:'python my.py {input} {output}'")
    p.add_argument("--task", choices=["removal", "layering"], default="removal")
    p.add_argument("--data", help="dataset folder or URL (s3://, gs://) (default: the benchmark split)")
    p.add_argument("--split", help="split to score (default: test, or the dataset's only split)")
    p.add_argument("--out", default="results", help="folder for results.json, CSV, Markdown and HTML")
    p.add_argument("--predictions", help="score an existing predictions folder instead of running the method")
    p.add_argument("--max-frames", type=int, help="frame cap per clip (default: all frames)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes running each method at once, each with its own copy of it (default 1; the "
                        "predictions are the same bytes with any number)")
    p.add_argument("--dinov2", metavar="DIR",
                   help="local DINOv2 checkpoint (facebook/dinov2-giant) for PROVE's RC-S and RC-T columns "
                        "(default: $GENBENCH_DINOV2; without one those columns stay empty)")
    _device(p)


def _train(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=["casper"], help="what to train")
    p.add_argument("--data", required=True, help="dataset folder(s), comma-separated")
    from genbench.models.casper.backbones import BACKBONES  # names only: nothing heavy is imported

    p.add_argument("--backbone", default="pixel", choices=BACKBONES.names(),
                   help="pixel: genbench's small pixel-space model (default); wan2.1-fun-inp: fine-tune a pretrained "
                        "Wan2.1-Fun-InP transformer (a GPU; --pretrained)")
    p.add_argument("--config", help="pixel: tiny (default), small or base; wan2.1-fun-inp: 1.3b (default) or 1.3b-lora")
    p.add_argument("--pretrained", metavar="DIR",
                   help="wan2.1-fun-inp: local diffusers folder with transformer/ and vae/ (never downloaded)")
    p.add_argument("--lora-rank", type=int,
                   help="wan2.1-fun-inp: 0 fine-tunes every weight, N > 0 trains LoRA adapters of rank N (needs peft; "
                        "default from the config)")
    p.add_argument("--embeddings", metavar="FILE",
                   help="wan2.1-fun-inp: safetensors with prompt_embeds (tokens, text_dim) (default: zeros)")
    p.add_argument("--init", metavar="DIR",
                   help="pixel: fine-tune: start from the weights (and config) of a trained checkpoint folder, or "
                        "`shipped` for the reference Casper that ships in the package (`tiny`: the CPU-trained one)")
    p.add_argument("--crop", type=int,
                   help="pixel: the training window's side in pixels, a multiple of the network's stride (default: the "
                        "config's; frames smaller than it are edge-padded)")
    p.add_argument("--prefill", choices=["cv2", "median", "none"],
                   help="pixel: the classical fill the network refines (default: the config's, or --init's)")
    p.add_argument("--out", required=True, help="checkpoint folder")
    p.add_argument("--steps", type=int, default=1000, help="total training steps (default 1000)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--weights", help="sampling weight per --data folder, comma-separated (default: equal)")
    p.add_argument("--split", default="train", help="split of the training data to use (default train)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, batches and noise (default 0)")
    p.add_argument("--batch-size", type=int, help="clips per step (default from the config)")
    p.add_argument("--lr", type=float, help="learning rate (default from the config)")
    p.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                   help="constant after warm-up, or cosine decay to 0 at --steps")
    p.add_argument("--val-data", help="validation dataset (default: genbench's validation split, seeds disjoint from "
                                      "every benchmark split, built into the cache on first use; 'none' to skip); "
                                      "benchmark content is refused")
    p.add_argument("--val-every", type=int, default=0, help="validate every N steps (default: only at the end)")
    p.add_argument("--val-split", help="split of the validation data (default: val, or the dataset's only split)")
    p.add_argument("--checkpoint-every", type=int, default=500, help="write a checkpoint every N steps")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="auto: bf16 on a GPU that has it, else fp32")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: more only help on cores nothing else uses)")


def _decompose(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="SCENE_OR_VIDEO", help="scene folder (<dataset>/scenes/<id>), or a video file "
                                                           "or frame folder with --masks")
    p.add_argument("--masks", help="instance-id mask images for a plain video: grey (0 background, k object k, "
                                   "as genbench's masks/visible), palette PNGs (index = id) or white on black")
    p.add_argument("--method", default="casper",
                   help="source of bg and solo videos: gt (a scene's rgb/bg and rgb/solo_<k>) or a removal method "
                        "spec: casper (default), median, flow-propagation ...")
    p.add_argument("--out", required=True, help="folder for bg/, layers/<k>/, decompose.json and preview.gif")
    p.add_argument("--steps", type=int, help="optimiser steps (default 200)")
    p.add_argument("--seed", type=int, default=0, help="optimiser seed (default 0)")


def _edit(p: argparse.ArgumentParser) -> None:
    p.add_argument("layers", metavar="LAYERS_DIR", help="output of genbench decompose (bg/, layers/<k>/)")
    p.add_argument("--remove", type=int, action="append", default=[], metavar="K",
                   help="drop layer K (the object and its effects); repeatable")
    p.add_argument("--retime", action="append", default=[], metavar="K:FACTOR",
                   help="play layer K at FACTOR x speed (0.5 = slow motion); repeatable")
    p.add_argument("--insert", metavar="IMAGE|text:WORDS", help="image file or text to insert behind --behind K")
    p.add_argument("--behind", type=int, metavar="K", help="object the inserted layer goes behind")
    p.add_argument("--out", required=True, help="folder for edited frames (frames/), edit.json and preview.gif")


def _publish(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", nargs="+", metavar="DATASET", help="dataset folders or URLs; one config per generator")
    p.add_argument("--to", help="write exactly what would be pushed into this folder (with --repo-id: and push it)")
    p.add_argument("--repo-id", help="push to this Hugging Face Hub dataset repo (ORG/NAME); resumable")
    p.add_argument("--private", action="store_true", help="create the Hub repo private")
    p.add_argument("--license", default="cc-by-4.0", help="license in the dataset card (default cc-by-4.0)")
    p.add_argument("--max-shard-mb", type=float, default=500, help="largest Parquet shard in MiB (default 500)")


def _leaderboard(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["submit", "show", "build", "report"],
                   help="report: add figures published elsewhere, shown apart as reported, never ranked")
    p.add_argument("predictions", nargs="?", metavar="PRED",
                   help="submit: predictions folder or archive (.zip, .tar, .tar.gz/.bz2/.xz)")
    p.add_argument("--method", help="submit, report: the method's name on the board")
    p.add_argument("--board", default="leaderboard-store", help="board store folder (default ./leaderboard-store)")
    p.add_argument("--out", help="build: folder for the static site (default ./leaderboard-site)")
    p.add_argument("--authors", default="", help="submit: who made the method")
    p.add_argument("--url", default="",
                   help="submit: paper or code address; report: where the figures are (http/https)")
    p.add_argument("--benchmark", help="report: the benchmark the figures are on, e.g. prove-m, rose-bench")
    for metric in ("psnr", "ssim", "lpips"):
        p.add_argument(f"--{metric}", type=float, help=f"report: the published {metric.upper()}")
    p.add_argument("--metric", action="append", default=[], metavar="NAME=VALUE",
                   help="report: another published figure (rc_s, rc_t, remove, cfd ...); repeatable")
    p.add_argument("--source", default="", help="report: exact citation of the figures (paper and table, or "
                                                "repository@commit and section)")
    p.add_argument("--note", default="", help="report: what a reader must know (protocol, data version ...)")
    p.add_argument("--from", dest="from_file", metavar="FILE_OR_NAME",
                   help="report: add the rows of a JSON file, or of a shipped list by name (prove-m: PROVE's "
                        "README table)")
    p.add_argument("--extra-data", action="store_true",
                   help="submit: the method was trained on data beyond the benchmark's training split")
    p.add_argument("--task", choices=["removal", "layering"], default="removal", help="submit: task (default removal)")
    p.add_argument("--data", help="submit: benchmark dataset folder (default: the built-in benchmark split)")
    p.add_argument("--split", default="test", help="submit: split to score on (default test)")
    _device(p)


def _benchmark(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build", "fetch", "verify", "checksums"],
                   help="build a split from its recipe (run again to resume an interrupted build); fetch the "
                        "published split (--from a Hub repo or a `genbench publish` folder) and verify it; verify a "
                        "copy against the committed checksums; checksums: (maintainers) write them")
    p.add_argument("dataset", nargs="?", metavar="DIR", help="split folder for verify/checksums (default: the "
                   "copy shipped in the package: mini-v1, mini-v2)")
    p.add_argument("--split", default="mini", help="which split: mini (ships in the package), full, or a version "
                   "(mini-v1, mini-v2, full-v1, full-v2, full-v3, val-v1, val-v2); a bare name is its newest frozen "
                   "version")
    p.add_argument("--out", help="new folder to build or fetch into (build: or a URL, s3://, gs://)")
    p.add_argument("--from", dest="source", metavar="REPO_OR_DIR",
                   help="fetch: a Hub dataset repo id or a local `genbench publish` folder (default: the split's "
                        "official repo, genbench/genbench-benchmark-<split>-v<version>)")
    p.add_argument("--checksums", help="checksum file (default: the one committed for --split)")
    p.add_argument("--workers", type=int, default=1, help="parallel render processes for build (default 1)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="build: render on this machine or a Ray cluster")
    p.add_argument("--address", help="build: Ray cluster address for --executor ray")
    _cpus_per_scene(p)
    p.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto", help="build: Cycles device")


def _import(p: argparse.ArgumentParser) -> None:
    from genbench.importers import IMPORTER_NAMES  # names only: nothing heavy is imported

    p.add_argument("source", choices=IMPORTER_NAMES, metavar="SOURCE",
                   help="layout to read: " + ", ".join(IMPORTER_NAMES) + " (docs/importing.md)")
    p.add_argument("src", metavar="SRC", help="the release's folder as downloaded (or your pairs folder)")
    p.add_argument("--out", required=True, help="dataset folder to create or resume")
    p.add_argument("--split", default="test", help="split of the imported scenes (default test)")
    p.add_argument("--max-frames", type=int,
                   help="first N frames of each clip (default: all; prove-m: 81, PROVE's cap)")
    p.add_argument("--max-size", type=int, help="longest side in pixels; larger inputs are downscaled")
    p.add_argument("--trimask", choices=["paper", "effect"], default="paper",
                   help="paper: derived from the masks, whole background uncertain (default); effect: stored, only "
                        "the effect measured from the pair uncertain (reveals the effect: for training data)")
    for role, what in (("inputs", "input videos"), ("masks", "mask videos"), ("gt", "ground-truth videos")):
        p.add_argument(f"--{role}", metavar="DIR", help=f"prove-m: folder of the {what} (<name>.mp4), relative to SRC")


def _methods(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", action="append", metavar="NAME:CHECKOUT",
                   help="check a recipe against this checkout (default: GENBENCH_<NAME>_CHECKOUT); repeatable")
    p.add_argument("--json", action="store_true", help="print JSON")


def _demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="genbench-demo", help="folder for the demo's outputs (default ./genbench-demo)")


COMMANDS: tuple[Command, ...] = (
    Command("render", "Kubric-style paired renders on Blender (Cycles) + pybullet",
            "Writes DIR/dataset.json, manifest.parquet and scenes/<id>/ with full, bg, minus_<k>, solo_<k>, "
            "GT layers and masks, plus a preview per scene.", _render, "genbench.commands.render:run"),
    Command("paste", "object-paste pairs: an object track pasted onto another clip",
            "Writes full (composite), bg (the untouched target), masks and trimask in the data contract.",
            _paste, "genbench.commands.paste:run"),
    Command("tripod", "pairs from static-camera footage: clean plate, masks, shadow band",
            "Writes full, exposure-matched bg, masks and a stored trimask (the detected shadow is the uncertain band); "
            "rejected inputs and windows are listed with their reasons in DIR/rejected.json.",
            _tripod, "genbench.commands.tripod:run"),
    Command("import", "a published benchmark (PROVE-M, ROSE, Generative Omnimatte Kubric, DAVIS) or your pairs "
            "as a dataset",
            "Writes DIR/dataset.json, manifest.parquet and scenes/<id>/ (full, bg or minus_<k> from the release's "
            "video without the object, masks, the effect tolerance measured from the pair); the release's layout "
            "and what pins it are in every scene's meta.json settings.",
            _import, "genbench.commands.import_:run"),
    Command("validate", "check a dataset folder against the data contract",
            "Prints every problem as 'severity: path: message' and a summary line. Exit 0 when valid, 1 when "
            "not. Warnings (e.g. a partial scene left by a killed run) do not fail validation.",
            _validate, "genbench.commands.validate:run"),
    Command("metrics", "PSNR, SSIM and LPIPS between two images or frame folders",
            "Prints one line per metric, or JSON.", _metrics, "genbench.commands.metrics:run"),
    Command("eval", "score removal or layering methods on the benchmark",
            "Writes OUT/results.json, a per-clip CSV, a Markdown table and an HTML report.", _eval,
            "genbench.commands.eval:run"),
    Command("benchmark", "build, fetch or verify the frozen benchmark splits",
            "build renders a split from its frozen recipe (Kubric test scenes, paste and tripod scenes); fetch "
            "unpacks the published split; verify checks a copy file by file against the committed sha256 list.",
            _benchmark, "genbench.commands.benchmark:run"),
    Command("train", "train the reference Casper removal model",
            "Writes OUT/config.json and model.safetensors (the EMA weights, what `--method casper:OUT` loads), "
            "OUT/training_state.* (to --resume) and, with validation data, OUT/validation.jsonl.", _train,
            "genbench.commands.train:run"),
    Command("decompose", "omnimatte layers: background + one RGBA layer per object",
            "Writes OUT/bg/ and OUT/layers/<k>/ RGBA PNGs (the layering prediction layout of one scene), "
            "OUT/decompose.json and OUT/preview.gif; prints the recomposition check (all layers over bg vs the "
            "input, PSNR).", _decompose, "genbench.commands.decompose:run"),
    Command("edit", "edit omnimatte layers: remove, retime, insert behind",
            "Writes OUT/frames/ (the edited video), OUT/edit.json and OUT/preview.gif (original | edited).",
            _edit, "genbench.commands.edit:run"),
    Command("publish", "publish a dataset to the Hugging Face Hub (or a folder)",
            "Writes <config>/<split>-*.parquet shards (one config per generator; frames as lossless PNG bytes), "
            "README.md (dataset card with YAML metadata) and preview.png; --repo-id uploads them, skipping files "
            "already there.", _publish, "genbench.commands.publish:run"),
    Command("leaderboard", "submit to, show or build the leaderboard",
            "submit validates a predictions folder or archive against the split (hostile archives are refused), "
            "scores it and appends an entry to the board; show prints the board as tables; build writes a static "
            "site (index.html + assets/, sortable tables, charts, strips); report adds published figures to "
            "BOARD/reported.json, shown in tables of their own labelled 'reported, not measured here', never ranked.",
            _leaderboard, "genbench.commands.leaderboard:run"),
    Command("methods", "list the registered methods with their status (ready / not installed: what is missing)",
            "Prints name, task, status and source per method; the published methods' recipes are ready once their "
            "checkout and weights are found (docs/methods.md).", _methods, "genbench.commands.methods:run"),
    Command("demo", "run what genbench can do now on a small built-in default",
            "Renders two small scenes, validates them, scores the baselines, makes paste pairs, verifies the "
            "shipped benchmark split, scores Casper on it, submits it to a board and builds the site, then "
            "decomposes a scene into layers and edits them; prints each command and how long it took.",
            _demo, "genbench.commands.demo:run"),
)

BY_NAME = {c.name: c for c in COMMANDS}
