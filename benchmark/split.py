"""The frozen benchmark splits: how each is built, and checksums that prove a copy is the official one.

A split is a recipe (`SplitRecipe`): Kubric-style scenes from a frozen seed, plus object-paste
and tripod scenes made from a second, auxiliary render (paste sources and targets; tripod footage
is a static-camera render played as clean plate -> object enters -> clean plate). Every scene of a
benchmark split (`SPLITS`) is in split `test`; the validation recipe (`VALIDATION`) is the same
mix from disjoint seeds, in split `val`, for model selection. `build_split` runs the real
generators through their library functions (`render_dataset`, `paste_dataset`, `tripod_dataset`: what
`genbench render|paste|tripod` call) and merges their scenes into one dataset.

The rendered frames are the reference, not the seeds: path-traced pixels can differ in the last
bits between CPUs, so a rebuild is documented but never assumed byte-equal. `write_checksums` /
`verify_checksums` compare a copy against the committed `<name>.sha256` (one line per file,
`sha256  relative/path`, sorted), so anyone can check that their copy is the official one. The
checksums cover what is deterministic: every frame, mask and trimask and each scene's meta.json;
not run.json (seconds, threads), not previews, not the rebuilt indexes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from genbench import contract
from genbench.dataset import finalize, read_info
from genbench.errors import GenbenchError, NothingAccepted
from genbench.frames import read_video, write_video
from genbench.generators.kubric.dataset import RenderRun, render_dataset
from genbench.generators.kubric.settings import V1_SURFACES, V1_WORLDS, RenderSettings, resolve_settings
from genbench.generators.paste.dataset import paste_dataset
from genbench.generators.tripod.dataset import tripod_dataset
from genbench.generators.tripod.settings import TripodSettings
from genbench.progress import get_logger
from genbench.runner import RunSummary
from genbench.scene import list_scene_ids, read_meta, scene_dir, write_json

log = get_logger("benchmark")
HERE = Path(__file__).resolve().parent
CHECKSUM_SUFFIX = ".sha256"
RECIPE_FILE = "recipe.json"
PREVIEW_FILE = "preview.gif"  # generators.kubric.preview writes it; for people, not scored


@dataclass(frozen=True)
class SplitRecipe:
    """Everything that defines a benchmark split. Changing any value is a new version."""

    name: str
    version: str
    kubric_seed: int
    kubric_scenes: int
    resolution: int
    frames: int
    samples: int
    aux_seed: int  # the render that paste and tripod scenes are made from (never scored directly)
    aux_scenes: int
    paste_scenes: int
    tripod_plate_frames: int  # clean-plate frames before and after the object's clip
    label: str = "test"  # the split every scene gets: test (benchmark) or val (model selection)

    @property
    def key(self) -> str:
        """`name-vN`: what --split takes, and the name of the committed checksum file."""
        return f"{self.name}-v{self.version}"

    @property
    def dataset_name(self) -> str:
        return f"genbench-benchmark-{self.key}"

    def render_settings(self, seed: int) -> RenderSettings:
        """The settings of one of the recipe's renders: the default preset at the recipe's size and samples.
        A v1 recipe pins the v1 looks (sky or gradient worlds, plain or pattern surfaces): the renderer draws
        more since, and v1 stays v1."""
        looks = {"worlds": V1_WORLDS, "surfaces": V1_SURFACES} if self.version == "1" else {}
        return resolve_settings("default", seed=seed, resolution=self.resolution, frames=self.frames,
                                samples=self.samples, **looks)


# v1: the v1 looks (sky or gradient worlds, plain or pattern surfaces), no effect kinds, 64 px mini.
MINI_V1 = SplitRecipe(name="mini", version="1", kubric_seed=2025, kubric_scenes=6, resolution=64, frames=8,
                      samples=32, aux_seed=2026, aux_scenes=6, paste_scenes=2, tripod_plate_frames=6)
FULL_V1 = SplitRecipe(name="full", version="1", kubric_seed=2025, kubric_scenes=40, resolution=128, frames=24,
                      samples=32, aux_seed=2026, aux_scenes=16, paste_scenes=12, tripod_plate_frames=8)
VALIDATION_V1 = SplitRecipe(name="val", version="1", kubric_seed=3025, kubric_scenes=6, resolution=64, frames=8,
                            samples=32, aux_seed=3026, aux_scenes=6, paste_scenes=2, tripod_plate_frames=6,
                            label="val")
# v2: every look the renderer draws (HDRI worlds, procedural and photo surfaces, glass, glowing objects, glossy
# walls), effect kinds measured per sample, 96 px mini (AlexNet's deep layers see more than a 3x3 map). Each
# Kubric seed is `balance.balanced_seed` of the range in the comment beside it: the seed whose scenes hold the
# most samples of the rarest effect kind beyond shadow. The aux seeds hold static-camera scenes for the tripod part.
MINI_V2 = SplitRecipe(name="mini", version="2", kubric_seed=4048, kubric_scenes=6, resolution=96, frames=8,
                      samples=32, aux_seed=4900, aux_scenes=6, paste_scenes=2, tripod_plate_frames=6)  # 4000-4099
FULL_V2 = SplitRecipe(name="full", version="2", kubric_seed=5042, kubric_scenes=40, resolution=128, frames=24,
                      samples=32, aux_seed=5900, aux_scenes=16, paste_scenes=12, tripod_plate_frames=8)  # 5000-5059
# v3 of the full split: v2's scenes, with tripod footage whose clean plate holds most frames (13 + 24 + 13), so
# the tripod generator's temporal-median background is the empty scene; v2's (8 + 24 + 8) held the resting objects
# and every tripod window of v2 lies in the clean-plate frames (`misplaced_tripod_windows`). v3's 5 tripod windows
# all lie in the objects' frames.
FULL_V3 = replace(FULL_V2, version="3", tripod_plate_frames=13)
VALIDATION_V2 = SplitRecipe(name="val", version="2", kubric_seed=6085, kubric_scenes=6, resolution=96, frames=8,
                            samples=32, aux_seed=6900, aux_scenes=6, paste_scenes=2, tripod_plate_frames=6,
                            label="val")  # 6000-6099
SEED_RANGES: dict[str, range] = {"mini-v2": range(4000, 4100), "full-v2": range(5000, 5060),
                                 "val-v2": range(6000, 6100)}

# Benchmark splits by key (`name-vN`); a bare name is the newest version whose checksums are committed.
SPLITS: dict[str, SplitRecipe] = {s.key: s for s in (MINI_V1, FULL_V1, MINI_V2, FULL_V2, FULL_V3)}
VALIDATIONS: dict[str, SplitRecipe] = {s.key: s for s in (VALIDATION_V1, VALIDATION_V2)}
LATEST = {"mini": MINI_V2.key, "full": FULL_V3.key, "val": VALIDATION_V2.key}
# Model selection: the newest validation recipe, from seeds no benchmark split uses; `genbench train casper`
# validates on it.
VALIDATION = VALIDATIONS[LATEST["val"]]
# Shipped inside the package: `genbench eval` with no --data scores the newest mini; v1 stays for its tables.
SHIPPED_SPLITS = {MINI_V1.key: HERE / MINI_V1.key, MINI_V2.key: HERE / MINI_V2.key}
SHIPPED = SHIPPED_SPLITS[LATEST["mini"]]


def recipe(name: str) -> SplitRecipe:
    """The recipe of a split key (`mini-v1`) or bare name (`mini`: its newest version)."""
    key = LATEST.get(name, name)
    found = SPLITS.get(key) or VALIDATIONS.get(key)
    if found is None:
        names = ", ".join([*LATEST, *SPLITS, *VALIDATIONS])
        raise GenbenchError(f"unknown benchmark split {name!r}; choose one of {names}")
    return found


def shipped_copy(spec: SplitRecipe) -> Path | None:
    """The copy of the split that ships in the package, if it does."""
    return SHIPPED_SPLITS.get(spec.key)


def checksum_file(spec: SplitRecipe) -> Path:
    return HERE / f"{spec.key}{CHECKSUM_SUFFIX}"


def _complete(summary: RunSummary, part: str) -> None:
    """A part with failed scenes stops the build (the work folder stays: fix the cause and build again)."""
    if summary.failed:
        first = next(iter(summary.failed.items()))
        raise GenbenchError(f"building the split failed in its {part} part: {len(summary.failed)} scene(s) failed, "
                            f"{first[0]}: {first[1].splitlines()[0]} (all errors: {summary.root}/failures.json)")


def tripod_footage(aux: Path, out: Path, plate_frames: int) -> list[Path]:
    """Static-camera clips from the auxiliary render: `bg` frames, then `full`, then `bg` again,
    so the object enters an empty scene and leaves it (a tripod capture with real shadows)."""
    clips = []
    for sid in list_scene_ids(aux):
        meta = read_meta(aux, sid)
        if meta.spec.get("camera", {}).get("motion") != "static":
            continue
        folder = scene_dir(aux, sid) / contract.RGB_DIR
        full, bg = read_video(folder / contract.FULL), read_video(folder / contract.BG)
        clip = np.concatenate([bg[:plate_frames], full, bg[-plate_frames:]])
        write_video(out / sid, clip)
        clips.append(out / sid)
    return clips


def misplaced_tripod_windows(root: Path, spec: SplitRecipe) -> list[str]:
    """The tripod scenes of a built split whose window is not inside its footage's object clip
    (`tripod_footage`: frames `plate_frames` to `plate_frames + frames`). Such a window shows the clean-plate
    frames as its input, and its target is the tripod generator's temporal-median plate, which holds every object
    that rests for most of the footage (in the full recipes the object clip is 24 of 40 frames): its ground truth
    is inverted."""
    inside = range(spec.tripod_plate_frames, spec.tripod_plate_frames + spec.frames + 1)
    misplaced = []
    for sid in list_scene_ids(root):
        meta = read_meta(root, sid)
        if meta.generator == "tripod":
            start, stop = meta.spec["frames"]
            if start not in inside or stop not in inside:
                misplaced.append(sid)
    return misplaced


def _merge(parts: list[Path], root: Path, label: str) -> None:
    """Copy every part's scenes into root/scenes with split `label` (scene ids are unique per generator)."""
    for part in parts:
        for sid in list_scene_ids(part):
            target = scene_dir(root, sid)
            if target.exists():
                raise GenbenchError(f"scene id {sid} appears twice while merging the benchmark parts")
            shutil.copytree(scene_dir(part, sid), target)
            meta = read_meta(root, sid)
            meta.split = label
            write_json(target / contract.META_FILE, meta.to_dict())


