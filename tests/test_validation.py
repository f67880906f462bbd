"""Every bad input gets a ValueError/TypeError naming the argument, value and fix."""

from __future__ import annotations

import numpy as np
import pytest

from memae import MemAEDetector
from tests.conftest import FAST


@pytest.fixture(scope="module")
def fitted() -> MemAEDetector:
    X = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 2}).fit(X)


def _X(n: int = 20, d: int = 5) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


@pytest.mark.parametrize("X, error, match", [
    (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), ValueError, "NaN.*impute"),
    (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), ValueError, "infinity.*impute"),
    (np.ones(10), ValueError, "(?s)Expected 2D array.*reshape"),
    (np.ones((10, 2, 3)), ValueError, r"got shape \(10, 2, 3\).*X\[:, None\]"),
    (np.ones((0, 4)), ValueError, "0 sample"),
    (np.ones((1, 4)), ValueError, "1 sample.*at least 2"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, "convert.*one-hot"),
    (np.array([[1.0, {"a": 1}], [2.0, 3.0]], dtype=object), TypeError, "one-hot"),
    (None, TypeError, "got None"),
])
def test_fit_rejects(X, error, match) -> None:
    with pytest.raises(error, match=match):
        MemAEDetector(**FAST).fit(X)


@pytest.mark.parametrize("param, value", [
    ("contamination", 0.0), ("contamination", 0.7), ("contamination", "auto"),
    ("epochs", 0), ("epochs", 2.5), ("batch_size", -1), ("learning_rate", 0),
    ("validation_fraction", 1.0), ("target_fpr", 1.5), ("patience", 0),
    ("standardize", "yes"), ("device", "tpu"), ("memory_size", 0),
    ("shrink_threshold", 2.0), ("entropy_weight", -1.0), ("random_state", -3),
    ("random_state", 2**40), ("score_batch_size", 0),
])
def test_bad_parameters_name_the_parameter_and_value(param: str, value) -> None:
    detector = MemAEDetector(**{**FAST, param: value})
    with pytest.raises(ValueError, match=rf"{param} must be .*got {value!r}"):
        detector.fit(_X())


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown model 'vae'.*mlp"):
        MemAEDetector(**FAST, model="vae").fit(_X())


def test_model_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="takes 2-D inputs"):
        MemAEDetector(**FAST, model="conv2d").fit(_X())
    with pytest.raises(ValueError, match="tabular"):
        MemAEDetector(**FAST, model="mlp").fit(np.zeros((4, 1, 8, 8)))


def test_feature_count_must_match_fit(fitted: MemAEDetector) -> None:
    with pytest.raises(ValueError, match="X has 4 features.*expecting 5.*same columns"):
        fitted.decision_function(_X(d=4))


def test_image_shape_must_match_fit() -> None:
    X = np.random.default_rng(0).random((20, 1, 8, 8)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 1}, memory_size=5).fit(X)
    with pytest.raises(ValueError, match=r"sample shape \(1, 10, 10\).*\(1, 8, 8\)"):
        detector.decision_function(np.zeros((2, 1, 10, 10)))
    with pytest.raises(ValueError, match=r"fitted on images \(n, C, H, W\).*\(1, 8, 8\)"):
        detector.decision_function(np.zeros((2, 64)))


def test_memory_size_one_explains_the_default_shrink_threshold() -> None:
    with pytest.raises(ValueError, match="memory_size=1 makes the default shrink_threshold"):
        MemAEDetector(**FAST, memory_size=1).fit(_X())
    assert MemAEDetector(**FAST, memory_size=1, shrink_threshold=0.0).fit(_X()).threshold_ > 0


def test_dataframe_columns_that_are_not_numbers_are_named() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": np.arange(6.0), "when": pd.date_range("2026", periods=6),
                          "b": np.arange(6)})
    with pytest.raises(TypeError, match=r"non-numeric columns 'when' \(datetime64"):
        MemAEDetector(**FAST).fit(frame)


def test_scoring_rejects_nan_and_empty(fitted: MemAEDetector) -> None:
    bad = _X()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="0 sample"):
        fitted.decision_function(np.empty((0, 5)))


def test_unfitted_detector_says_to_fit() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        MemAEDetector().decision_function(_X())


def test_bad_proba_method(fitted: MemAEDetector) -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        fitted.predict_proba(_X(), method="softmax")


def test_cuda_requested_without_cuda() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        MemAEDetector(**{**FAST, "device": "cuda"}).fit(_X())


def test_a_diverging_loss_stops_training_with_the_fix() -> None:
    from memae.training import TrainingDivergedError

    with pytest.raises(TrainingDivergedError, match="diverged at epoch 1.*lower learning_rate"):
        MemAEDetector(**{**FAST, "epochs": 5, "learning_rate": 1e6}).fit(_X(200))


def test_a_model_too_large_for_memory_is_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match=r"has [\d,]+ parameters, which need about .* GiB"):
        MemAEDetector(**FAST, memory_size=10**11).fit(_X())
