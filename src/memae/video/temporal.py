"""Temporal smoothing of frame scores: a centred moving average within one video.

Frame ``i``'s smoothed score is the mean of the raw scores of frames ``i - h .. i + h``
(``window = 2 h + 1``) that exist: near the first and last frames of a video the window
shrinks to the frames inside it, so a video is never padded. :func:`moving_average` works
on a whole video's scores; :func:`smooth_stream` gives the same numbers from a stream of
:class:`~memae.video.score.FrameScore`, holding back at most ``h`` frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from memae.video.score import FrameScore


def _check(window: int) -> int:
    if not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"window: got {window!r}; expected an odd positive number of frames")
    return window // 2


def moving_average(scores: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of one video's frame ``scores`` (see the module doc)."""
    half = _check(window)
    scores = np.asarray(scores, dtype=np.float64)
    if half == 0 or len(scores) == 0:
        return scores
    sums = np.concatenate([[0.0], np.cumsum(scores)])
    index = np.arange(len(scores))
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, len(scores))
    return (sums[high] - sums[low]) / (high - low)


def smooth_stream(items: Iterable[FrameScore], window: int) -> Iterator[FrameScore]:
    """The stream ``items`` with each score replaced by its centred moving average."""
    half = _check(window)
    if half == 0:
        yield from items
        return
    pending: deque[FrameScore] = deque()  # frames not yet emitted
    scores: deque[float] = deque()  # raw scores of frames emitted - half .. newest
    emitted = 0
    for item in items:
        pending.append(item)
        scores.append(item.score)
        if len(pending) > half:
            yield _emit(pending.popleft(), scores, emitted, half)
            emitted += 1
    while pending:
        yield _emit(pending.popleft(), scores, emitted, half)
        emitted += 1


def _emit(item: FrameScore, scores: deque[float], emitted: int, half: int) -> FrameScore:
    """``item`` with the mean of its window; drops the score that no later frame needs."""
    first = max(emitted - half, 0)  # index of scores[0]
    values = list(scores)[: emitted + half + 1 - first]
    smoothed = FrameScore(item.index, float(np.mean(values)), item.map)
    if emitted - half >= 0:
        scores.popleft()
    return smoothed
