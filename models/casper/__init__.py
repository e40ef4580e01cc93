"""Casper: a trimask-conditioned video diffusion model that removes an object and its effects.

One component per file (diffusers' split of model, schedule and loop):

- `config`: `CasperConfig` and the named sizes ``tiny``, ``small``, ``base``;
- `model`: `CasperNet`, a factorised space-time U-Net (2D convolutions per frame, temporal
  mixing, attention only at the lowest resolution) that predicts the clean clip as input + residual;
- `checkpoint`: `save_pretrained` / `from_pretrained` (``config.json`` + ``model.safetensors``) and
  the resumable training state;
- `pipeline`: few-step deterministic DDIM sampling with sliding temporal windows and padding;
- `data`: weighted, augmented training windows read from genbench datasets;
- `train`: the training loop behind ``genbench train casper``;
- `method`: the registered removal method ``casper`` (``casper:PATH`` for another checkpoint);
- `backbones`: the registry of backbones (``pixel``: the above; ``wan2.1-fun-inp``: below);
- `wan`, `wan_train`, `wan_pipeline`: a pretrained Wan2.1-Fun-InP transformer fine-tuned as Casper
  (loading, conditioning and checkpoints; the flow-matching training step; windowed sampling).

Nothing heavy is imported here; torch and diffusers load with the submodules.
"""
