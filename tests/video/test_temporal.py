"""Temporal smoothing of frame scores: whole-video and streaming forms agree."""

import numpy as np
import pytest

from memae.video.detector import preset_config
from memae.video.score import FrameScore
from memae.video.temporal import moving_average, smooth_stream


def by_hand(scores: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    return np.array([scores[max(0, i - half):i + half + 1].mean() for i in range(len(scores))])


@pytest.mark.parametrize("n_frames", [1, 2, 5, 9, 17, 40])
@pytest.mark.parametrize("window", [1, 3, 9, 17])
def test_moving_average_shrinks_at_the_ends_and_the_stream_agrees(n_frames: int,
                                                                  window: int) -> None:
    scores = np.random.default_rng(n_frames * window).normal(size=n_frames)
    expected = by_hand(scores, window)
    np.testing.assert_allclose(moving_average(scores, window), expected, rtol=1e-12)
    stream = smooth_stream((FrameScore(i, float(s), None) for i, s in enumerate(scores)),
                           window)
    items = list(stream)
    assert [item.index for item in items] == list(range(n_frames))
    np.testing.assert_allclose([item.score for item in items], expected, rtol=1e-12)


def test_a_spike_spreads_over_the_window() -> None:
    scores = np.zeros(9)
    scores[4] = 9.0
    np.testing.assert_allclose(moving_average(scores, 3), [0, 0, 0, 3, 3, 3, 0, 0, 0])


def test_the_stream_holds_back_half_a_window() -> None:
    consumed = 0

    def items():
        nonlocal consumed
        for i in range(50):
            consumed += 1
            yield FrameScore(i, float(i), None)

    lags = [consumed - item.index for item in smooth_stream(items(), 17)]
    assert max(lags[:-8]) == 9  # frame i leaves once frame i + 8 has been read


def test_even_or_non_positive_windows_are_refused() -> None:
    for window in (0, 2, -1):
        with pytest.raises(ValueError, match="odd positive number of frames"):
            moving_average(np.zeros(3), window)
        with pytest.raises(ValueError, match="temporal_smoothing"):
            preset_config("ped2-cpu").replace(temporal_smoothing=window)
