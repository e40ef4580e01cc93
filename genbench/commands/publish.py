"""`genbench publish DATASET... (--to DIR | --repo-id ORG/NAME)`: the Hub's layout, written or pushed."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from genbench.errors import GenbenchError
    from genbench.publish.export import export
    from genbench.publish.push import check_repo_id, push
    from genbench.storage import local_copy

    if args.to is None and args.repo_id is None:
        raise GenbenchError("say where to publish: --to DIR (a folder) and/or --repo-id ORG/NAME (the Hub)")

    datasets = [local_copy(d) for d in args.dataset]  # a URL (s3://, gs://) is published from a local copy
    shard_bytes = int(args.max_shard_mb * 2**20)
    command = ["genbench", *sys.argv[1:]] if sys.argv[1:2] == ["publish"] else None
    if args.repo_id is None:
        sources = export(datasets, Path(args.to), max_shard_bytes=shard_bytes, license=args.license, command=command)
        print(f"wrote {args.to}: " + "; ".join(
            f"{s.config}: " + ", ".join(f"{split} {len(sh)} shard(s)" for split, sh in s.shards.items())
            for s in sources))
        return 0
    check_repo_id(args.repo_id)  # before minutes of exporting
    with tempfile.TemporaryDirectory(prefix="genbench-publish-") as tmp:
        folder = Path(args.to) if args.to else Path(tmp) / "export"
        export(datasets, folder, max_shard_bytes=shard_bytes, license=args.license, command=command)
        report = push(folder, args.repo_id, private=args.private)
    print(f"pushed to https://huggingface.co/datasets/{args.repo_id}: {len(report.uploaded)} file(s) uploaded, "
          f"{len(report.skipped)} already there, {len(report.deleted)} stale removed")
    return 0
