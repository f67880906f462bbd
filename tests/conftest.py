"""Shared fixtures: small deterministic data sets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

# CI runs the property tests on a fixed example sequence, so a result does not
# depend on the draw; locally they explore fresh examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Small models train far faster on one thread than with thread hand-offs.
torch.set_num_threads(1)


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal data on a 2-D plane inside 8-D, plus off-plane anomalies."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    normal = rng.normal(size=(300, 2)) @ basis + 0.05 * rng.normal(size=(300, 8))
    test_normal = rng.normal(size=(100, 2)) @ basis + 0.05 * rng.normal(size=(100, 8))
    anomalies = rng.normal(size=(100, 8)) * 2.0
    X_test = np.vstack([test_normal, anomalies])
    y_test = np.r_[np.zeros(100), np.ones(100)]
    return normal.astype(np.float32), X_test.astype(np.float32), y_test


REPO_ROOT = Path(__file__).resolve().parents[1]
# The copy of memae under test, for subprocesses started by the tests.
SRC = REPO_ROOT / "src"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data: ``$MEMAE_DATA`` or ``<repo>/../shared/data``; skips if absent."""
    root = Path(os.environ.get("MEMAE_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"real data folder {root} not found (set MEMAE_DATA)")
    return root


@pytest.fixture(scope="session")
def shared_data(data_root: Path) -> Path:
    """Alias of ``data_root`` used by the loader tests."""
    return data_root


FAST = {"epochs": 15, "batch_size": 32, "random_state": 0, "device": "cpu"}
