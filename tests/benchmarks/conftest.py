"""The real benchmark data for the ``--quick`` smoke tests; skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """``$MEMAE_DATA`` or ``<repo root>/../shared/data``; skips the test when absent."""
    root = Path(os.environ.get("MEMAE_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"real data folder {root} not found (set MEMAE_DATA)")
    return root


def require(root: Path, *files: str) -> None:
    """Skip unless every ``files`` entry exists under ``root``."""
    missing = [f for f in files if not (root / f).exists()]
    if missing:
        pytest.skip(f"benchmark data missing under {root}: {missing}")
