"""Video model files: safetensors + JSON config, round trip, refusal of other files."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from memae.video import discover_clips
from memae.video.checkpoint import load_video_model
from memae.video.decode import iter_frames
from memae.video.score import score_frames
from tests.video.conftest import tiny_video_model


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_video_model(tmp_path_factory.mktemp("ckpt"), size=(24, 32), n_frames=24,
                            seed=3, file_name="model.safetensors")


def test_round_trip_keeps_config_and_scores(trained_file: tuple[Path, Path]) -> None:
    path, root = trained_file
    loaded = load_video_model(path)
    assert loaded.config.size == (24, 32) and loaded.config.clip_length == 8
    assert loaded.config.model_params["channels"] == (4, 8, 8, 8)
    assert loaded.training["steps"] == 2 and not loaded.model.training
    clip = discover_clips(root, "testing")[0]
    again = load_video_model(path)
    first = [r.score for r in score_frames(loaded.model, iter_frames(clip, (24, 32)),
                                           loaded.config, reference=loaded.reference)]
    second = [r.score for r in score_frames(again.model, iter_frames(clip, (24, 32)),
                                            again.config, reference=again.reference)]
    assert len(first) == 24 and first == second
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["memae_video"])
    assert meta["config"]["size"] == [24, 32] and meta["config"]["clip_length"] == 8
    assert meta["normalization"].endswith("float32 [-1, 1]")


def test_files_that_are_not_video_models_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other), metadata={"memae": "{}"})
    with pytest.raises(ValueError, match="is not a memae video model"):
        load_video_model(other)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(np.arange(10, dtype=np.int64).tobytes())
    with pytest.raises(ValueError, match="is not a safetensors file"):
        load_video_model(garbage)
    with pytest.raises(FileNotFoundError, match="no video model file"):
        load_video_model(tmp_path / "missing.safetensors")
