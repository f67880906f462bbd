"""Turning anomaly scores into thresholds, labels and probabilities."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.special import erf

logger = logging.getLogger(__name__)

PROBA_METHODS = ("linear", "unify")


def contamination_threshold(scores: np.ndarray, contamination: float) -> float:
    """The score above which a fraction ``contamination`` of ``scores`` lies (PyOD's rule)."""
    return float(np.percentile(scores, 100.0 * (1.0 - contamination)))


def fpr_threshold(normal_scores: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold whose false-positive rate on ``normal_scores`` is <= ``target_fpr``.

    Needs no guess of the contamination: only scores of data believed normal
    (ideally held out from training, whose scores are optimistic).
    """
    n = len(normal_scores)
    if target_fpr * n < 1:
        logger.warning(
            "target_fpr=%g is below 1/%d, the resolution of %d held-out scores; "
            "the threshold is the largest normal score", target_fpr, n, n)
    return float(np.quantile(normal_scores, 1.0 - target_fpr, method="higher"))


def scores_to_proba(scores: np.ndarray, train_scores: np.ndarray, method: str) -> np.ndarray:
    """``(n, 2)`` [P(inlier), P(outlier)] from scores, scaled by the training scores.

    ``"linear"``: min-max scaling to [0, 1] over the training scores (PyOD's
    default); ``"unify"``: Gaussian scaling, ``erf((s - mean) / (std * sqrt 2))``
    clipped at 0 (Kriegel et al. 2011).
    """
    if method == "linear":
        low, high = train_scores.min(), train_scores.max()
        p = (scores - low) / max(high - low, np.finfo(float).tiny)
    elif method == "unify":
        std = max(train_scores.std(), np.finfo(float).tiny)
        p = erf((scores - train_scores.mean()) / (std * np.sqrt(2)))
    else:
        raise ValueError(f"method must be one of {PROBA_METHODS}, got {method!r}.")
    p = np.clip(p, 0.0, 1.0)
    return np.column_stack([1.0 - p, p])


class ScoreContract:
    """PyOD's methods on top of ``decision_function``, ``threshold_`` and ``decision_scores_``."""

    threshold_: float
    decision_scores_: np.ndarray

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores ``(n_samples,)``, higher = more anomalous; subclasses implement it."""
        raise NotImplementedError

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality scores in scikit-learn's sign convention: ``-decision_function(X)``.

        scikit-learn's outlier detectors (``IsolationForest``, ``LocalOutlierFactor``)
        return ``score_samples`` where lower means more abnormal, so code written
        for them ranks samples correctly here too. :meth:`decision_function`
        keeps PyOD's convention, higher = more anomalous.

        Parameters
        ----------
        X:
            Samples, as accepted by :meth:`decision_function`.

        Returns
        -------
        numpy.ndarray
            ``(n_samples,)`` scores; the lower, the more abnormal.
        """
        return -self.decision_function(X)

    def predict(self, X: Any) -> np.ndarray:
        """0 for inliers, 1 for outliers (score above ``threshold_``)."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def predict_proba(self, X: Any, method: str = "linear") -> np.ndarray:
        """``(n, 2)`` probabilities [inlier, outlier], scaled by the training scores."""
        return scores_to_proba(self.decision_function(X), self.decision_scores_, method)
