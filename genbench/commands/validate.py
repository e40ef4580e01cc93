"""`genbench validate DIR_OR_URL`."""

from __future__ import annotations

import argparse
import json

from genbench.errors import require_at_least
from genbench.progress import track
from genbench.storage import local_copy, open_output, output_root
from genbench.validate import Problem, validate_dataset


def run(args: argparse.Namespace) -> int:
    require_at_least("--workers", args.workers)
    where = output_root(args.dataset)
    # A URL (s3://, gs://) is validated on a local copy of its committed scenes, each file checked on download.
    report = validate_dataset(local_copy(where), workers=args.workers,
                              progress=lambda items: track(items, "validating scenes", unit="scenes"))
    report.problems += [Problem(f"scenes/{sid}", "uncommitted scene left by an interrupted run (no marker: invisible "
                                "to readers; the next run makes it again)", "warning")
                        for sid in open_output(where).uncommitted()]
    if args.json:
        print(json.dumps({
            "root": str(where), "ok": report.ok, "scenes": report.scenes, "samples": report.samples,
            "frames": report.frames,
            "problems": [{"severity": p.severity, "path": p.path, "message": p.message} for p in report.problems],
        }, indent=2))
    else:
        for problem in report.problems:
            print(problem)
        verdict = "valid" if report.ok else f"INVALID: {len(report.errors)} error(s)"
        warnings = len(report.problems) - len(report.errors)
        print(f"{where}: {verdict}; {report.scenes} scenes, {report.samples} samples, "
              f"{report.frames} frames checked" + (f", {warnings} warning(s)" if warnings else ""))
    return 0 if report.ok else 1
