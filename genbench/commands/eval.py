"""`genbench eval --method NAME[,NAME...][:ARG]`: run or score methods; write results, tables and a report.

Method specs follow `genbench.methods.split_method_specs`: names split on ',', and an argument after ':'
runs to the next registered name (``--method casper:DIR1,casper:DIR2,median``), `external`'s to the end
(``--method identity,external:python my.py {input} {output}``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from genbench.benchmark.harness import EvalSettings, evaluate
    from genbench.benchmark.report import write_report
    from genbench.benchmark.results import markdown, write_results
    from genbench.methods import split_method_specs
    from genbench.storage import local_copy

    methods = split_method_specs(args.method)
    settings = EvalSettings(task=args.task, split=args.split, max_frames=getattr(args, "max_frames", None),
                            device=getattr(args, "device", None), workers=getattr(args, "workers", 1))
    from genbench.benchmark import prove

    dinov2 = None
    if args.dinov2 or os.environ.get(prove.ENV_VAR):  # a local DINOv2 checkpoint for PROVE's RC-S and RC-T
        dinov2 = prove.DinoFeatures(args.dinov2, device=getattr(args, "device", None))
    out = Path(args.out)
    data = local_copy(args.data) if args.data else None  # a URL (s3://, gs://) is scored on a local copy
    result = evaluate(methods, data, out, settings,
                      predictions=Path(args.predictions) if args.predictions else None, dinov2=dinov2)
    paths = write_results(out, result)
    paths["html"] = write_report(out, result, Path(result.dataset["path"]))
    print(markdown(result))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
