"""genbench.benchmark: score removal and layering methods on a dataset in the data contract.

- `metrics`: PSNR, SSIM and LPIPS of frames, batched, whole frame and per region (`FrameScorer`).
- `ssim`: scikit-image's SSIM, exact and fast for uint8 frames (OpenCV on the CPU, torch elsewhere).
- `lpips_backbone`: the LPIPS AlexNet backbone, loaded with no network.
- `regions`: full / object / effect / preserve masks of a removal sample.
- `items`: removal samples and layering scenes read from a dataset.
- `predictions`: the predictions layout, its validation, atomic writing and hashed reading.
- `harness`: run methods (through `genbench.methods.METHODS`), cache predictions, score (`evaluate`).
- `results`: means, results.json, the per-clip CSV and the Markdown tables.
- `report` and `svg`: the self-contained HTML report.
- `split`: the frozen benchmark splits: recipes, build, fetch, checksums and the official-copy digest.

Nothing heavy is imported here; each module imports torch, OpenCV or lpips only where it needs them.
"""
