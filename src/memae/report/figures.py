"""Figures of a run: loss curves, ROC and PR curves, score histograms, video timelines.

Every function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API (no pyplot, so no global state and no display needed:
``savefig`` renders with the Agg backend). matplotlib is optional
(``memae[report]``) and imported only when a figure is made, so the package and the
command line load without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["label_spans", "loss_figure", "new_figure", "require_matplotlib", "roc_pr_figure",
           "score_histogram_figure", "video_figure"]

NORMAL_COLOR, ANOMALY_COLOR, THRESHOLD_COLOR = "#3b75af", "#d1495b", "#333333"


def require_matplotlib() -> type[Figure]:
    """The ``matplotlib.figure.Figure`` class; an ``ImportError`` naming the extra if absent."""
    try:
        from matplotlib import figure
    except ModuleNotFoundError as error:
        raise ImportError(f"memae report needs matplotlib ({error}): "
                          "pip install 'memae[report]'") from error
    return figure.Figure


def new_figure(width: float, height: float) -> Figure:
    """An empty ``width`` x ``height`` inch figure with constrained layout."""
    return require_matplotlib()(figsize=(width, height), layout="constrained")


def loss_figure(train_loss: Sequence[float], val_loss: Sequence[float],
                best_epoch: int) -> Figure:
    """Training loss (MSE + alpha * entropy) and validation MSE per epoch; best epoch marked."""
    fig = new_figure(6.4, 3.6)
    ax = fig.add_subplot()
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, label="training loss", color=NORMAL_COLOR)
    if len(val_loss):
        ax.plot(np.arange(1, len(val_loss) + 1), val_loss, label="validation MSE",
                color=ANOMALY_COLOR)
    if best_epoch:
        ax.axvline(best_epoch, color=THRESHOLD_COLOR, linestyle=":",
                   label=f"best epoch ({best_epoch})")
    if min([*train_loss, *val_loss], default=1.0) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training")
    ax.legend()
    return fig


def memory_health_figure(items_used: Sequence[int], entropy: Sequence[float],
                         n_items: int) -> Figure:
    """Memory items used and mean addressing entropy per training epoch."""
    fig = new_figure(9.6, 3.4)
    used_ax, entropy_ax = fig.subplots(1, 2)
    epochs = np.arange(1, len(items_used) + 1)
    used_ax.plot(epochs, items_used, color=NORMAL_COLOR, marker=".")
    used_ax.axhline(n_items, color="#999999", linestyle="--", linewidth=0.8,
                    label=f"memory size ({n_items})")
    used_ax.set(xlabel="epoch", ylabel="items used", ylim=(0, n_items * 1.05),
                title="Items with at least 1/N of some position's weight")
    used_ax.legend()
    entropy_ax.plot(epochs, entropy, color=NORMAL_COLOR, marker=".")
    entropy_ax.set(xlabel="epoch", ylabel="nats", title="Mean addressing entropy")
    return fig


def roc_pr_figure(labels: np.ndarray, scores: np.ndarray, threshold: float | None) -> Figure:
    """ROC and precision-recall curves; the threshold's operating point marked."""
    fig = new_figure(9.6, 4.0)
    roc_ax, pr_ax = fig.subplots(1, 2)
    fpr, tpr, _ = roc_curve(labels, scores)
    roc_ax.plot(fpr, tpr, color=NORMAL_COLOR,
                label=f"ROC-AUC {roc_auc_score(labels, scores):.4f}")
    roc_ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8)
    roc_ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC",
               xlim=(0, 1), ylim=(0, 1.01))
    precision, recall, _ = precision_recall_curve(labels, scores)
    pr_ax.plot(recall, precision, color=NORMAL_COLOR,
               label=f"average precision {average_precision_score(labels, scores):.4f}")
    pr_ax.axhline(labels.mean(), color="#999999", linestyle="--", linewidth=0.8)
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall",
              xlim=(0, 1), ylim=(0, 1.01))
    if threshold is not None:
        flagged = scores > threshold
        point_fpr = flagged[labels == 0].mean()
        point_tpr = flagged[labels == 1].mean()
        point_precision = labels[flagged].mean() if flagged.any() else 1.0
        roc_ax.plot(point_fpr, point_tpr, "o", color=THRESHOLD_COLOR,
                    label=f"threshold {threshold:.4g}")
        pr_ax.plot(point_tpr, point_precision, "o", color=THRESHOLD_COLOR,
                   label=f"threshold {threshold:.4g}")
    roc_ax.legend(loc="lower right")
    pr_ax.legend(loc="lower left")
    return fig


def score_histogram_figure(scores: np.ndarray, labels: np.ndarray | None,
                           threshold: float | None) -> Figure:
    """Histograms of normal and anomalous scores (log-spaced bins for positive scores)."""
    fig = new_figure(6.4, 3.6)
    ax = fig.add_subplot()
    positive = bool((scores > 0).all())
    bins: int | list[float] = (np.geomspace(scores.min(), scores.max(), 50).tolist()
                               if positive and scores.min() < scores.max() else 50)
    if labels is None:
        ax.hist(scores, bins=bins, color=NORMAL_COLOR, alpha=0.8, label="all samples")
    else:
        ax.hist(scores[labels == 0], bins=bins, color=NORMAL_COLOR, alpha=0.6,
                label=f"normal ({int((labels == 0).sum())})")
        ax.hist(scores[labels == 1], bins=bins, color=ANOMALY_COLOR, alpha=0.6,
                label=f"anomalous ({int((labels == 1).sum())})")
    if threshold is not None:
        ax.axvline(threshold, color=THRESHOLD_COLOR, linestyle="--",
                   label=f"threshold {threshold:.4g}")
    if positive:
        ax.set_xscale("log")
    ax.set(xlabel="anomaly score (mean squared reconstruction error)", ylabel="samples",
           title="Score distribution")
    ax.legend()
    return fig


def label_spans(labels: np.ndarray) -> list[tuple[int, int]]:
    """``[first, last]`` index pairs of the runs of 1s in ``labels``."""
    padded = np.concatenate([[0], np.asarray(labels, dtype=int), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def video_figure(clips: Sequence[str], frames: Sequence[np.ndarray],
                 scores: Sequence[np.ndarray], labels: Sequence[np.ndarray | None],
                 columns: int = 3) -> Figure:
    """Score over time, one panel per clip, abnormal ground-truth frames shaded."""
    columns = max(1, min(columns, len(clips)))
    rows = -(-len(clips) // columns)
    fig = new_figure(4.0 * columns, 2.4 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, clip, frame, score, label in zip(axes, clips, frames, scores, labels, strict=False):
        order = np.argsort(frame)
        frame, score = frame[order], score[order]
        if label is not None:
            for first, last in label_spans(label[order]):
                ax.axvspan(frame[first] - 0.5, frame[last] + 0.5, color=ANOMALY_COLOR,
                           alpha=0.2, linewidth=0)
        ax.plot(frame, score, color=NORMAL_COLOR, linewidth=1.0)
        ax.set_title(f"clip {clip}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(clips):]:
        ax.set_visible(False)
    fig.supxlabel("frame")
    fig.supylabel("anomaly score")
    return fig
