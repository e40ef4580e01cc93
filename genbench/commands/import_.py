"""`genbench import SOURCE SRC --out DIR`: a published benchmark's release, or a folder of pairs, as a dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from genbench.errors import GenbenchError


def run(args: argparse.Namespace) -> int:
    from genbench.importers import IMPORTERS
    from genbench.importers.build import ImportSettings, import_clips

    importer = IMPORTERS.get(args.source)
    folders = {role: getattr(args, role, None) for role in ("inputs", "masks", "gt")}
    stray = [f"--{r}" for r, v in folders.items() if v and r not in importer.folders]
    if stray:
        raise GenbenchError(f"{', '.join(stray)} only apply to "
                            f"{', '.join(n for n in IMPORTERS if IMPORTERS.get(n).folders)}")
    src = Path(args.src)
    if not src.is_dir():
        raise GenbenchError(f"{src} is not a folder")
    max_frames = args.max_frames
    if max_frames is None and args.source == "prove-m":
        from genbench.importers.prove_m import MAX_FRAMES

        max_frames = MAX_FRAMES  # PROVE's own cap
    settings = ImportSettings(source=args.source, release=importer.release, split=args.split, max_frames=max_frames,
                              max_size=args.max_size, trimask=args.trimask)
    clips = importer.find(src, folders)
    out = Path(args.out)
    written, skipped = import_clips(clips, out, settings)
    print(f"{out}: {written} {args.source} scenes imported, {skipped} already there ({len(clips)} clips in {src}); "
          f"layout as read from {importer.release}")
    return 0
