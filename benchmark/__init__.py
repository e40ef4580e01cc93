"""genbench.benchmark: score removal and layering methods on a dataset in the data contract.

- `metrics`: PSNR, SSIM and LPIPS of frames, whole frame and per region on protocol v2's composites
  (`FrameScorer`, `PROTOCOL`).
- `ssim`: scikit-image's SSIM, exact and fast for uint8 frames.
- `lpips_backbone`: the LPIPS AlexNet backbone, loaded with no network.
- `regions`: full / object / effect / preserve (and effect:<kind>) masks of a removal sample.
- `prove`: PROVE-Bench's RC-S and RC-T (DINOv2 features from a local checkpoint), for its comparable table.
- `items`: what a predictions folder must hold for a split, and the name of the dataset version scored.
- `predictions`: the predictions layout, its validation and atomic writing.
- `harness`: run methods (through `genbench.methods.METHODS`), cache predictions, score (`evaluate`).
- `results`: clip scores, means, the headline, results.json, the per-clip CSV and the Markdown tables.
- `report` and `svg`: the self-contained HTML report.
- `split`: the frozen benchmark splits and the validation recipe: build, fetch, checksums, the official-copy
  digest, and the check that keeps benchmark content out of training and model selection.

Reading samples and scenes is the data contract's job (`genbench.samples`), shared with training.

Nothing heavy is imported here; each module imports torch, OpenCV or lpips only where it needs them.
"""
