"""MemAEDetector: the PyOD contract, training controls, explanations, the errors it raises
itself, chunked scoring, overflow-safe standardisation and scikit-learn's estimator checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from memae import MemAEDetector
from memae import detector as detector_module
from tests.conftest import FAST, QUICK


def _X(n: int = 20, d: int = 5) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


def test_detects_off_manifold_anomalies(blobs) -> None:
    X, X_test, y_test = blobs
    detector = MemAEDetector(**FAST).fit(X)
    assert roc_auc_score(y_test, detector.decision_function(X_test)) > 0.95


def test_pyod_contract(blobs) -> None:
    X, X_test, _ = blobs
    detector = MemAEDetector(**FAST, contamination=0.05)
    assert detector.fit(X) is detector
    assert detector.decision_scores_.shape == (len(X),)
    assert detector.labels_.mean() == pytest.approx(0.05, abs=0.01)
    assert set(np.unique(detector.predict(X_test))) <= {0, 1}
    np.testing.assert_array_equal(detector.predict(X),
                                  (detector.decision_function(X) > detector.threshold_))
    proba = detector.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    unify = detector.predict_proba(X_test, method="unify")
    assert unify.shape == (len(X_test), 2)
    # Probabilities rank samples like the scores do.
    scores = detector.decision_function(X_test)
    order = np.argsort(scores)
    assert np.all(np.diff(proba[order, 1]) >= -1e-12)


def test_target_fpr_threshold_needs_no_contamination(blobs) -> None:
    X, X_test, y_test = blobs
    detector = MemAEDetector(**FAST, target_fpr=0.05, validation_fraction=0.3).fit(X)
    held_out = detector.validation_scores_
    assert held_out is not None and len(held_out) == 90
    assert np.mean(held_out > detector.threshold_) <= 0.05
    flagged = detector.predict(X_test)
    assert flagged[y_test == 1].mean() > 0.9
    assert flagged[y_test == 0].mean() < 0.2


def test_early_stopping_restores_the_weights_of_the_best_epoch(blobs) -> None:
    X, _, _ = blobs
    # A learning rate this high turns the held-out MSE up within a few epochs (seed 0: best
    # epoch 4, stopped after epoch 7), far inside the 200-epoch budget.
    detector = MemAEDetector(**{**FAST, "epochs": 200}, validation_fraction=0.1, patience=3,
                             learning_rate=0.05).fit(X)
    history = detector.history_
    assert history.stopped_early
    # Training ran exactly `patience` epochs past the best one, then stopped.
    assert len(history.val_loss) == len(history.train_loss) == history.best_epoch + 3 < 200
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    best = history.val_loss[history.best_epoch - 1]
    assert history.val_loss[-1] > best  # the last epoch's weights are worse than the best's
    # The kept weights are the best epoch's: their MSE on the held-out rows is that epoch's.
    assert len(detector.validation_scores_) == 30
    assert np.mean(detector.validation_scores_) == pytest.approx(best, rel=1e-6)


def test_same_seed_same_scores_and_no_global_rng_side_effect(blobs) -> None:
    X, X_test, _ = blobs
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the global state is what is tested)
    before_torch, before_np = torch.random.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    a = MemAEDetector(**FAST).fit(X).decision_function(X_test)
    assert torch.equal(torch.random.get_rng_state(), before_torch)
    assert np.array_equal(np.random.get_state()[1], before_np)  # noqa: NPY002
    b = MemAEDetector(**FAST).fit(X).decision_function(X_test)
    np.testing.assert_array_equal(a, b)
    c = MemAEDetector(**{**FAST, "random_state": 1}).fit(X).decision_function(X_test)
    assert not np.array_equal(a, c)


def test_clone_and_params_roundtrip() -> None:
    detector = MemAEDetector(memory_size=30, epochs=7, target_fpr=0.01)
    twin = clone(detector)
    assert twin.get_params() == detector.get_params()
    twin.set_params(epochs=3)
    assert twin.epochs == 3 and detector.epochs == 7


def test_explain_per_feature_sums_to_score(blobs) -> None:
    X, X_test, _ = blobs
    detector = MemAEDetector(**FAST).fit(X)
    errors = detector.explain(X_test[:10])
    assert errors.shape == (10, 8)
    np.testing.assert_allclose(errors.mean(axis=1), detector.decision_function(X_test[:10]),
                               rtol=1e-5)
    # A corrupted feature is the one that gets blamed.
    corrupted = X_test[:10].copy()
    corrupted[:, 3] += 10.0
    assert (detector.explain(corrupted).argmax(axis=1) == 3).all()


def test_images_per_pixel_explanation() -> None:
    rng = np.random.default_rng(0)
    X = np.zeros((64, 1, 12, 12), np.float32)
    X[:, :, 4:8, 4:8] = 1.0
    X += 0.05 * rng.normal(size=X.shape).astype(np.float32)
    detector = MemAEDetector(**FAST, memory_size=10).fit(X)
    odd = X[:4].copy()
    odd[:, :, 0:2, 0:2] = 3.0
    errors = detector.explain(odd)
    assert errors.shape == (4, 1, 12, 12)
    corner = errors[:, :, 0:2, 0:2].mean()
    assert corner > 5 * errors[:, :, 6:, 6:].mean()
    assert (detector.decision_function(odd) > detector.decision_scores_.max()).all()
    assert detector.reconstruct(X[:2]).shape == (2, 1, 12, 12)


def test_scoring_in_small_batches_equals_one_batch(blobs) -> None:
    X, X_test, _ = blobs
    detector = MemAEDetector(**FAST, score_batch_size=7).fit(X)
    small = detector.decision_function(X_test)
    detector.set_params(score_batch_size=10_000)
    np.testing.assert_allclose(small, detector.decision_function(X_test), rtol=1e-5)


def test_ablations_build_the_right_models(blobs) -> None:
    X, _, _ = blobs
    ae = MemAEDetector(**{**FAST, "epochs": 1}, memory=False).fit(X)
    assert ae.model_.memory is None
    non_spar = MemAEDetector(**{**FAST, "epochs": 1}, shrink_threshold=0.0).fit(X)
    assert non_spar.model_.memory.shrink_threshold == 0.0
    custom = MemAEDetector(**{**FAST, "epochs": 1}, model="mlp_kdd99", memory_size=7).fit(X)
    assert custom.model_.memory.items.shape == (7, 3)


def test_standardisation_uses_training_statistics(blobs) -> None:
    X, _, _ = blobs
    shifted = X * 100.0 + 50.0
    a = MemAEDetector(**FAST, validation_fraction=0.0).fit(X)
    b = MemAEDetector(**FAST, validation_fraction=0.0).fit(shifted)
    np.testing.assert_allclose(b.scale_mean_, shifted.mean(axis=0), rtol=1e-4)
    # Same data in other units trains the same model up to float32 rounding.
    assert np.corrcoef(a.decision_scores_, b.decision_scores_)[0, 1] > 0.95
    assert b.decision_scores_.mean() == pytest.approx(a.decision_scores_.mean(), rel=0.1)


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown model 'vae'.*mlp"):
        MemAEDetector(**FAST, model="vae").fit(_X())


def test_model_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="takes 2-D inputs"):
        MemAEDetector(**FAST, model="conv2d").fit(_X())
    with pytest.raises(ValueError, match="tabular"):
        MemAEDetector(**FAST, model="mlp").fit(np.zeros((4, 1, 8, 8)))


def test_memory_size_one_explains_the_default_shrink_threshold() -> None:
    with pytest.raises(ValueError, match="memory_size=1 makes the default shrink_threshold"):
        MemAEDetector(**FAST, memory_size=1).fit(_X())
    assert MemAEDetector(**FAST, memory_size=1, shrink_threshold=0.0).fit(_X()).threshold_ > 0


def test_unfitted_detector_says_to_fit() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        MemAEDetector().decision_function(_X())


def test_cuda_requested_without_cuda() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        MemAEDetector(**{**FAST, "device": "cuda"}).fit(_X())


def test_a_model_too_large_for_memory_is_refused_before_allocating() -> None:
    with pytest.raises(ValueError, match=r"has [\d,]+ parameters, which need about .* GiB"):
        MemAEDetector(**FAST, memory_size=10**11).fit(_X())


@QUICK
@given(value=st.sampled_from([1e10, 1e19, 1e30, -1e30, 3e38]), column=st.integers(0, 3))
def test_huge_values_never_give_nan_scores(small_detector, value: float, column: int) -> None:
    X = np.zeros((5, 4), np.float32)
    X[2, column] = value
    try:
        scores = small_detector.decision_function(X)
    except ValueError as error:
        assert "rows [2]" in str(error) and "overflow" in str(error)
        return
    assert np.isfinite(scores).all() and scores.argmax() == 2


def test_huge_training_values_standardise_without_overflow() -> None:
    X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    X[:, 1] = np.where(X[:, 1] > 0, 3e38, -3e38)  # x - mean alone would overflow float32
    detector = MemAEDetector(**{**FAST, "epochs": 2}).fit(X)
    assert np.isfinite(detector.decision_scores_).all()
    assert np.isfinite(detector.scale_std_).all()


@pytest.fixture(scope="module")
def batched() -> MemAEDetector:
    """Fitted on 200 rows of 6 features; scores in batches of 16 rows."""
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 3}, score_batch_size=16).fit(X)


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(301, 6)).astype(np.float32)


def test_chunked_decision_function_equals_one_pass(batched, rows, tmp_path, monkeypatch) -> None:
    whole = batched.decision_function(rows)
    monkeypatch.setattr(detector_module, "VALIDATION_CHUNK_ROWS", 40)  # 2 batches of 16
    np.testing.assert_array_equal(batched.decision_function(rows), whole)
    np.save(tmp_path / "X.npy", rows)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    np.testing.assert_array_equal(batched.decision_function(mapped), whole)
    bad = rows.copy()
    bad[250, 2] = np.nan  # in the last chunk only
    with pytest.raises(ValueError, match="NaN.*impute"):
        batched.decision_function(bad)
    with pytest.raises(ValueError, match="X has 5 features.*expecting 6"):
        batched.decision_function(rows[:, :5])


# sklearn's outlier checks assume its own convention (predict in {-1, +1},
# decision_function negative for outliers). MemAEDetector follows PyOD's, which
# anomaly-detection users know: predict in {0, 1}, higher score = more anomalous.
PYOD_CONVENTION = ("PyOD convention: predict returns 0/1 and decision_function grows "
                   "with anomaly, sklearn expects -1/+1 and the opposite sign")


EXPECTED_FAILED = {
    "check_outliers_train": PYOD_CONVENTION,
    "check_outliers_fit_predict": PYOD_CONVENTION,
}


@parametrize_with_checks(
    [MemAEDetector(epochs=2, batch_size=16, random_state=0, device="cpu")],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)
