"""Helpers for the ``--quick`` smoke tests on the real benchmark data; skipped when absent.

Each quick variant is a cut-down run of the full benchmark's configuration
(fewer epochs, one class or seed, a subset of the evaluation data), so the
floors are well below the full results in docs/results.md but far above
chance (0.5 ROC-AUC) and above what a broken protocol would give.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memae.benchmarks import BenchmarkOptions, get_benchmark


def require(root: Path, *files: str) -> None:
    """Skip unless every ``files`` entry exists under ``root``."""
    missing = [f for f in files if not (root / f).exists()]
    if missing:
        pytest.skip(f"benchmark data missing under {root}: {missing}")


def quick(name: str, root: Path, out: Path) -> dict:
    """Run benchmark ``name`` with ``--quick`` on the data under ``root``."""
    result = get_benchmark(name).run(BenchmarkOptions(out_dir=out, data_dir=root, quick=True))
    return {"rows": result.rows, "summary": result.summary, "markdown": result.markdown}
