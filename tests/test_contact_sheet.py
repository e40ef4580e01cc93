"""The contact sheet: one row per scene, effect kinds painted where the data records them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from genbench import contract
from genbench.contact_sheet import (
    CELL,
    CONTACT_SHEET_FILE,
    LABEL_HEIGHT,
    UNLABELLED_COLOUR,
    effect_panel,
    kind_colour,
    write_contact_sheet,
)
from genbench.scene import list_scene_ids, read_meta, scene_dir

from .conftest import make_toy_dataset


def test_effect_panel_paints_each_kind_where_its_mask_is_and_never_on_the_object() -> None:
    full = np.full((8, 8, 3), 200, np.uint8)
    minus = full.copy()
    removed = np.zeros((8, 8), bool)
    removed[0:2] = True
    shadow = np.zeros((8, 8), bool)
    shadow[1:4, :3] = True  # overlaps the object's rows 0-1: not painted there
    light = np.zeros((8, 8), bool)
    light[6, 6] = True
    panel = effect_panel(full, minus, removed, {"shadow": shadow, "light": light}, tolerance=2)
    assert (panel[shadow & ~removed] == kind_colour("shadow")).all()
    assert (panel[6, 6] == kind_colour("light")).all()
    untouched = ~(shadow | light) | removed
    assert (panel[untouched] == 70).all()  # full dimmed to 35%
    # without kinds, where full and minus differ beyond the tolerance (outside the object) is grey
    minus[5, 2] = 150
    minus[0, 0] = 150
    grey = effect_panel(full, minus, removed, {}, tolerance=2)
    assert (grey[5, 2] == UNLABELLED_COLOUR).all() and (grey[0, 0] == 70).all()


def test_sheet_has_a_row_per_scene_and_shows_the_recorded_kinds(tmp_path: Path) -> None:
    root = make_toy_dataset(tmp_path / "data", count=3)
    path = write_contact_sheet(root)
    assert path == root / CONTACT_SHEET_FILE and not list(root.glob(".tmp-*"))
    sheet = np.asarray(Image.open(path).convert("RGB"))
    rows = len(list_scene_ids(root))
    assert sheet.shape == (LABEL_HEIGHT + rows * (CELL + LABEL_HEIGHT) + LABEL_HEIGHT, 4 * CELL, 3)
    # the toy scenes record shadow masks: the effect column of the first row is painted shadow-blue somewhere
    sid = list_scene_ids(root)[0]
    assert read_meta(root, sid).effects
    effect_cell = sheet[2 * LABEL_HEIGHT: 2 * LABEL_HEIGHT + CELL, 2 * CELL: 3 * CELL]
    assert (effect_cell == kind_colour("shadow")).all(axis=-1).any()


def test_nothing_is_written_when_no_scene_has_a_removal_sample(tmp_path: Path) -> None:
    root = make_toy_dataset(tmp_path / "data", count=1)
    sid = list_scene_ids(root)[0]
    meta_path = scene_dir(root, sid) / contract.META_FILE
    meta = json.loads(meta_path.read_text())
    meta["samples"] = []
    meta_path.write_text(json.dumps(meta))
    assert write_contact_sheet(root) is None
    assert not (root / CONTACT_SHEET_FILE).exists()
