"""Running one function over many items: in-process, or in a process pool."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator


def default_jobs() -> int:
    """Worker processes to use by default: one per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS has no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def imap_unordered(func: Callable, items: Iterable, *, jobs: int = 1) -> Iterator:
    """Yield ``func(item)`` for every item, in completion order.

    ``jobs=1`` runs in this process (easy to debug and to profile); more
    starts a pool of fresh ("spawn") worker processes, the same on Linux,
    macOS and inside a Jupyter kernel. ``func`` must be importable and catch
    its own expected errors: an exception it raises stops the whole run.
    """
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        for item in items:
            yield func(item)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context) as pool:
        futures = [pool.submit(func, item) for item in items]
        for future in as_completed(futures):
            yield future.result()
