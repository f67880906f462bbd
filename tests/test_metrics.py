"""anomaly_metrics on cases small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest

from memae.metrics import anomaly_metrics


def test_metrics_match_a_hand_computation() -> None:
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    # Pairs (anomaly, normal) ranked right: (0.35, 0.1), (0.8, 0.1), (0.8, 0.4) of 4.
    metrics = anomaly_metrics(labels, scores, predicted=np.array([0, 1, 0, 1]))
    assert metrics["n"] == 4 and metrics["n_anomalies"] == 2
    assert metrics["roc_auc"] == pytest.approx(0.75)
    # Ranked by score: 0.8 (hit, precision 1), 0.4 (miss), 0.35 (hit, precision 2/3).
    assert metrics["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    # Flagged rows 1 and 3: one true anomaly of two flagged, one of two anomalies found.
    assert metrics["n_flagged"] == 2
    assert (metrics["precision"], metrics["recall"], metrics["f1"]) == pytest.approx(
        (0.5, 0.5, 0.5))
    assert set(anomaly_metrics(labels, scores)) == {"n", "n_anomalies", "roc_auc",
                                                    "average_precision"}


def test_nothing_flagged_gives_zero_precision_not_a_warning() -> None:
    metrics = anomaly_metrics(np.array([0, 1]), np.array([0.1, 0.9]), np.array([0, 0]))
    assert (metrics["precision"], metrics["recall"], metrics["f1"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("labels", "scores", "match"), [
    ([0, 1], [0.1, 0.2, 0.3], r"labels has shape \(2,\) but scores has \(3,\)"),
    ([0, 2], [0.1, 0.2], r"labels must be 0 \(normal\) or 1 \(anomaly\), got \[0, 2\]"),
    ([1, 1], [0.1, 0.2], "labels hold only anomalies"),
    ([0, 0], [0.1, 0.2], "labels hold only normal samples"),
])
def test_bad_labels_are_refused(labels: list, scores: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        anomaly_metrics(np.array(labels), np.array(scores))
