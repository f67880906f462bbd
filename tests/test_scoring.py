"""Batched reconstruction errors: the same numbers in any batch size, by hand for a known model."""

from __future__ import annotations

import numpy as np
import torch

from memae.models import create_model
from memae.models.autoencoder import AutoEncoderOutput
from memae.scoring import element_errors, iter_errors, sample_scores

CPU = torch.device("cpu")


class HalfModel(torch.nn.Module):
    """Reconstructs every input as half of itself: the squared error is x**2 / 4."""

    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(x / 2, None)


def test_scores_are_the_mean_squared_error_per_sample() -> None:
    X = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    expected = (X.reshape(3, -1) ** 2 / 4).mean(axis=1)
    np.testing.assert_allclose(sample_scores(HalfModel(), X, 2, CPU), expected, rtol=1e-7)
    assert sample_scores(HalfModel(), X, 2, CPU).dtype == np.float64
    np.testing.assert_allclose(element_errors(HalfModel(), X, 2, CPU), X**2 / 4, rtol=1e-7)
    assert [e.shape for e in iter_errors(HalfModel(), X, 2, CPU)] == [(2, 2, 2), (1, 2, 2)]


def test_batch_size_does_not_change_the_scores_and_the_model_is_put_in_eval_mode() -> None:
    torch.manual_seed(0)
    model = create_model("mlp", in_features=5, memory_size=8, dropout=0.5).train()
    X = np.random.default_rng(0).normal(size=(23, 5))  # float64: cast to float32 per batch
    one = sample_scores(model, X, 100, CPU)
    assert not model.training  # dropout off: scores are deterministic
    np.testing.assert_allclose(sample_scores(model, X, 4, CPU), one, rtol=1e-6)
    np.testing.assert_allclose(element_errors(model, X, 7, CPU).mean(axis=1), one, rtol=1e-5)


def test_no_rows_give_empty_results_of_the_right_shape() -> None:
    X = np.empty((0, 3, 4), np.float32)
    assert sample_scores(HalfModel(), X, 8, CPU).shape == (0,)
    assert element_errors(HalfModel(), X, 8, CPU).shape == (0, 3, 4)
