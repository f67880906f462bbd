"""Anomaly-detection metrics from scores, true labels and thresholded decisions."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["anomaly_metrics"]


def anomaly_metrics(labels: np.ndarray, scores: np.ndarray,
                    predicted: np.ndarray | None = None) -> dict[str, Any]:
    """ROC-AUC and average precision of ``scores``; precision, recall, F1 of ``predicted``.

    Parameters
    ----------
    labels:
        1 for anomalies, 0 for normal samples; both must occur.
    scores:
        Higher = more anomalous.
    predicted:
        Thresholded 0/1 decisions (optional).

    Returns
    -------
    dict
        ``n``, ``n_anomalies``, ``roc_auc``, ``average_precision`` (the area
        under the precision-recall curve, step-wise), and with ``predicted``:
        ``n_flagged``, ``precision``, ``recall``, ``f1``.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"labels has shape {labels.shape} but scores has {scores.shape}; "
                         "give one label per score.")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly), got "
                         f"{sorted(set(labels.tolist()))[:5]}.")
    n_anomalies = int(labels.sum())
    if n_anomalies in (0, len(labels)):
        raise ValueError(f"labels hold only {'anomalies' if n_anomalies else 'normal samples'} "
                         f"({len(labels)} rows); ROC-AUC needs both classes.")
    result: dict[str, Any] = {
        "n": int(len(labels)),
        "n_anomalies": n_anomalies,
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
    }
    if predicted is not None:
        predicted = np.asarray(predicted)
        result.update({
            "n_flagged": int(predicted.sum()),
            "precision": float(precision_score(labels, predicted, zero_division=0)),
            "recall": float(recall_score(labels, predicted, zero_division=0)),
            "f1": float(f1_score(labels, predicted, zero_division=0)),
        })
    return result
