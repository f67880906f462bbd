"""Benchmark units (one trained model each) spread over worker processes.

A benchmark is a list of independent units (a class, seed and variant; a data
set and seed). Each unit seeds its own models, so where it runs does not
change its numbers: :func:`run_units` with ``jobs=2`` returns exactly what a
loop over the units returns, in the same order, in about half the wall time
on two idle cores.

Workers are forked, so they share the parent's loaded data without copying
or pickling it; the unit function may be a closure. Each worker runs torch
with ``threads`` threads.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

U = TypeVar("U")
R = TypeVar("R")

# The unit function of the pool being started; forked workers inherit it.
_TASK: Callable[[Any], Any] | None = None


def _start_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _run_task(unit: Any) -> Any:
    assert _TASK is not None
    return _TASK(unit)


def check_run_options(threads: int, seeds: Sequence[int] | None, jobs: int) -> None:
    """Refuse ``--threads``, ``--seeds`` and ``--jobs`` values a benchmark run cannot use."""
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}.")
    if seeds is not None and any(seed < 0 for seed in seeds):
        raise ValueError(f"--seeds must be integers >= 0, got {list(seeds)}.")
    check_jobs(jobs)


def check_jobs(jobs: int) -> None:
    """Refuse a job count this platform cannot run, with what to do instead."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}.")
    if jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError(f"jobs={jobs} needs processes started by fork, which this platform "
                         "does not offer; run with jobs=1 (or --jobs 1).")


def run_units(task: Callable[[U], R], units: Sequence[U], jobs: int = 1,
              threads: int = 1) -> list[R]:
    """``[task(u) for u in units]``, computed by ``jobs`` worker processes.

    Units are handed out one at a time as workers come free; results come back
    in the order of ``units``. ``jobs=1`` (or a single unit) runs in this
    process. An exception in a unit is raised here.
    """
    check_jobs(jobs)
    if jobs == 1 or len(units) <= 1:
        return [task(unit) for unit in units]
    global _TASK
    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        pool = context.Pool(min(jobs, len(units)), initializer=_start_worker,
                            initargs=(threads,))
        try:
            results = pool.map(_run_task, units, chunksize=1)
        finally:
            pool.close()
            pool.join()
    finally:
        _TASK = None
    return results


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished worker processes."""
    try:
        import resource
    except ImportError:  # Windows: no fork either, so no workers to count
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
