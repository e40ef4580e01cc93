"""Torch's CPU thread count for one block of work, shared by the reference models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with torch's intra-op thread pool at `count` threads (None: unchanged), then restore it.

    The reference models are small: a second thread gains little, and on a machine whose cores are
    busy with other work it costs a lot (measured: 6 benchmark clips through Casper in 2.8 s with 1
    thread, 39 s with 2 while another job held a core)."""
    import torch

    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
