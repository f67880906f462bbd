"""The run's figures: loss curves, abnormal runs shaded on video timelines."""

from __future__ import annotations

import numpy as np
import pytest

from memae.report.figures import label_spans, loss_figure, video_figure

pytest.importorskip("matplotlib")


def test_label_spans_are_the_first_and_last_index_of_each_run() -> None:
    assert label_spans(np.array([0, 1, 1, 0, 0, 1, 0, 1])) == [(1, 2), (5, 5), (7, 7)]
    assert label_spans(np.array([1, 1, 0])) == [(0, 1)]
    assert label_spans(np.zeros(4)) == []


def test_loss_figure_marks_the_best_epoch_on_a_log_scale() -> None:
    fig = loss_figure([1.0, 0.5, 0.4], [0.9, 0.3, 0.6], best_epoch=2)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == [
        "training loss", "validation MSE", "best epoch (2)"]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [1, 2, 3])
    # a loss of 0 cannot be drawn on a log scale
    assert loss_figure([1.0, 0.0], [], best_epoch=0).axes[0].get_yscale() == "linear"


def test_video_figure_shades_each_abnormal_run() -> None:
    frames = np.arange(10)
    label = np.array([0, 1, 1, 0, 0, 0, 1, 1, 1, 0])
    fig = video_figure(["01", "02"], [frames, frames], [frames * 1.0, frames * 2.0],
                       [label, None])
    first, second = fig.axes[:2]
    spans = [p.get_x() for p in first.patches]
    assert spans == [0.5, 5.5] and not second.patches  # runs 1-2 and 6-8; no labels, no shade
    assert first.get_title() == "clip 01"
