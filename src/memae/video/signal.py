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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

import numpy as np

InputSignal = Literal["frames", "difference", "frames_and_difference"]
INPUT_SIGNALS: tuple[str, ...] = ("frames", "difference", "frames_and_difference")


def signal_channels(signal: str) -> int:
    """Input channels of a model that reads ``signal``: 2 for frames and differences, else 1."""
    if signal not in INPUT_SIGNALS:
        raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")
    return 2 if signal == "frames_and_difference" else 1


def _changes(frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(f_t, f_t - f_(t-1))`` for each frame of a stream, zeros for the first change."""
    previous: np.ndarray | None = None
    for frame in frames:
        frame = np.asarray(frame, dtype=np.float32)
        yield frame, np.zeros_like(frame) if previous is None else frame - previous
        previous = frame


def frame_differences(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """``f_t - f_(t-1)`` for each frame of a stream, zeros for the first; lazily."""
    return (change for _, change in _changes(frames))


def model_inputs(frames: Iterable[np.ndarray], signal: str) -> Iterable[np.ndarray]:
    """The stream a model with ``input_signal=signal`` reads, from preprocessed frames.

    Its items are ``(H, W)`` arrays, or ``(2, H, W)`` for ``"frames_and_difference"``.
    """
    if signal == "frames":
        return frames
    if signal == "difference":
        return frame_differences(frames)
    if signal == "frames_and_difference":
        return (np.stack(pair) for pair in _changes(frames))
    raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")


def frames_needed(indices: Sequence[int], signal: str) -> list[int]:
    """Frames to read for a window of frame ``indices`` (increasing).

    With differences, also the frame before each (none before frame 0).
    """
    if signal == "frames":
        return list(indices)
    return sorted({*indices, *(i - 1 for i in indices if i)})


def window_input(frames: Mapping[int, np.ndarray], indices: Sequence[int],
                 signal: str) -> np.ndarray:
    """A window ``(C, T, H, W)`` of what the model reads, from its preprocessed frames.

    ``frames`` holds the :func:`frames_needed` of the window (random access: the same
    values as :func:`model_inputs` gives for those frames of the stream).
    """
    window = np.stack([frames[i] for i in indices])
    if signal == "frames":
        return window[None]
    changes = np.stack([frames[i] - frames[i - 1] if i else np.zeros_like(frames[i])
                        for i in indices])
    return changes[None] if signal == "difference" else np.stack([window, changes])
