"""MemAEDetector: the PyOD contract, training controls, explanations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from memae import MemAEDetector
from tests.conftest import FAST


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


def test_early_stopping_keeps_best_epoch(blobs) -> None:
    X, _, _ = blobs
    detector = MemAEDetector(**{**FAST, "epochs": 200}, patience=3, learning_rate=0.05).fit(X)
    history = detector.history_
    assert len(history.val_loss) == len(history.train_loss)
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    if history.stopped_early:
        assert len(history.val_loss) == history.best_epoch + 3


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
