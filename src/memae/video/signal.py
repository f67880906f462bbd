"""What the video model sees of each frame: the frame itself, or its change since the last.

``"frames"`` (the paper) feeds preprocessed grayscale frames. ``"difference"`` feeds
temporal differences ``d_t = f_t - f_(t-1)`` of consecutive preprocessed frames (values in
[-2, 2]); the first frame of a video has no predecessor and gets ``d_0 = 0``. Static
background cancels out, so the reconstruction error concentrates on what moves, and on
how fast it moves. Frame ``t``'s score and map then describe the motion between frames
``t - 1`` and ``t``.

The transform is applied to the stream of frames before windows are cut
(:func:`model_inputs`), so training windows (:class:`memae.video.ClipDataset`), scoring
(:func:`memae.video.score_frames` callers) and ``memae score-video`` see the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np

InputSignal = Literal["frames", "difference"]
INPUT_SIGNALS: tuple[str, ...] = ("frames", "difference")


def frame_differences(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """``f_t - f_(t-1)`` for each frame of a stream, zeros for the first; lazily."""
    previous: np.ndarray | None = None
    for frame in frames:
        frame = np.asarray(frame, dtype=np.float32)
        yield np.zeros_like(frame) if previous is None else frame - previous
        previous = frame


def model_inputs(frames: Iterable[np.ndarray], signal: str) -> Iterable[np.ndarray]:
    """The stream a model with ``input_signal=signal`` reads, from preprocessed frames."""
    if signal == "frames":
        return frames
    if signal == "difference":
        return frame_differences(frames)
    raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")
