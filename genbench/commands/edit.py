"""`genbench edit LAYERS_DIR [--remove K] [--retime K:FACTOR] [--insert IMAGE|text:WORDS --behind K] --out DIR`.

Reads a decomposition (`genbench decompose` output: bg/, layers/<k>/, decompose.json for the depth
order; without it, ascending ids back to front), applies the edits in the order retime, remove,
insert, and writes, atomically:

    OUT/frames/00000.png ...   the edited video, uint8 RGB
    OUT/edit.json              the source folder, the edits and the resulting layer order
    OUT/preview.gif            original recomposition | edited
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from genbench import contract
from genbench.atomic import atomic_folder
from genbench.errors import GenbenchError

FRAMES_DIR = "frames"
RESULT_FILE = "edit.json"
PREVIEW_FILE = "preview.gif"


def read_stack(folder: Path):  # -> Stack
    """The decomposition in `folder`: bg, layers and their order back to front."""
    from genbench.frames import read_video
    from genbench.models.omnimatte.edits import Stack

    folder = Path(folder)
    if not (folder / contract.BG).is_dir() or not (folder / contract.LAYERS_DIR).is_dir():
        raise GenbenchError(f"{folder}: not a decomposition (needs bg/ and layers/<k>/, as genbench decompose writes)")
    bg = read_video(folder / contract.BG)
    layers = {}
    for sub in sorted((folder / contract.LAYERS_DIR).iterdir()):
        if not sub.is_dir() or not sub.name.isdigit():
            continue
        layer = read_video(sub)
        if layer.shape != (*bg.shape[:3], 4):
            raise GenbenchError(f"{sub}: layer is {layer.shape}, expected RGBA {(*bg.shape[:3], 4)} like bg/")
        layers[int(sub.name)] = layer
    result = folder / "decompose.json"
    order = json.loads(result.read_text())["order"] if result.is_file() else sorted(layers)
    if sorted(order) != sorted(layers):
        raise GenbenchError(f"{result}: order {order} does not match the layers {sorted(layers)}")
    return Stack(bg, layers, [int(k) for k in order])


def _retime_spec(value: str) -> tuple[int, float]:
    k, sep, factor = value.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(k), float(factor)
    except ValueError:
        raise GenbenchError(f"--retime {value!r}: expected K:FACTOR, e.g. 2:0.5") from None


def _insert_layer(source: str, size: tuple[int, int]):  # -> np.ndarray
    from genbench.models.omnimatte.edits import image_layer, text_layer

    if source.startswith("text:"):
        if not source[5:].strip():
            raise GenbenchError("--insert text: needs words after 'text:'")
        return text_layer(source[5:], size)
    path = Path(source)
    if not path.is_file():
        raise GenbenchError(f"--insert {source!r}: no such image file (or use text:WORDS)")
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            image = np.asarray(img.convert("RGBA"))
    except UnidentifiedImageError:
        raise GenbenchError(f"--insert {source!r}: not an image Pillow can read") from None
    return image_layer(image, size)


def run(args: argparse.Namespace) -> int:
    from genbench.frames import write_video
    from genbench.models.omnimatte import edits
    from genbench.preview import strip, write_gif

    if (args.insert is None) != (args.behind is None):
        raise GenbenchError("--insert and --behind go together: --insert IMAGE|text:WORDS --behind K")
    retimes = [_retime_spec(v) for v in args.retime]
    if not (args.remove or retimes or args.insert):
        raise GenbenchError("no edit given; pass --remove K, --retime K:FACTOR or --insert ... --behind K")
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / RESULT_FILE).is_file())):
        raise GenbenchError(f"{out} exists and is not an edit output; pass a new or empty --out folder")
    stack = read_stack(Path(args.layers))
    original = stack.render()
    for k, factor in retimes:
        stack = edits.retime(stack, k, factor)
    for k in args.remove:
        stack = edits.remove(stack, k)
    if args.insert:
        if args.behind in args.remove:
            raise GenbenchError(f"--behind {args.behind}: that layer is removed by --remove")
        stack = edits.insert_behind(stack, _insert_layer(args.insert, stack.bg.shape[1:3]), args.behind)
    edited = stack.render()
    record = {"layers": str(args.layers), "remove": list(args.remove),
              "retime": [{"layer": k, "factor": f} for k, f in retimes],
              "insert": {"source": args.insert, "behind": args.behind} if args.insert else None,
              "order": stack.order, "inserted_id": edits.INSERTED}
    with atomic_folder(out) as tmp:
        write_video(tmp / FRAMES_DIR, edited)
        (tmp / RESULT_FILE).write_text(json.dumps(record, indent=2) + "\n")
        write_gif(tmp / PREVIEW_FILE, strip([original, edited], ["original", "edited"]))
    print(f"{out}: {len(edited)} edited frames in {out / FRAMES_DIR}; layers back to front "
          f"{['inserted' if k == edits.INSERTED else k for k in stack.order]}; preview {out / PREVIEW_FILE}")
    return 0
