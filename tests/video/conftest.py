"""Fixtures for the video data tests: the shared real-data folder and a synthetic dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memae.video import (
    SyntheticVideos,
    discover_clips,
    make_synthetic_videos,
    write_frame_folders,
)
from memae.video.detector import VideoDetector, preset_config


def tiny_video_model(folder: Path, *, size: tuple[int, int], n_frames: int, seed: int,
                     file_name: str, **fields: Any) -> tuple[Path, Path]:
    """A two-step ``ped2-cpu``-preset model on one synthetic clip: ``(model file, data root)``;
    ``fields`` override the config (e.g. the score settings)."""
    root = write_frame_folders(
        make_synthetic_videos(n_train=1, n_test=1, n_frames=n_frames, seed=seed), folder)
    config = preset_config("ped2-cpu").replace(
        size=size, clip_length=8, smoothing=3, max_steps=2, memory_size=50,
        model_params={**preset_config("ped2-cpu").model_params, "channels": (4, 8, 8, 8)},
        **fields)
    detector = VideoDetector(config, device="cpu").fit(discover_clips(root, "training"))
    return detector.save(root / file_name), root


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
