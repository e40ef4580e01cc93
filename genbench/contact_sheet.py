"""`contact-sheet.png`: one row per scene, the middle frame of full | minus | effect kinds | trimask.

For people to look at a dataset at a glance (never read by a metric or a checksum). The effect
panel shows the removed object's effect mask split by kind over a dimmed `full`, each kind in its
own colour (the legend under the sheet); a scene without per-kind masks shows its whole effect
region (where `full` and `minus` differ by more than the scene's effect tolerance) in grey. The
object's own region (the trimask's remove region) is left unpainted.
Written atomically at the dataset root, replaced when the dataset grows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from genbench.contract import TRIMASK_REMOVE
from genbench.pixels import differs
from genbench.records import Sample
from genbench.samples import load_removal
from genbench.scene import list_scene_ids, read_meta
from genbench.storage import Root, open_output

CONTACT_SHEET_FILE = "contact-sheet.png"
MAX_SCENES = 16
CELL = 96  # pixels per panel side
LABEL_HEIGHT = 12
KIND_COLOURS = {  # RGB; kinds not listed get OTHER_COLOUR
    "shadow": (40, 110, 255),
    "reflection": (40, 220, 90),
    "refraction": (230, 60, 230),
    "light": (255, 210, 30),
}
OTHER_COLOUR = (255, 120, 40)
UNLABELLED_COLOUR = (200, 200, 200)
COLUMNS = ("full", "minus", "effect kinds", "trimask")


def kind_colour(kind: str) -> tuple[int, int, int]:
    return KIND_COLOURS.get(kind, OTHER_COLOUR)


def effect_panel(full: np.ndarray, minus: np.ndarray, removed: np.ndarray, kinds: dict[str, np.ndarray],
                 tolerance: int) -> np.ndarray:
    """(H, W, 3) uint8: `full` dimmed, each kind's mask ((H, W) bool) painted in its colour (kinds in name order,
    later on top); without kinds, the pixels where full and minus differ by more than `tolerance` in grey.
    Nothing is painted on `removed` ((H, W) bool, the object's own region)."""
    out = (full.astype(np.float32) * 0.35).astype(np.uint8)
    if not kinds:
        out[differs(full, minus, tolerance) & ~removed] = UNLABELLED_COLOUR
    for kind, mask in sorted(kinds.items()):
        out[mask & ~removed] = kind_colour(kind)
    return out


def scene_row(root: Path, scene_id: str) -> tuple[list[np.ndarray], list[str]] | None:
    """The four panels of a scene's first single-object sample (middle frame), and the kinds it shows."""
    meta = read_meta(root, scene_id)
    spec = next((s for s in meta.samples if len(s.remove) == 1), None)
    if spec is None:
        return None
    item = load_removal(root, Sample.from_scene(meta, spec), None)
    t = len(item.frames) // 2
    kinds = {kind: mask[t] for kind, mask in item.effects.items()}
    panel = effect_panel(item.frames[t], item.target[t], item.trimask[t] == TRIMASK_REMOVE, kinds, item.tolerance)
    return [item.frames[t], item.target[t], panel, np.repeat(item.trimask[t][..., None], 3, axis=-1)], sorted(kinds)


def _cell(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image).resize((CELL, CELL), Image.NEAREST)


def contact_sheet(root: Path, scene_ids: list[str] | None = None) -> Image.Image | None:
    """The sheet of the first `MAX_SCENES` scenes (or `scene_ids`), or None when no scene has a removal sample."""
    ids = (scene_ids if scene_ids is not None else list_scene_ids(root))[:MAX_SCENES]
    rows = [(sid, row) for sid in ids if (row := scene_row(root, sid)) is not None]
    if not rows:
        return None
    shown = sorted({kind for _, (_, kinds) in rows for kind in kinds})
    legend = [(kind, kind_colour(kind)) for kind in shown] or [("effect (no kinds recorded)", UNLABELLED_COLOUR)]
    width = CELL * len(COLUMNS)
    sheet = Image.new("RGB", (width, LABEL_HEIGHT + len(rows) * (CELL + LABEL_HEIGHT) + LABEL_HEIGHT))
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(COLUMNS):
        draw.text((i * CELL + 2, 0), name, fill=(255, 255, 255))
    y = LABEL_HEIGHT
    for sid, (panels, kinds) in rows:
        draw.text((2, y), f"{sid}  {' '.join(kinds)}", fill=(180, 180, 180))
        for i, panel in enumerate(panels):
            sheet.paste(_cell(panel), (i * CELL, y + LABEL_HEIGHT))
        y += CELL + LABEL_HEIGHT
    x = 2
    for kind, colour in legend:
        draw.rectangle((x, y + 2, x + 8, y + 10), fill=colour)
        draw.text((x + 11, y), kind, fill=(255, 255, 255))
        x += 14 + 6 * len(kind)
    return sheet


def _write_sheet(root: Path) -> Path | None:
    sheet = contact_sheet(root)
    if sheet is None:
        return None
    path = root / CONTACT_SHEET_FILE
    tmp = root / f".tmp-{uuid.uuid4().hex}-{CONTACT_SHEET_FILE}"
    sheet.save(tmp, optimize=True)
    os.replace(tmp, path)
    return path


def write_contact_sheet(root: Root) -> Root | None:
    """Write ``<root>/contact-sheet.png`` (a folder, or a dataset URL: its first scenes are fetched) atomically;
    None (and nothing written) when there is nothing to show."""
    return open_output(root).add_top_file(CONTACT_SHEET_FILE, _write_sheet, MAX_SCENES)
