from __future__ import annotations

import numpy as np


def test_video_figure_shades_each_abnormal_run() -> None:
    from memae.report.figures import video_figure

    frames = np.arange(10)
    label = np.array([0, 1, 1, 0, 0, 0, 1, 1, 1, 0])
    fig = video_figure(["01", "02"], [frames, frames], [frames * 1.0, frames * 2.0],
                       [label, None])
    first, second = fig.axes[:2]
    spans = [p.get_x() for p in first.patches]
    assert spans == [0.5, 5.5] and not second.patches  # runs 1-2 and 6-8; no labels, no shade
    assert first.get_title() == "clip 01"
