"""Typed records of the data contract: dataset, scene, object instance and sample.

Every record is a dataclass that round-trips through plain JSON (`to_dict` / `from_dict`).
Field names follow Kubric's MOVi metadata where it has one (`instances`, `asset_id`,
`positions`, `camera.focal_length`, `metadata.num_frames` ...), so Kubric users read our
scenes without a guide.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from genbench import contract
from genbench.errors import DatasetError


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise DatasetError(f"{where}: missing field '{key}'")
    return data[key]


@dataclass(frozen=True)
class TrimaskSpec:
    """How a sample's trimask follows from the scene's masks (see `genbench.trimask`).

    dilation: pixels the remove region (0) grows beyond the removed objects' visible
        masks, so anti-aliased edges and motion blur are removed too.
    band: None marks the whole background uncertain (128), the paper's convention for
        removal. An integer marks only background within `band` pixels of the remove
        region uncertain and the rest preserve (255).
    stored: the trimask is stored under ``trimask/<sample_id>/`` instead of derived
        (generators whose uncertain region comes from data, e.g. a detected shadow).
    """

    dilation: int = 2
    band: int | None = None
    stored: bool = False

    def __post_init__(self) -> None:
        if self.dilation < 0:
            raise ValueError(f"trimask dilation must be >= 0, got {self.dilation}")
        if self.band is not None and self.band < 0:
            raise ValueError(f"trimask band must be None or >= 0, got {self.band}")


@dataclass(frozen=True)
class SampleSpec:
    """A removal task in a scene: which objects to remove and how the trimask is made.

    affected: objects that move differently once `remove` is gone (a physics counterfactual: what the
        removed object pushed or hit); their changed region is under masks/changed/<k>/. Written only
        when there are any.
    """

    remove: tuple[int, ...]
    trimask: TrimaskSpec = TrimaskSpec()
    affected: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        optional = {"affected": list(self.affected)} if self.affected else {}
        return {"remove": list(self.remove), "trimask": dataclasses.asdict(self.trimask), **optional}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleSpec:
        return cls(
            remove=tuple(int(k) for k in _require(data, "remove", "sample")),
            trimask=TrimaskSpec(**data.get("trimask", {})),
            affected=tuple(int(k) for k in data.get("affected", [])),
        )


@dataclass(frozen=True)
class Instance:
    """One foreground object. `id` is its value in masks/visible and its folder suffix.

    Per-frame values (`positions`, `quaternions`, `velocities`, `bboxes_3d` ...) and any
    other generator-specific fields live in `extra` and are written flat beside the rest.
    """

    id: int
    asset_id: str
    kind: str = "object"
    material: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "asset_id": self.asset_id, "kind": self.kind, "material": self.material,
                **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instance:
        known = {"id", "asset_id", "kind", "material"}
        return cls(
            id=int(_require(data, "id", "instance")),
            asset_id=str(_require(data, "asset_id", "instance")),
            kind=str(data.get("kind", "object")),
            material=dict(data.get("material", {})),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass
class SceneMeta:
    """Everything needed to reproduce and interpret one scene folder (`meta.json`).

    videos: names of the RGB videos written under rgb/ (`full`, `bg`, `minus_<k>`, `solo_<k>`).
    layers / amodal: object ids that have a ground-truth layer / an amodal mask.
    effects: object id -> the effect kinds that have a mask under masks/effects/<k>/<kind>/ (optional).
    changed: object ids k with a changed-region mask under masks/changed/<k>/: where removing k changes
        how other objects move (a physics counterfactual; optional).
    """

    scene_id: str
    generator: str
    seed: int
    index: int
    num_frames: int
    height: int
    width: int
    fps: float = 12.0
    split: str = "train"
    instances: list[Instance] = field(default_factory=list)
    videos: list[str] = field(default_factory=lambda: [contract.FULL, contract.BG])
    layers: list[int] = field(default_factory=list)
    amodal: list[int] = field(default_factory=list)
    effects: dict[int, list[str]] = field(default_factory=dict)
    changed: list[int] = field(default_factory=list)
    samples: list[SampleSpec] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)  # the run's settings, the same for every scene
    spec: dict[str, Any] = field(default_factory=dict)  # this scene's sampled description
    camera: dict[str, Any] = field(default_factory=dict)
    lights: list[dict[str, Any]] = field(default_factory=list)
    render: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    # What differs from run to run (seconds, threads): written to run.json beside meta.json, never checksummed
    run: dict[str, Any] = field(default_factory=dict)
    schema_version: int = contract.SCHEMA_VERSION

    @property
    def object_ids(self) -> list[int]:
        return [inst.id for inst in self.instances]

    def effect_kinds(self, remove: tuple[int, ...] | list[int]) -> tuple[str, ...]:
        """The effect kinds with masks among the objects `remove`, sorted."""
        return tuple(sorted({kind for k in remove for kind in self.effects.get(k, [])}))

    def to_dict(self) -> dict[str, Any]:
        optional: dict[str, Any] = {"effects": {str(k): list(v) for k, v in sorted(self.effects.items())}
                                    } if self.effects else {}
        if self.changed:
            optional["changed"] = list(self.changed)
        return {
            **optional,
            "schema_version": self.schema_version,
            "scene_id": self.scene_id,
            "generator": self.generator,
            "split": self.split,
            "metadata": {
                "seed": self.seed,
                "index": self.index,
                "num_frames": self.num_frames,
                "resolution": [self.height, self.width],
                "frame_rate": self.fps,
            },
            "instances": [inst.to_dict() for inst in self.instances],
            "videos": list(self.videos),
            "layers": list(self.layers),
            "amodal": list(self.amodal),
            "samples": [s.to_dict() for s in self.samples],
            "settings": self.settings,
            "spec": self.spec,
            "camera": self.camera,
            "lights": self.lights,
            "render": self.render,
            "quality": self.quality,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneMeta:
        where = f"scene {data.get('scene_id', '?')}"
        md = _require(data, "metadata", where)
        height, width = _require(md, "resolution", where)
        render = dict(data.get("render", {}))
        run = dict(data.get("run", {}))
        if "timings" in data:  # written inside meta.json before run.json existed
            run.setdefault("timings", dict(data["timings"]))
        if "runtime" in render:  # the device made the pixels and stays; threads and the rest describe the run
            runtime = dict(render.pop("runtime"))
            if "device" in runtime:
                render["device"] = runtime.pop("device")
            for key, value in runtime.items():
                run.setdefault(key, value)
        return cls(
            schema_version=int(_require(data, "schema_version", where)),
            scene_id=str(_require(data, "scene_id", where)),
            generator=str(_require(data, "generator", where)),
            split=str(data.get("split", "train")),
            seed=int(_require(md, "seed", where)),
            index=int(_require(md, "index", where)),
            num_frames=int(_require(md, "num_frames", where)),
            height=int(height),
            width=int(width),
            fps=float(md.get("frame_rate", 12.0)),
            instances=[Instance.from_dict(d) for d in data.get("instances", [])],
            videos=[str(v) for v in data.get("videos", [])],
            layers=[int(k) for k in data.get("layers", [])],
            amodal=[int(k) for k in data.get("amodal", [])],
            effects={int(k): [str(kind) for kind in v] for k, v in data.get("effects", {}).items()},
            changed=[int(k) for k in data.get("changed", [])],
            samples=[SampleSpec.from_dict(s) for s in data.get("samples", [])],
            settings=dict(data.get("settings", {})),
            spec=dict(data.get("spec", {})),
            camera=dict(data.get("camera", {})),
            lights=list(data.get("lights", [])),
            render=render,
            quality=dict(data.get("quality", {})),
            run=run,
        )


@dataclass(frozen=True)
class Sample:
    """One row of manifest.parquet: a (scene, objects to remove) pair and its target video."""

    sample_id: str
    scene_id: str
    split: str
    generator: str
    remove: tuple[int, ...]
    target: str
    num_frames: int
    height: int
    width: int
    trimask_dilation: int
    trimask_band: int  # -1: the whole background is uncertain
    trimask_stored: bool
    effect_kinds: tuple[str, ...] = ()  # kinds with per-kind effect masks among the removed objects

    @property
    def trimask_spec(self) -> TrimaskSpec:
        band = None if self.trimask_band < 0 else self.trimask_band
        return TrimaskSpec(dilation=self.trimask_dilation, band=band, stored=self.trimask_stored)

    @classmethod
    def from_scene(cls, meta: SceneMeta, spec: SampleSpec) -> Sample:
        return cls(
            sample_id=contract.sample_id(meta.scene_id, spec.remove),
            scene_id=meta.scene_id,
            split=meta.split,
            generator=meta.generator,
            remove=tuple(sorted(spec.remove)),
            target=contract.target_video(spec.remove, meta.object_ids),
            num_frames=meta.num_frames,
            height=meta.height,
            width=meta.width,
            trimask_dilation=spec.trimask.dilation,
            trimask_band=-1 if spec.trimask.band is None else spec.trimask.band,
            trimask_stored=spec.trimask.stored,
            effect_kinds=meta.effect_kinds(spec.remove),
        )

    def to_row(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        row["remove"] = list(self.remove)
        row["effect_kinds"] = list(self.effect_kinds)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Sample:
        values = {f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row}
        values["remove"] = tuple(int(k) for k in values["remove"])
        values["effect_kinds"] = tuple(str(k) for k in values.get("effect_kinds", ()))
        for name in ("num_frames", "height", "width", "trimask_dilation", "trimask_band"):
            values[name] = int(values[name])
        values["trimask_stored"] = bool(values["trimask_stored"])
        return cls(**values)


MANIFEST_COLUMNS = tuple(f.name for f in dataclasses.fields(Sample))
REQUIRED_COLUMNS = tuple(c for c in MANIFEST_COLUMNS if c != "effect_kinds")  # older manifests lack it


@dataclass
class DatasetInfo:
    """`dataset.json`: what made the dataset and how much is in it."""

    name: str
    generator: str
    settings: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {"scenes", "samples"}
    created_with: dict[str, Any] = field(default_factory=dict)  # package version, git commit, command
    schema_version: int = contract.SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        names = {f.name for f in dataclasses.fields(cls)}
        missing = {"name", "generator", "schema_version"} - data.keys()
        if missing:
            raise DatasetError(f"dataset.json: missing field(s) {', '.join(sorted(missing))}")
        return cls(**{k: v for k, v in data.items() if k in names})
