"""ScoreContract: the methods built on ``decision_function`` and their sign conventions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from memae import MemAEDetector, MemAEEnsemble
from memae.thresholds import ScoreContract
from tests.conftest import FAST


class FixedScores(ScoreContract):
    """A contract whose anomaly score is the first feature."""

    threshold_ = 1.5
    decision_scores_ = np.array([0.0, 1.0, 2.0])

    def decision_function(self, X):
        return np.asarray(X, dtype=float)[:, 0]


def test_score_samples_is_the_negated_decision_function() -> None:
    X = np.array([[0.0], [1.0], [3.0]])
    contract = FixedScores()
    np.testing.assert_array_equal(contract.score_samples(X), [-0.0, -1.0, -3.0])
    np.testing.assert_array_equal(contract.predict(X), [0, 0, 1])
    # Linear scaling over the training scores [0, 2], clipped to [0, 1].
    np.testing.assert_allclose(contract.predict_proba(X)[:, 1], [0.0, 0.5, 1.0])


def test_score_samples_ranks_like_sklearn_outlier_detectors(blobs) -> None:
    X, X_test, y_test = blobs
    detectors = [MemAEDetector(**FAST).fit(X),
                 MemAEEnsemble(MemAEDetector(**FAST), n_estimators=2, random_state=0).fit(X)]
    for detector in detectors:
        scores = detector.score_samples(X_test)
        np.testing.assert_array_equal(scores, -detector.decision_function(X_test))
    # One ranking rule for memae and sklearn: lower score_samples = more abnormal.
    forest = IsolationForest(random_state=0).fit(X)
    aucs = [roc_auc_score(y_test, -d.score_samples(X_test)) for d in [*detectors, forest]]
    assert min(aucs) > 0.9, aucs


def test_bad_proba_method(small_detector: MemAEDetector) -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        small_detector.predict_proba(np.random.default_rng(1).normal(size=(20, 4)),
                                     method="softmax")
