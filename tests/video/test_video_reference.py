"""Per-location error references: the maths, scoring with them, training and model files."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from memae.models import AutoEncoderOutput
from memae.video import (
    ErrorReference,
    discover_clips,
    fit_error_reference,
    frame_folder_clips,
    iter_frames,
    model_inputs,
    normalize_map,
)
from memae.video.checkpoint import load_video_model, save_video_model
from memae.video.config import VideoConfig, video_config
from memae.video.score import score_frames
from memae.video.train import train_video_model


def raw_config(**fields: Any) -> VideoConfig:
    """The cpu preset scoring like the paper (no normalisation, no temporal smoothing)."""
    return video_config("cpu", **{"score_normalization": "none", "temporal_smoothing": 1,
                                  **fields})


class ZeroModel(nn.Module):
    """Reconstructs everything as zeros: the squared error of a pixel is its value squared."""

    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(torch.zeros_like(x), None)


def test_ratio_and_zscore_use_the_reference_and_a_floor() -> None:
    mean = np.array([[1.0, 3.0]], dtype=np.float32)
    std = np.array([[0.5, 1.5]], dtype=np.float32)
    reference = ErrorReference(mean, std, n_frames=10)
    error = torch.tensor([[2.0, 6.0]])
    ratio = normalize_map(error, reference, "ratio")  # floor 0.1 * mean(mean) = 0.2
    np.testing.assert_allclose(ratio.numpy(), [[2 / 1.2, 6 / 3.2]], rtol=1e-6)
    zscore = normalize_map(error, reference, "zscore")  # floor 0.1 * mean(std) = 0.1
    np.testing.assert_allclose(zscore.numpy(), [[1 / 0.6, 3 / 1.6]], rtol=1e-6)
    assert normalize_map(error, reference, "none") is error
    with pytest.raises(ValueError, match="fitted for another input size"):
        normalize_map(torch.zeros(3, 3), reference, "ratio")


def test_references_are_float32_whatever_they_are_given_as() -> None:
    reference = ErrorReference(np.ones((2, 2)), np.ones((2, 2)), 1)  # float64 in
    assert reference.mean.dtype == reference.std.dtype == np.float32
    assert normalize_map(torch.ones(2, 2), reference, "ratio").dtype == torch.float32


def test_bad_references_are_refused() -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        ErrorReference(np.full((2, 2), np.nan, np.float32), np.ones((2, 2), np.float32), 1)
    with pytest.raises(ValueError, match="shapes"):
        ErrorReference(np.ones((2, 2), np.float32), np.ones((2, 3), np.float32), 1)


def frames_with_a_busy_corner(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """10 x 10 frames, zero except a noisy top-left corner (normal there, like a walkway)."""
    frames = np.zeros((n, 10, 10), dtype=np.float32)
    frames[:, :4, :4] = rng.uniform(-1, 1, (n, 4, 4))
    return list(frames)


def test_normalisation_finds_a_faint_anomaly_that_the_raw_error_misses() -> None:
    rng = np.random.default_rng(0)
    config = raw_config(size=(10, 10), clip_length=4, smoothing=3,
                          reduction="patch_max")
    normal = np.stack([r.map for r in score_frames(
        ZeroModel(), frames_with_a_busy_corner(40, rng), config, keep_maps=True)])
    reference = ErrorReference(normal.mean(0), normal.std(0), len(normal))
    # Expected from the frames: the corner's error is x^2 with x ~ U(-1, 1), mean 1/3.
    assert 0.2 < reference.mean[1, 1] < 0.45 and reference.mean[8, 8] == 0.0
    test = frames_with_a_busy_corner(30, rng)
    for t in range(12, 18):
        test[t][6:9, 6:9] = 0.5  # squared error 0.25, below the corner's normal level
    raw = [r.score for r in score_frames(ZeroModel(), test, config)]
    zscored = raw_config(size=(10, 10), clip_length=4, smoothing=3,
                           reduction="patch_max", score_normalization="zscore")
    relative = [r.score for r in score_frames(ZeroModel(), test, zscored, reference=reference)]
    event = np.zeros(30, dtype=bool)
    event[12:18] = True
    # Raw: the busy corner is the worst patch of every frame; relative: the event is.
    assert min(np.array(raw)[event]) < max(np.array(raw)[~event])
    assert min(np.array(relative)[event]) > max(np.array(relative)[~event])
    with pytest.raises(ValueError, match="needs the per-pixel error reference"):
        list(score_frames(ZeroModel(), test, zscored))


def test_fit_matches_the_statistics_of_the_maps(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / "clips" / "01"
    folder.mkdir(parents=True)
    for t in range(12):
        Image.fromarray(rng.integers(0, 256, (10, 10), dtype=np.uint8)).save(folder / f"{t}.png")
    clip = frame_folder_clips(tmp_path / "clips")[0]
    config = raw_config(size=(10, 10), clip_length=4, smoothing=3)
    reference = fit_error_reference(ZeroModel(), [clip], config)
    inputs = model_inputs(iter_frames(clip, (10, 10)), config.input_signal)
    maps = np.stack([r.map for r in score_frames(ZeroModel(), inputs, config, keep_maps=True)])
    assert reference.n_frames == 12
    np.testing.assert_allclose(reference.mean, maps.mean(0), rtol=1e-5)
    np.testing.assert_allclose(reference.std, maps.std(0), rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="no clips"):
        fit_error_reference(ZeroModel(), [], config)


def test_training_fits_the_reference_and_the_file_keeps_it(synthetic_root: Path,
                                                            tmp_path: Path) -> None:
    config = raw_config(size=(24, 32), clip_length=8, smoothing=3,
                          score_normalization="ratio",
                          model_params={"channels": (4, 8, 8, 8), "memory_size": 50})
    clips = discover_clips(synthetic_root, "training")
    trained = train_video_model(config, clips, max_steps=2)
    assert trained.reference is not None and trained.reference.mean.shape == (24, 32)
    assert trained.reference.n_frames == sum(c.n_frames for c in clips)
    path = save_video_model(trained, tmp_path / "m.safetensors")
    loaded = load_video_model(path)
    np.testing.assert_array_equal(loaded.reference.mean, trained.reference.mean)
    np.testing.assert_array_equal(loaded.reference.std, trained.reference.std)
    # A file whose config asks for the reference but lacks it is refused.
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    for key in ("error_reference.mean", "error_reference.std"):
        del tensors[key]
    save_file(tensors, str(tmp_path / "bare.safetensors"), metadata=metadata)
    with pytest.raises(ValueError, match="holds no error reference"):
        load_video_model(tmp_path / "bare.safetensors")
    # Without normalisation there is no reference and no extra cost.
    plain = train_video_model(raw_config(size=(24, 32), clip_length=8, smoothing=3,
                                           model_params={"channels": (4, 8, 8, 8)}),
                              clips, max_steps=1)
    assert plain.reference is None and "reference_seconds" not in plain.training


def test_unknown_normalisation_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="score_normalization: got 'minmax'"):
        raw_config(score_normalization="minmax")
