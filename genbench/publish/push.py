"""Push an exported folder to a Hugging Face Hub dataset repo, resumably.

`push` lists the repo's files once, then commits every local file whose remote copy differs (by
sha256 for LFS files, by git blob id for the rest), one data shard per commit, and the card and
preview last, together with deleting shards of the same configs that the new export no longer has.
A push that is killed or loses the network leaves complete commits behind; the rerun skips every
shard already there with the same bytes, so a large dataset is uploaded once. The token comes from
huggingface_hub's usual places (``HF_TOKEN``, ``hf auth login``'s cache).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genbench.errors import GenbenchError
from genbench.progress import get_logger, track
from genbench.publish.card import CARD_FILE

log = get_logger("publish")
REPO_TYPE = "dataset"


@dataclass
class PushReport:
    repo_id: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already on the Hub with the same bytes
    deleted: list[str] = field(default_factory=list)  # stale shards of the pushed configs
    commits: int = 0


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's bytes (what the Hub reports as a non-LFS file's blob id)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def same_file(remote: Any, local: Path) -> bool:
    """Whether a RepoFile from `list_repo_tree` holds exactly the bytes of `local`."""
    if remote is None or remote.size != local.stat().st_size:
        return False
    if remote.lfs is not None:
        h = hashlib.sha256()
        with open(local, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return remote.lfs.sha256 == h.hexdigest()
    return remote.blob_id == git_blob_id(local.read_bytes())


def local_files(folder: Path) -> list[str]:
    """Paths (posix, relative) of the files to push; hidden files and folders stay local."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _hub_call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    try:
        return fn(*args, **kwargs)
    except LocalTokenNotFoundError:
        raise GenbenchError(f"{what}: no Hugging Face token; run `hf auth login` or set HF_TOKEN") from None
    except HfHubHTTPError as exc:
        raise GenbenchError(f"{what} failed: {str(exc).splitlines()[0]} (check the token's write access "
                            "and the repo id; rerun to resume)") from None
    except Exception as exc:
        if not is_network_error(exc):
            raise
        raise GenbenchError(f"{what} failed: {exc.__class__.__name__}: {exc}; check the network and rerun to "
                            "resume") from None


HTTP_LIBRARIES = ("requests", "urllib3", "httpx", "httpcore", "aiohttp")  # what huggingface_hub has used, any version


def is_network_error(exc: BaseException) -> bool:
    """Whether `exc` is a connection error: an OSError, or any error of an HTTP library (huggingface_hub moved from
    requests to httpx and to httpx2, whose errors are not OSErrors)."""
    return isinstance(exc, OSError) or any(
        cls.__module__.split(".")[0].rstrip("0123456789") in HTTP_LIBRARIES for cls in type(exc).__mro__)


def check_repo_id(repo_id: str) -> None:
    """Raise GenbenchError unless `repo_id` is a valid ``ORG/NAME`` Hub repo id."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise GenbenchError(f"--repo-id {repo_id!r} is not a Hub repo id ({exc}); use ORG/NAME") from None
    if "/" not in repo_id:
        raise GenbenchError(f"--repo-id {repo_id!r}: give the owner too, ORG/NAME")


def push(folder: Path, repo_id: str, *, private: bool = False, api: Any = None,
         revision: str | None = None) -> PushReport:
    """Upload the export in `folder` to the dataset repo `repo_id` (created when missing)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.hf_api import RepoFile

    check_repo_id(repo_id)
    folder = Path(folder)
    if not (folder / CARD_FILE).is_file():
        raise GenbenchError(f"{folder}: no {CARD_FILE}; export the dataset first (genbench publish DATASET --to DIR)")
    api = api if api is not None else HfApi()
    report = PushReport(repo_id)
    _hub_call("creating the repo", api.create_repo, repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
    tree = _hub_call("listing the repo", api.list_repo_tree, repo_id, repo_type=REPO_TYPE, recursive=True,
                     revision=revision)
    remote = {f.path: f for f in tree if isinstance(f, RepoFile)}
    files = local_files(folder)
    configs = {p.split("/")[0] for p in files if "/" in p}
    data = [p for p in files if "/" in p]
    last = [p for p in files if "/" not in p]  # the card and preview: committed once the data is complete
    stale = sorted(p for p in remote if p.split("/")[0] in configs and p.endswith(".parquet") and p not in files)

    def commit(operations: list, message: str) -> None:
        _hub_call(f"committing {message}", api.create_commit, repo_id, operations, repo_type=REPO_TYPE,
                  commit_message=message, revision=revision)
        report.commits += 1

    for path in track(data, "publish: pushing shards", unit="files"):
        if same_file(remote.get(path), folder / path):
            report.skipped.append(path)
            continue
        commit([CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(folder / path))], f"genbench publish: {path}")
        report.uploaded.append(path)
    final = [CommitOperationDelete(path_in_repo=p) for p in stale]
    for path in last:
        if same_file(remote.get(path), folder / path):
            report.skipped.append(path)
        else:
            final.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(folder / path)))
            report.uploaded.append(path)
    if final:
        commit(final, "genbench publish: dataset card" + (f", remove {len(stale)} stale shard(s)" if stale else ""))
    report.deleted = stale
    log.info("%s: uploaded %d file(s), %d already there, %d stale removed, %d commit(s)", repo_id,
             len(report.uploaded), len(report.skipped), len(stale), report.commits)
    return report