def work_folder(out: Path) -> Path:
    """Where `build_split` keeps its parts until the split is whole: kept when a build is interrupted."""
    out = Path(out)
    return out.parent / f".{out.name}.build"


def _claim_work_folder(work: Path, spec: SplitRecipe) -> None:
    """Create the work folder, or resume one left by an interrupted build of the same recipe."""
    stamp = work / RECIPE_FILE
    if work.exists():
        if not stamp.is_file():
            raise GenbenchError(f"{work} exists but is not a benchmark build folder; move it away and run again")
        if json.loads(stamp.read_text()) != asdict(spec):
            raise GenbenchError(f"{work} holds an interrupted build of another recipe; delete it to start over")
        log.info("resuming the interrupted build in %s", work)
        return
    work.mkdir(parents=True)
    write_json(stamp, asdict(spec))


def build_split(spec: SplitRecipe, out: Path, *, run: RenderRun | None = None) -> Path:
    """Build the split `spec` describes into `out` (which must not exist), calling the generators' library
    functions. The parts are made in a sibling work folder (`work_folder(out)`) and `out` appears only when the
    split is complete. The generators skip finished scenes, so running the same build again after an
    interruption resumes it. `run` says how both renders run (workers, device, a Ray cluster)."""
    run = run or RenderRun()
    out = Path(out)
    if out.exists():
        raise GenbenchError(f"{out} already exists; choose a new --out (a split is built whole, never over files)")
    work = work_folder(out)
    _claim_work_folder(work, spec)
    kubric, aux, paste, tripod = (work / p for p in ("kubric", "aux", "paste", "tripod"))
    for seed, scenes, folder in ((spec.kubric_seed, spec.kubric_scenes, kubric), (spec.aux_seed, spec.aux_scenes, aux)):
        log.info("rendering %d scenes of seed %d into %s", scenes, seed, folder)
        _complete(render_dataset(folder, spec.render_settings(seed), scenes, run).summary, "render")
    log.info("pasting %d scenes into %s", spec.paste_scenes, paste)
    _complete(paste_dataset(paste, aux, aux, spec.paste_scenes, seed=spec.kubric_seed, frames=spec.frames,
                            shadow=True).summary, "paste")
    footage = tripod_footage(aux, work / "footage", spec.tripod_plate_frames)
    parts = [kubric, paste]
    if footage:
        try:
            _complete(tripod_dataset(footage, tripod, TripodSettings(window=spec.frames)).summary, "tripod")
            parts.append(tripod)
        except NothingAccepted as exc:
            log.warning("the tripod part accepted no window, the split has none: %s", exc)
    else:
        log.warning("no static-camera scene in the auxiliary render: the split has no tripod part")
    merged = work / "merged"
    if merged.exists():  # an interrupted merge: cheap to redo
        shutil.rmtree(merged)
    (merged / contract.SCENES_DIR).mkdir(parents=True)
    _merge(parts, merged, spec.label)
    finalize(merged, name=spec.dataset_name, generator="benchmark", settings={"recipe": asdict(spec)})
    if misplaced := misplaced_tripod_windows(merged, spec):
        log.warning("%d tripod window(s) lie in the clean-plate frames of their footage, so their ground truth is "
                    "inverted (a known defect of this recipe; docs/benchmark.md): %s", len(misplaced),
                    ", ".join(misplaced))
    merged.rename(out)
    shutil.rmtree(work)
    return out


