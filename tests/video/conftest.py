"""Fixtures for the video data tests: the shared real-data folder and a synthetic dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memae.video import SyntheticVideos, make_synthetic_videos, write_frame_folders

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """``$MEMAE_DATA`` or ``<repo root>/../shared/data``; skips the test when absent."""
    root = Path(os.environ.get("MEMAE_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"real data folder {root} not found (set MEMAE_DATA)")
    return root


@pytest.fixture(scope="session")
def ped2_root(data_root: Path) -> Path:
    root = data_root / "ped2"
    if not (root / "ped2.mat").is_file():
        pytest.skip(f"UCSD Ped2 not found in {root}")
    return root


@pytest.fixture(scope="session")
def ucsd_gt_root(data_root: Path) -> Path:
    root = data_root / "ucsd_ped2_gt"
    if not (root / "UCSDped2.m").is_file():
        pytest.skip(f"UCSD Ped2 ground truth not found in {root}")
    return root


@pytest.fixture(scope="session")
def synthetic() -> SyntheticVideos:
    return make_synthetic_videos(n_train=2, n_test=3, n_frames=40, seed=7)


@pytest.fixture(scope="session")
def synthetic_root(synthetic: SyntheticVideos, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_frame_folders(synthetic, tmp_path_factory.mktemp("synthetic"))
