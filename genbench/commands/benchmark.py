"""`genbench benchmark build|fetch|verify|checksums`: the frozen benchmark splits."""

from __future__ import annotations

import argparse
from pathlib import Path

from genbench.errors import GenbenchError


def run(args: argparse.Namespace) -> int:
    from genbench.benchmark import split as sp
    from genbench.generators.kubric.dataset import RenderRun
    from genbench.storage import local_copy, open_output

    spec = sp.recipe(args.split)
    checksums = Path(args.checksums) if args.checksums else sp.checksum_file(spec)
    if args.action == "build":
        if not args.out:
            raise GenbenchError("benchmark build needs --out DIR (a new folder)")
        how = RenderRun(workers=args.workers, device=args.device, executor=args.executor, address=args.address,
                        cpus_per_scene=args.cpus_per_scene)
        how.check()

        def build(folder: Path) -> Path:
            print(f"building {spec.dataset_name}: parts in {sp.work_folder(folder)} (if interrupted, run the "
                  "same command again to resume)", flush=True)
            return sp.build_split(spec, folder, run=how)

        out = open_output(args.out).build_into(build)  # a URL (s3://, gs://): built locally, then uploaded
        print(f"built {spec.dataset_name} in {out}; compare with the official copy: "
              f"genbench benchmark verify {out} --split {spec.key}")
        return 0
    if args.action == "fetch":
        if not args.out:
            raise GenbenchError("benchmark fetch needs --out DIR (a new folder)")
        out = sp.fetch_split(spec, Path(args.out), args.source, Path(args.checksums) if args.checksums else None)
        print(f"{out}: the official {spec.dataset_name} (every file matches {checksums.name}); score on it with "
              f"genbench eval --data {out} --method ...")
        return 0
    root = local_copy(args.dataset) if args.dataset else sp.shipped_copy(spec)
    if root is None:
        raise GenbenchError(f"benchmark {args.action} needs the split's folder: genbench benchmark {args.action} DIR")
    if not root.is_dir():
        raise GenbenchError(f"{root}: no such folder; give the split's folder: genbench benchmark {args.action} DIR")
    if args.action == "checksums":
        print(f"wrote {sp.write_checksums(root, checksums)}")
        return 0
    result = sp.verify_checksums(root, checksums)
    for label, paths in (("missing", result.missing), ("changed", result.changed), ("not in the split", result.extra)):
        for rel in paths[:20]:
            print(f"{label}: {rel}")
        if len(paths) > 20:
            print(f"... and {len(paths) - 20} more {label}")
    if result.ok:
        print(f"{root}: the official {spec.dataset_name} ({result.checked} files match {checksums.name})")
        return 0
    print(f"{root}: NOT the official {spec.dataset_name}: {result.summary()}")
    return 1