def checksummed(rel: str) -> bool:
    """Whether the checksums cover a file (posix path relative to the split): what is deterministic and
    what a score depends on, i.e. every file of every scene (frames, masks, trimasks, meta.json) except the
    preview GIFs and run.json (seconds and threads, which differ from run to run). `dataset.json` and
    `manifest.parquet` are indexes rebuilt from the scenes (a copy fetched from the Hub rebuilds them, with
    its own provenance), so they are not covered."""
    parts = rel.split("/")
    return len(parts) > 2 and parts[0] == contract.SCENES_DIR and parts[-1] not in (PREVIEW_FILE, contract.RUN_FILE)


def is_pixel_file(rel: str) -> bool:
    """A frame, mask or trimask (PNG): a change there changes what is scored, not only what is recorded."""
    return rel.endswith(".png")


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every checksummed file under root, by posix relative path."""
    root = Path(root)
    digests = {}
    for path in sorted((root / contract.SCENES_DIR).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and checksummed(rel):
            digests[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def write_checksums(root: Path, path: Path) -> Path:
    lines = [f"{digest}  {rel}" for rel, digest in file_digests(root).items()]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def read_checksums(path: Path) -> dict[str, str]:
    if not Path(path).is_file():
        raise GenbenchError(f"{path}: no checksum file (a split whose recipe is not frozen yet has none); pass one "
                            "with --checksums")
    out = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            raise GenbenchError(f"{path}:{number}: expected 'SHA256  PATH', got {line!r}")
        out[rel] = digest
    return out


@dataclass(frozen=True)
class Verification:
    checked: int
    missing: list[str]
    changed: list[str]
    extra: list[str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.extra)

    def summary(self) -> str:
        """One line: how many files differ and whether any pixel file (frame, mask, trimask) does."""
        differ = self.changed + self.missing + self.extra
        pixels = [rel for rel in differ if is_pixel_file(rel)]
        what = (f"{len(pixels)} of them frames, masks or trimasks (first: {pixels[0]})" if pixels
                else "metadata only: every frame, mask and trimask matches")
        return (f"{len(self.changed)} changed, {len(self.missing)} missing, {len(self.extra)} extra of "
                f"{self.checked} files; {what}")


def verify_checksums(root: Path, path: Path) -> Verification:
    """Compare every file under root, byte for byte, with the committed checksums."""
    expected, actual = read_checksums(path), file_digests(root)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(rel for rel in set(expected) & set(actual) if expected[rel] != actual[rel])
    return Verification(checked=len(expected), missing=missing, changed=changed, extra=extra)


def hub_repo(spec: SplitRecipe) -> str:
    """The Hub dataset repository a split is published to (`genbench publish DIR --repo-id ...`)."""
    return f"genbench/{spec.dataset_name}"


def require_official(root: Path, spec: SplitRecipe, checksums: Path | None = None) -> Verification:
    """Verify `root` against the split's committed checksums; raise naming what differs when it is not official."""
    path = checksums or checksum_file(spec)
    if not path.is_file():
        raise GenbenchError(f"no checksums are committed for the {spec.key!r} split yet ({path.name}); "
                            f"build it with `genbench benchmark build --split {spec.key}` and compare by eye")
    result = verify_checksums(root, path)
    if not result.ok:
        first = (result.changed + result.missing + result.extra)[0]
        raise GenbenchError(f"not the official {spec.dataset_name}: {result.summary()} (first: {first})")
    return result


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise GenbenchError(f"--from {repo_id!r} is neither a folder nor a Hub dataset repo id (ORG/NAME)") from None
    try:
        return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", allow_patterns=["benchmark/*"]))
    except Exception as error:  # offline, missing repo, auth: one message with the way round it
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GenbenchError(f"could not download {repo_id} from the Hugging Face Hub ({reason}); on a machine "
                            "with network, download it (huggingface-cli download --repo-type dataset "
                            f"{repo_id} --local-dir DIR) and pass --from DIR") from None


def fetch_split(spec: SplitRecipe, out: Path, source: str | None = None, checksums: Path | None = None) -> Path:
    """Unpack a published split (a `genbench publish` folder, or a Hub repo id; by default the split's
    official repo) into the dataset folder `out`, which appears only if every file matches the checksums."""
    from genbench.publish.unpack import unpack

    source = source or hub_repo(spec)
    export_dir = Path(source) if Path(source).is_dir() else _download(source)
    unpack(export_dir, Path(out), config="benchmark", name=spec.dataset_name, settings={"recipe": asdict(spec)},
           check=lambda folder: require_official(folder, spec, checksums))
    return Path(out)


def official_digest(root: Path) -> str | None:
    """sha256 of the committed checksum file when `root` is an official copy of a split, else None."""
    name = read_info(root).name
    spec = next((s for s in SPLITS.values() if s.dataset_name == name), None)
    if spec is None:
        return None
    try:
        require_official(root, spec)
    except GenbenchError:
        return None
    return hashlib.sha256(checksum_file(spec).read_bytes()).hexdigest()


# -- keeping benchmark content out of training and model selection -------------------------------------------

def benchmark_scene_ids() -> dict[str, str]:
    """Kubric scene id -> benchmark split name, for every scene of every benchmark recipe's renders (its test
    scenes and the auxiliary render its paste and tripod scenes come from). A Kubric scene is a function of
    (seed, index), so a render of these ids is benchmark content at any resolution."""
    from genbench.generators.kubric.make import GENERATOR

    out = {}
    for spec in SPLITS.values():
        for seed, count in ((spec.kubric_seed, spec.kubric_scenes), (spec.aux_seed, spec.aux_scenes)):
            for i in range(count):
                out.setdefault(f"{GENERATOR}-s{seed}-{i:06d}", spec.dataset_name)
    return out


def benchmark_frames() -> dict[str, tuple[str, str]]:
    """sha256 -> (split name, path) of every input frame (rgb/full) of every benchmark split, from the
    committed checksums: what a copy of a split, or of any of its scenes, cannot hide."""
    out: dict[str, tuple[str, str]] = {}
    for spec in SPLITS.values():
        path = checksum_file(spec)
        if path.is_file():
            for rel, digest in read_checksums(path).items():
                if f"/{contract.RGB_DIR}/{contract.FULL}/" in rel:
                    out.setdefault(digest, (spec.dataset_name, rel))
    return out


def benchmark_overlap(root: Path) -> str | None:
    """Where the dataset at `root` holds benchmark content, in words (the first scene found), else None.

    A scene overlaps when its id is a benchmark render's (`benchmark_scene_ids`) or any of its input frames
    is byte for byte a benchmark split's (`benchmark_frames`): a copied, renamed or merged split is caught
    by its content, not its path."""
    ids, frames = benchmark_scene_ids(), benchmark_frames()
    for sid in list_scene_ids(root):
        if sid in ids:
            return f"scene {sid} is a scene of {ids[sid]} (same generator, seed and index)"
        folder = scene_dir(root, sid) / contract.RGB_DIR / contract.FULL
        for frame in sorted(folder.glob("*.png")):
            hit = frames.get(hashlib.sha256(frame.read_bytes()).hexdigest())
            if hit:
                return f"{frame.relative_to(root)} is {hit[1]} of {hit[0]}"
    return None


def refuse_benchmark_content(root: Path, use: str) -> None:
    """Raise GenbenchError when the dataset `root`, meant for `use` (training, validation), holds benchmark content."""
    overlap = benchmark_overlap(root)
    if overlap:
        raise GenbenchError(f"{root} shares content with a benchmark split ({overlap}); benchmark scenes never "
                            f"serve for {use}: use data from other seeds (genbench render --seed S, S not "
                            f"{', '.join(str(s) for s in sorted(_benchmark_seeds()))})")


def _benchmark_seeds() -> set[int]:
    return {seed for spec in SPLITS.values() for seed in (spec.kubric_seed, spec.aux_seed)}


def validation_split() -> Path:
    """The validation split (`VALIDATION`) in genbench's cache, built there the first time it is asked for."""
    from genbench.benchmark.lpips_backbone import cache_dir

    out = cache_dir() / "splits" / VALIDATION.dataset_name
    if (out / contract.DATASET_FILE).is_file():
        return out
    log.info("building the validation split %s once into %s (a few minutes; later runs reuse it)",
             VALIDATION.dataset_name, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return build_split(VALIDATION, out)
