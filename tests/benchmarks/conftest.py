"""The real benchmark data for the ``--quick`` smoke tests; skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest


def require(root: Path, *files: str) -> None:
    """Skip unless every ``files`` entry exists under ``root``."""
    missing = [f for f in files if not (root / f).exists()]
    if missing:
        pytest.skip(f"benchmark data missing under {root}: {missing}")
