"""Sliding-window 16-frame cuboids over video clips, as a PyTorch dataset.

MemAE's video model (Gong et al., ICCV 2019) reconstructs cuboids of T = 16 consecutive
grayscale frames; a test frame is scored from the cuboids that contain it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from memae.pseudo_anomalies import TrainingPair
from memae.video.frames import VideoClip
from memae.video.signal import INPUT_SIGNALS, frames_needed, window_input
from memae.video.transforms import PAPER_SIZE, FrameTransform


def clip_starts(n_frames: int, length: int = 16, stride: int = 1, step: int = 1) -> np.ndarray:
    """Start frames of the windows that cover a video of ``n_frames`` frames.

    Windows start every ``stride`` frames; when the last regular window stops short of the
    end, one more window aligned to the end is added, so every frame lies inside some
    window's span as long as ``stride <= span`` (a larger stride deliberately skips frames,
    e.g. for quicker training epochs). A window spans ``span = (length - 1) * step + 1``
    frames and reads every ``step``-th one, so with ``step > 1`` the frames between its
    samples are spanned, not read.

    Parameters
    ----------
    n_frames : int
        Number of frames of the video.
    length : int, default 16
        Frames per window (T).
    stride : int, default 1
        Frames between consecutive window starts.
    step : int, default 1
        Frames between consecutive samples inside a window.

    Returns
    -------
    numpy.ndarray
        Increasing int64 start frames, 0-based.

    Raises
    ------
    ValueError
        If the video is shorter than one window span. Short videos are refused rather than
        padded: repeated frames would look like a frozen scene and bias anomaly scores.
    """
    for name, value in (("length", length), ("stride", stride), ("step", step)):
        if value < 1:
            raise ValueError(f"{name}: got {value}; expected a positive integer")
    span = (length - 1) * step + 1
    if n_frames < span:
        raise ValueError(
            f"n_frames: a video of {n_frames} frames is shorter than one window of "
            f"{span} frames (length={length}, step={step}); lower length or step, or drop it"
        )
    starts = np.arange(0, n_frames - span + 1, stride, dtype=np.int64)
    if starts[-1] != n_frames - span:
        starts = np.append(starts, n_frames - span)
    return starts


class ClipSample(NamedTuple):
    """One item of :class:`ClipDataset`; DataLoader batches each field."""

    frames: torch.Tensor  # (C, T, H, W) float32; C = 1, or 2 for frames and differences
    clip: int  # index into ClipDataset.clips
    start: int  # first frame of the window, 0-based


class ClipDataset(Dataset[ClipSample]):
    """Windows of ``length`` consecutive frames from a list of clips.

    Only the frames of the requested window are decoded, so memory stays bounded whatever
    the video length. A small per-process LRU cache of preprocessed frames lets overlapping
    windows read in order (stride < length, the evaluation setting) reuse decoded frames.
    The dataset is picklable and works with ``DataLoader(num_workers > 0)``; each worker
    keeps its own cache.

    Parameters
    ----------
    clips : sequence of VideoClip
        The clips; every clip must have at least ``(length - 1) * step + 1`` frames.
    length : int, default 16
        Frames per window (T).
    stride : int, default 1
        Frames between consecutive window starts (see :func:`clip_starts`).
    step : int, default 1
        Frames between consecutive samples of a window (temporal subsampling).
    size : (int, int) or None, default (256, 256)
        Frame ``(height, width)`` after resizing; ``None`` keeps the native size.
    cache_frames : int, default 32
        Preprocessed frames kept per process (32 frames of 256 x 256 take 8 MiB); 0 disables.
    signal : {"frames", "difference", "frames_and_difference"}, default "frames"
        What a window holds (:mod:`memae.video.signal`): the frames, each frame minus the
        one before it in the clip (zeros for the clip's first frame), or both as two
        channels, as scoring computes them from the stream.

    Attributes
    ----------
    windows : numpy.ndarray
        ``(n_windows, 2)`` int64 rows of ``(clip index, start frame)``, one per item.
    """

    def __init__(
        self,
        clips: Sequence[VideoClip],
        length: int = 16,
        stride: int = 1,
        step: int = 1,
        size: tuple[int, int] | None = PAPER_SIZE,
        cache_frames: int = 32,
        signal: str = "frames",
    ) -> None:
        if not clips:
            raise ValueError("clips: got an empty sequence; pass at least one VideoClip")
        if cache_frames < 0:
            raise ValueError(f"cache_frames: got {cache_frames}; expected 0 or more")
        if signal not in INPUT_SIGNALS:
            raise ValueError(f"signal: got {signal!r}; expected one of {INPUT_SIGNALS}")
        self.clips = list(clips)
        self.signal = signal
        self.length, self.stride, self.step = length, stride, step
        self.transform = FrameTransform(size)
        self.cache_frames = cache_frames
        rows = []
        for index, clip in enumerate(self.clips):
            try:
                starts = clip_starts(clip.n_frames, length, stride, step)
            except ValueError as error:
                raise ValueError(f"clips[{index}] ({clip.name!r}): {error}") from None
            rows.append(np.stack([np.full_like(starts, index), starts], axis=1))
        self.windows = np.concatenate(rows)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self.windows)

    def frame_indices(self, item: int) -> np.ndarray:
        """0-based frame indices, within its clip, of the frames of window ``item``."""
        start = int(self.windows[item, 1])
        return np.arange(start, start + self.length * self.step, self.step)

    def __getitem__(self, item: int) -> ClipSample:
        clip_index, start = (int(v) for v in self.windows[item])
        indices = self.frame_indices(item).tolist()
        frames = self._frames(clip_index, frames_needed(indices, self.signal))
        window = window_input(frames, indices, self.signal)  # (C, T, H, W)
        return ClipSample(torch.from_numpy(window), clip_index, start)

    def skip_frame_pair(self, item: int, skip: int) -> TrainingPair:
        """Window ``item`` sped up ``skip`` times, and the normal window it should become.

        The fast window reads every ``skip * step``-th frame of the clip from a start
        frame that is a multiple of ``skip`` (the window's own start, moved back where
        the longer span would pass the clip's end), as a video of every ``skip``-th
        frame would show it (differences over ``skip`` frames). The target is the
        window of this dataset's ``step`` from the same start frame. A clip too short
        for ``skip`` takes the largest smaller skip that fits; with none, the pair
        is the normal window twice.
        """
        clip_index, start = (int(v) for v in self.windows[item])
        n_frames = self.clips[clip_index].n_frames
        while skip > 1 and (self.length - 1) * self.step * skip + 1 > n_frames:
            skip -= 1
        span = (self.length - 1) * self.step * skip + 1
        first = min(start, n_frames - span) // skip  # in frames of the sped-up video
        fast = [first + k * self.step for k in range(self.length)]
        normal = [first * skip + k * self.step for k in range(self.length)]
        fast_needed = frames_needed(fast, self.signal)
        read = self._frames(clip_index, sorted({*(i * skip for i in fast_needed),
                                                *frames_needed(normal, self.signal)}))
        fast_frames = {i: read[i * skip] for i in fast_needed}
        return TrainingPair(torch.from_numpy(window_input(fast_frames, fast, self.signal)),
                            torch.from_numpy(window_input(read, normal, self.signal)))

    def _frames(self, clip_index: int, indices: list[int]) -> dict[int, np.ndarray]:
        """Preprocessed frames ``indices`` (increasing) of a clip, through the LRU cache."""
        missing = [i for i in indices if (clip_index, i) not in self._cache]
        decoded = dict(zip(missing, self.clips[clip_index].read(missing), strict=True))
        frames = {}
        for i in indices:
            key = (clip_index, i)
            if i in decoded:
                frame = self.transform(decoded[i])
                decoded[i].close()
            else:
                frame = self._cache.pop(key)
            frames[i] = frame
            if self.cache_frames:
                self._cache[key] = frame
        # Evict only now: evicting while reading could drop a frame this window still needs.
        while len(self._cache) > self.cache_frames:
            self._cache.popitem(last=False)
        return frames

    def __getstate__(self) -> dict[str, object]:
        # Workers start with an empty cache instead of a copy of the parent's.
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        return state
