"""Fixtures shared by the data-loader tests.

Real-data tests read the benchmark folder that sits beside the repository
(``<repo>/../shared/data``) or the folder named by ``MEMAE_DATA``, and are skipped when
neither exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real benchmark data folder; skips the test when it is not available."""
    env = os.environ.get("MEMAE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    pytest.skip("real data not found: set MEMAE_DATA or place it at <repo>/../shared/data")
