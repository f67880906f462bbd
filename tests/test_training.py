"""The training loop: batches, the paper's objective, the learning-rate schedule, the held-out
error and divergence."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from memae import MemAEDetector
from memae.memory import Memory
from memae.models import create_model
from memae.models.autoencoder import AutoEncoderOutput
from memae.training import (
    TrainingDivergedError,
    TrainingHistory,
    TrainSettings,
    _warn_if_collapsed,
    batch_indices,
    cosine_learning_rate,
    mean_reconstruction_loss,
    objective,
    train,
)
from memae.video import discover_clips, make_synthetic_videos, write_frame_folders
from memae.video.clips import ClipDataset
from tests.conftest import FAST

CPU = torch.device("cpu")


def _X(n: int = 20, d: int = 5) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), batch_size=st.integers(1, 20), ranks=st.integers(1, 3))
def test_batches_cover_every_sample_once(n: int, batch_size: int, ranks: int) -> None:
    batches = batch_indices(n, batch_size, torch.Generator().manual_seed(0), min_size=ranks)
    assert sorted(np.concatenate(batches).tolist()) == list(range(n))
    if len(batches) > 1 and batch_size >= max(2, ranks):  # a short tail joins the one before
        assert min(len(b) for b in batches) >= max(2, ranks)


def test_a_single_trailing_sample_joins_the_only_other_batch() -> None:
    # 10 rows, 1 held out: batches of 8 and 1; the 1 used to crash with IndexError.
    X = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 1, "batch_size": 8}, memory_size=4,
                             validation_fraction=0.1).fit(X)
    assert detector.n_train_ == 9 and np.isfinite(detector.decision_scores_).all()


def test_objective_is_mse_plus_the_weighted_addressing_entropy() -> None:
    # Eq. (10) of the paper: E = mean squared error + alpha * mean addressing entropy.
    torch.manual_seed(0)
    model = create_model("mlp", in_features=6, memory_size=10, shrink_threshold=0.0)
    x = torch.randn(16, 6)
    reconstruction, weights, entropy = model(x)
    mse = ((reconstruction - x) ** 2).mean()
    by_hand = (-weights * torch.log(weights + 1e-12)).sum(dim=1).mean()
    torch.testing.assert_close(entropy, by_hand, rtol=1e-5, atol=1e-6)
    loss, loss_mse = objective(model, x, entropy_weight=0.5)
    torch.testing.assert_close(loss_mse, mse)
    torch.testing.assert_close(loss, mse + 0.5 * by_hand, rtol=1e-5, atol=1e-6)
    # No entropy term without a weight (MemAE-nonSpar) or without a memory (AE).
    assert torch.equal(objective(model, x, 0.0)[0], objective(model, x, 0.0)[1])
    plain = create_model("mlp", in_features=6, memory=False)
    loss, loss_mse = objective(plain, x, entropy_weight=0.5)
    assert torch.equal(loss, loss_mse)


def test_cosine_schedule_falls_from_the_base_rate_to_zero() -> None:
    assert cosine_learning_rate(0.1, 0, 10) == 0.1
    assert cosine_learning_rate(0.1, 5, 10) == pytest.approx(0.05)
    assert cosine_learning_rate(0.1, 10, 10) == pytest.approx(0.0, abs=1e-12)
    assert cosine_learning_rate(0.1, 12, 10) == cosine_learning_rate(0.1, 10, 10)
    assert cosine_learning_rate(2.0, 1, 4) == pytest.approx(1.0 + math.cos(math.pi / 4))


class ZeroModel(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(torch.zeros_like(x), None)


@pytest.fixture(scope="module")
def one_clip(tmp_path_factory: pytest.TempPathFactory) -> list:
    videos = make_synthetic_videos(n_train=1, n_test=0, n_frames=40, seed=0)
    root = write_frame_folders(videos, tmp_path_factory.mktemp("clip"))
    return discover_clips(root, "training")


def test_held_out_mse_is_the_mean_squared_error_of_every_window(one_clip: list) -> None:
    dataset = ClipDataset(one_clip, length=8, stride=8, size=(32, 32))
    frames = torch.stack([dataset[i].frames for i in range(len(dataset))])
    # A model that reconstructs zeros errs by x**2 at every pixel.
    expected = float((frames**2).mean())
    assert mean_reconstruction_loss(ZeroModel(), dataset, 3, CPU) == pytest.approx(expected)


def test_a_diverging_loss_stops_training_with_the_fix() -> None:
    with pytest.raises(TrainingDivergedError, match="diverged at epoch 1.*lower learning_rate"):
        MemAEDetector(**{**FAST, "epochs": 5, "learning_rate": 1e6}).fit(_X(200))


def test_memory_health_counts_the_items_some_position_uses_and_the_mean_entropy() -> None:
    # learning_rate 0: the weights stay as built, so one forward pass over the data gives
    # the epoch's addressing exactly (an MLP without batch norm or dropout).
    torch.manual_seed(0)
    model = create_model("mlp", in_features=5, memory_size=40, shrink_threshold=0.02)
    X = _X(64, 5).astype(np.float32)
    history = train(model, X, None, TrainSettings(epochs=2, batch_size=16, learning_rate=0.0),
                    generator=torch.Generator().manual_seed(0), device=CPU)
    with torch.no_grad():
        _, weights, _ = model(torch.from_numpy(X))
    expected_used = int((weights.amax(dim=0) >= 1 / 40).sum())
    assert 0 < expected_used < 40
    assert history.memory_items_used == [expected_used, expected_used]
    # Mean over batches of the (per-batch mean) entropy, weighted by batch size: over rows.
    entropy = -(weights * torch.log(weights.clamp_min(1e-30))).sum(dim=1).mean()
    assert history.memory_entropy == pytest.approx([float(entropy)] * 2, rel=1e-5)


def test_a_model_without_memory_has_no_memory_health() -> None:
    detector = MemAEDetector(**{**FAST, "epochs": 2}, memory=False).fit(_X())
    assert detector.history_.memory_items_used == [] and detector.history_.memory_entropy == []


@pytest.mark.parametrize(("used", "warns"), [(9, True), (10, False), (150, False)])
def test_a_collapsed_addressing_warns_with_what_to_change(used: int, warns: bool) -> None:
    # Under 5% of the items used in the last epoch is a collapse; earlier epochs do not count.
    history = TrainingHistory(memory_items_used=[3, used], memory_entropy=[0.1, 0.1])
    if warns:
        with pytest.warns(UserWarning, match=r"collapsed: 9 of 200 items \(4.5%, under 5%\)"
                          r".*smaller memory_size"):
            _warn_if_collapsed(history, Memory(200, 4))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _warn_if_collapsed(history, Memory(200, 4))


def test_memory_health_survives_saving_and_loading(tmp_path) -> None:
    detector = MemAEDetector(**{**FAST, "epochs": 2}, memory_size=8).fit(_X())
    detector.save(tmp_path / "m.safetensors")
    loaded = MemAEDetector.load(tmp_path / "m.safetensors")
    assert loaded.history_ == detector.history_
    assert len(loaded.history_.memory_items_used) == 2
