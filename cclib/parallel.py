"""Running one function over many items: in-process, in a process pool, or on Dask.

The scheduler is one of

``"local"``
    a pool of fresh ("spawn") processes on this machine (the default);
``"dask"``
    a Dask ``LocalCluster`` started for the run (``pip install 'cclib[dask]'``);
``"tcp://HOST:PORT"``
    an existing Dask cluster's scheduler (Slurm via dask-jobqueue, Kubernetes, ...).
    Its workers need cclib installed and the same paths (a shared file system).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterable, Iterator

from cclib.errors import CclibError

#: The schedulers by name; anything of the form ``tcp://...`` (or ``tls://...``) is an address.
SCHEDULERS = ("local", "dask")


class SchedulerError(CclibError, RuntimeError):
    """A scheduler that cannot be used (unknown name, Dask missing, cluster unreachable)."""


def default_jobs() -> int:
    """Worker processes to use by default: one per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS has no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def check_scheduler(scheduler: str) -> str:
    """Return ``scheduler`` if it names a scheduler, else raise SchedulerError."""
    if scheduler in SCHEDULERS or "://" in scheduler:
        return scheduler
    raise SchedulerError(f"scheduler {scheduler!r}: use local, dask or a Dask address "
                         "such as tcp://HOST:8786")


def imap_unordered(func: Callable, items: Iterable, *, jobs: int = 1,
                   scheduler: str = "local") -> Iterator:
    """Yield ``func(item)`` for every item, in completion order.

    ``jobs=1`` with the local scheduler runs in this process (easy to debug
    and to profile); more starts a pool of fresh ("spawn") worker processes,
    the same on Linux, macOS and inside a Jupyter kernel. ``scheduler="dask"``
    runs ``jobs`` single-threaded Dask workers; an address submits to that
    cluster, whose size decides. ``func`` must be importable and catch its
    own expected errors: an exception it raises stops the whole run.
    """
    items = list(items)
    if check_scheduler(scheduler) != "local":
        yield from _dask_imap_unordered(func, items, jobs=jobs, scheduler=scheduler)
        return
    if jobs <= 1 or len(items) <= 1:
        for item in items:
            yield func(item)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(func, item) for item in items]
        for future in as_completed(futures):
            yield future.result()


def run_batch(func: Callable, tasks: list, *, desc: str, unit: str, jobs: int = 1,
              scheduler: str = "local", progress: bool | None = None, done_before: int = 0,
              first_alone: bool = False, postfix: Callable | None = None) -> Iterator:
    """Yield ``func(task)`` for every task as it finishes, under one progress bar on stderr.

    The one loop of the resumable batches (``cclib spectrograms``, ``corpus``
    and ``trials``): each plans its pending tasks, counts ``done_before`` as
    already done, and turns the results into its own summary line. Say what
    went wrong with a task through :func:`say`, which writes above the bar.

    Parameters
    ----------
    progress : bool, optional
        Show the bar (default: only on a terminal).
    first_alone : bool
        Run the first task alone before the others, so that the caches it
        fills are made once and shared.
    postfix : callable, optional
        ``postfix(result)`` → text shown after the bar (or None to keep it).
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=done_before + len(tasks), initial=done_before, unit=unit, desc=desc,
               file=sys.stderr, disable=not progress if progress is not None else None)
    waves = [tasks[:1], tasks[1:]] if first_alone and jobs > 1 and len(tasks) > 1 else [tasks]
    try:
        for wave in waves:
            for result in imap_unordered(func, wave, jobs=jobs, scheduler=scheduler):
                bar.update()
                text = postfix(result) if postfix else None
                if text:
                    bar.set_postfix_str(text)
                yield result
    finally:
        bar.close()


def say(message: str) -> None:
    """One line on stderr, above any progress bar of :func:`run_batch`."""
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)


@dataclass
class BatchSummary:
    """What one resumable batch did, and its one summary line: the base of every batch's counts.

    ``cclib spectrograms``, ``corpus`` and ``trials`` each count the tasks it
    finished now (``done``), found finished by an earlier run
    (``already_done``) and could not finish (``failed``), and add counts of
    their own through :meth:`details`.

    Examples
    --------
    >>> BatchSummary(done=3, already_done=2, failed=1, seconds=4.2).line()
    'batch: 3 done, 2 already done, 1 failed, 4.2 s'
    """

    done: int = 0
    already_done: int = 0
    failed: int = 0
    seconds: float = 0.0

    #: The command's name, and the words for the done and the failed tasks.
    command: ClassVar[str] = "batch"
    done_words: ClassVar[str] = "done"
    failed_words: ClassVar[str] = "failed"

    def details(self) -> list[str]:
        """The batch's own counts, as parts of the summary line."""
        return []

    def line(self) -> str:
        """The one line printed at the end of the batch."""
        parts = [f"{self.done} {self.done_words}", f"{self.already_done} already done",
                 f"{self.failed} {self.failed_words}", *self.details(), f"{self.seconds:.1f} s"]
        return f"{self.command}: {', '.join(parts)}"


def die_with_parent(parent: int, *, every: float = 0.5) -> None:
    """End this worker process within ``every`` seconds of its parent's death.

    A pool's workers otherwise outlive a parent killed with ``kill -9`` and go
    on converting files nobody will collect. A daemon thread watches the
    parent's process id (the portable way: Linux's ``PR_SET_PDEATHSIG``
    follows the thread that started the worker, not the process). What a
    worker was writing is lost whole: every write is atomic.
    """
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _dask_imap_unordered(func: Callable, items: list, *, jobs: int, scheduler: str) -> Iterator:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_as_completed
    except ImportError:
        raise SchedulerError("--scheduler needs Dask: pip install 'cclib[dask]'") from None
    if scheduler == "dask":
        # One thread per worker: the work itself decides its threads (see cclib.trials).
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               worker_dashboard_address=None, silence_logs=logging.ERROR)
    else:
        cluster = None
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler, timeout="20s")
        except OSError as error:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        with client:
            if cluster is not None:  # Dask serves HTTP even without a dashboard: stop it
                client.run_on_scheduler(_stop_scheduler_http)
                client.run(_stop_worker_http)
            futures = client.map(func, items, pure=False)
            for future in dask_as_completed(futures):
                yield future.result()
    finally:
        if cluster is not None:
            cluster.close()


def _stop_scheduler_http(dask_scheduler) -> None:
    dask_scheduler.http_server.stop()


def _stop_worker_http(dask_worker) -> None:
    dask_worker.http_server.stop()
