"""What the video model sees of each frame: the frame, its change since the last, or both.

``"frames"`` (the paper) feeds preprocessed grayscale frames. ``"difference"`` feeds
temporal differences ``d_t = f_t - f_(t-1)`` of consecutive preprocessed frames (values in
[-2, 2]); the first frame of a video has no predecessor and gets ``d_0 = 0``. Static
background cancels out, so the reconstruction error concentrates on what moves, and on
how fast it moves. Frame ``t``'s score and map then describe the motion between frames
``t - 1`` and ``t``. ``"frames_and_difference"`` feeds both as two channels ``(f_t, d_t)``;
a frame's error map is the sum of the two channels' squared errors.

The transform is applied to the stream of frames before windows are cut
(:func:`model_inputs`), so training windows (:class:`memae.video.ClipDataset`), scoring
(:func:`memae.video.score_frames` callers) and ``memae score-video`` see the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np

InputSignal = Literal["frames", "difference", "frames_and_difference"]
INPUT_SIGNALS: tuple[str, ...] = ("frames", "difference", "frames_and_difference")


def signal_channels(signal: str) -> int:
    """Input channels of a model that reads ``signal``: 2 for frames and differences, else 1."""
    if signal not in INPUT_SIGNALS:
        raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")
    return 2 if signal == "frames_and_difference" else 1


def frame_differences(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """``f_t - f_(t-1)`` for each frame of a stream, zeros for the first; lazily."""
    previous: np.ndarray | None = None
    for frame in frames:
        frame = np.asarray(frame, dtype=np.float32)
        yield np.zeros_like(frame) if previous is None else frame - previous
        previous = frame


def _with_differences(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    previous: np.ndarray | None = None
    for frame in frames:
        frame = np.asarray(frame, dtype=np.float32)
        change = np.zeros_like(frame) if previous is None else frame - previous
        yield np.stack([frame, change])
        previous = frame


def model_inputs(frames: Iterable[np.ndarray], signal: str) -> Iterable[np.ndarray]:
    """The stream a model with ``input_signal=signal`` reads, from preprocessed frames:
    ``(H, W)`` arrays, or ``(2, H, W)`` for ``"frames_and_difference"``."""
    if signal == "frames":
        return frames
    if signal == "difference":
        return frame_differences(frames)
    if signal == "frames_and_difference":
        return _with_differences(frames)
    raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")
