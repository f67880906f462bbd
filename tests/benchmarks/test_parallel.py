"""Benchmark units spread over worker processes give the numbers of one process."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from memae.benchmarks.parallel import check_jobs, cpu_seconds, run_units


def test_results_come_back_in_unit_order_from_other_processes() -> None:
    offset = 100  # a closure: forked workers see the parent's variables
    results = run_units(lambda unit: (unit + offset, os.getpid()), list(range(7)), jobs=2)
    assert [value for value, _ in results] == list(range(100, 107))
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_one_job_runs_in_this_process() -> None:
    assert run_units(lambda unit: os.getpid(), [1, 2], jobs=1) == [os.getpid()] * 2
    assert run_units(lambda unit: unit, [], jobs=2) == []


def test_an_error_in_a_unit_is_raised_in_the_caller() -> None:
    def task(unit: int) -> int:
        if unit == 3:
            raise ValueError("unit 3 failed")
        return unit

    with pytest.raises(ValueError, match="unit 3 failed"):
        run_units(task, list(range(5)), jobs=2)


def test_bad_job_counts_are_refused() -> None:
    for jobs in (0, -1, 1.5):
        with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
            check_jobs(jobs)  # type: ignore[arg-type]


def test_cpu_seconds_count_the_workers() -> None:
    def spin(unit: int) -> int:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        return unit

    before = cpu_seconds()
    run_units(spin, [0, 1], jobs=2)
    assert cpu_seconds() - before >= 0.5  # two workers, 0.3 s each


def test_numbers_from_two_jobs_equal_one_job_on_the_kdd_protocol() -> None:
    from memae.benchmarks import kdd99
    from memae.presets import Preset

    rng = np.random.default_rng(0)
    X = rng.random((600, 6), dtype=np.float32)
    y = (rng.random(600) < 0.2).astype(np.int64)
    X[y == 1] += 1.0
    config = Preset(name="toy", kind="tabular", description="a small net for 6 features",
                    detector={"model": "mlp", "model_params": {"hidden": (8,), "latent_dim": 2},
                              "memory_size": 10, "epochs": 3, "batch_size": 32,
                              "validation_fraction": 0.0, "patience": None})

    def rows(jobs: int) -> list[dict]:
        units = [(seed, v) for seed in (0, 1) for v in ("AE", "MemAE")]
        out = run_units(lambda u: kdd99.evaluate_seed(X, y, config, u[1], u[0], scale=False),
                        units, jobs=jobs)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in out]

    serial, parallel = rows(1), rows(2)
    assert serial == parallel
    assert all(r["f1"] > 0.5 for r in serial)
