"""Fixtures for the video data tests: the shared real-data folder and a synthetic dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from memae.video import SyntheticVideos, make_synthetic_videos, write_frame_folders


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
