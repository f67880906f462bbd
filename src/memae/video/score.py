"""Per-frame anomaly scores and error maps from clips, in one streaming pass.

How clip reconstructions become frame scores (both modes, Gong et al. score frames by the
reconstruction error of the cuboids that contain them):

1. Windows of ``clip_length`` frames start every ``stride`` frames (0, stride, 2 stride,
   ...), plus one window aligned to the last frame when the regular ones stop short of it
   (:func:`memae.video.clip_starts`), so every frame is inside at least one window.
2. Each window is reconstructed once; its squared error is kept per frame and pixel,
   ``(T, H, W)``.
3. A frame's error map is the mean of its error maps over all windows that contain it.
   With the sliding mode (stride 1) an interior frame is averaged over ``clip_length``
   windows; the first frame of a video lies in one window only, frame ``k < T`` in ``k + 1``
   windows, and the last frames symmetrically. With the fast mode (stride = T) each frame
   lies in exactly one window, except the frames shared by the end-aligned window.
4. The frame score is the mean of that map: the frame's mean squared reconstruction
   error (the paper). The map box-smoothed over ``smoothing`` pixels is the pixel-level
   anomaly map. With ``frame_score="reconstruction+memory"`` the score adds the memory's
   own signal: the mean squared distance of the window's latent codes to their memory
   read-outs, averaged over the windows that contain the frame; both terms are
   standardised by their mean and spread on normal windows (:class:`ScoreReference`).
5. A config's ``temporal_smoothing`` (a moving average over frames) is not applied here
   but over whole streams (:mod:`memae.video.temporal`), by
   :meth:`memae.VideoDetector.score_stream` and ``decision_function``.

Frames are finished, and yielded, as soon as no later window can contain them, so memory
stays bounded by a window span plus a batch of windows, whatever the video length.

The authors' released test script scores windows instead of frames: one score per
stride-1 window, given to its middle frame (:func:`score_clips`; the ``gong2019``
protocol of :mod:`memae.video.evaluate`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from memae.models.autoencoder import MemAutoEncoder
from memae.models.inference import for_scoring
from memae.video.config import VideoConfig
from memae.video.signal import signal_channels


class ScoreReference(NamedTuple):
    """``(mean, standard deviation)`` on normal windows of what a combined score sums.

    ``error``: a frame's mean squared error; ``root_error``: a window's mean root error
    (the ``gong2019`` score); ``memory``: a window's mean squared latent distance to its
    memory read-outs.
    """

    error: tuple[float, float]
    root_error: tuple[float, float]
    memory: tuple[float, float]

    @staticmethod
    def standardise(value: float, moments: tuple[float, float]) -> float:
        """``(value - mean) / std``; a zero spread counts as 1."""
        return (value - moments[0]) / (moments[1] or 1.0)


class FrameScore(NamedTuple):
    """One scored frame: its 0-based index, its score and, on request, its anomaly map."""

    # The field shadows tuple.index, which mypy reports; the name is FrameScore's API.
    index: int  # type: ignore[assignment]
    score: float
    map: np.ndarray | None  # (H, W) float32 box-smoothed squared error


def smooth_map(error: torch.Tensor, window: int) -> torch.Tensor:
    """Box average over ``window x window`` pixels of an ``(..., H, W)`` map, same size."""
    if window == 1:
        return error
    lead = error.shape[:-2]
    flat = error.reshape(-1, 1, *error.shape[-2:])
    smoothed = F.avg_pool2d(flat, window, stride=1, padding=window // 2, count_include_pad=False)
    return smoothed.reshape(*lead, *error.shape[-2:])


@torch.no_grad()
def window_errors(model: MemAutoEncoder, windows: torch.Tensor) -> torch.Tensor:
    """Squared reconstruction error ``(B, T, H, W)`` of windows ``(B, C, T, H, W)``.

    The error is summed over channels.
    """
    return window_signals(model, windows)[0]


@torch.no_grad()
def window_signals(model: MemAutoEncoder, windows: torch.Tensor, with_distance: bool = False
                   ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`window_errors` and, with ``with_distance``, each window's memory distance.

    The distance ``(B,)`` is the mean over the window's latent positions of the squared
    distance of the code to its memory read-out; ``None`` without it or for a model
    without a memory.
    """
    if with_distance:
        output, distance = model.forward_with_distance(windows)
    else:
        output, distance = model(windows), None
    error = ((output.reconstruction - windows) ** 2).sum(dim=1)
    return error, None if distance is None else distance.flatten(1).mean(dim=1)


class _Accumulator:
    """Running sums of per-frame error maps, for the frames some pending window covers."""

    def __init__(self) -> None:
        self.sums: dict[int, torch.Tensor] = {}
        self.counts: dict[int, int] = {}
        self.extra: dict[int, float] = {}  # summed per-window scalars

    def add(self, indices: np.ndarray, errors: torch.Tensor, extra: float = 0.0) -> None:
        for index, error in zip(indices.tolist(), errors, strict=True):
            if index in self.sums:
                self.sums[index] += error
                self.counts[index] += 1
                self.extra[index] += extra
            else:
                self.sums[index] = error.clone()
                self.counts[index] = 1
                self.extra[index] = extra

    def pop_until(self, bound: int) -> Iterator[tuple[int, torch.Tensor, float]]:
        """Yield, in order, and forget every frame with index below ``bound``.

        Each frame's mean error map and mean per-window scalar.
        """
        for index in sorted(i for i in self.sums if i < bound):
            count = self.counts.pop(index)
            yield index, self.sums.pop(index) / count, self.extra.pop(index) / count


def iter_window_errors(
    model: MemAutoEncoder,
    frames: Iterable[np.ndarray],
    config: VideoConfig,
    stride: int,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    with_distance: bool = False,
) -> Iterator[tuple[int, torch.Tensor, float | None]]:
    """``(start, squared error (T, H, W), memory distance)`` of every window, by ``start``.

    Windows start every ``stride`` frames, plus one aligned to the last frame when the
    regular ones stop short of it; the error is summed over channels, the distance is
    that of :func:`window_signals` (``None`` unless ``with_distance``). ``frames`` and
    the model as for :func:`score_frames`.

    Raises
    ------
    ValueError
        If ``stride`` or ``batch_size`` is below 1, the items do not match the config's
        ``input_signal``, or the stream is shorter than one window span.
    """
    if stride < 1 or batch_size < 1:
        raise ValueError(f"stride, batch_size: got {stride}, {batch_size}; expected >= 1")
    model = for_scoring(model)
    span, step = config.span, config.frame_step
    buffer: deque[np.ndarray] = deque(maxlen=span)
    pending: list[tuple[int, np.ndarray]] = []  # (start, (T, H, W) frames)
    last_start = -1

    def flush() -> Iterator[tuple[int, torch.Tensor, float | None]]:
        batch = torch.from_numpy(np.stack([w for _, w in pending]))
        # (B, T, H, W) -> (B, 1, T, H, W); (B, T, C, H, W) -> (B, C, T, H, W)
        batch = (batch[:, None] if batch.ndim == 4 else batch.transpose(1, 2)).to(device)
        errors, distances = window_signals(model, batch, with_distance)
        scalars = [None] * len(pending) if distances is None else distances.tolist()
        yield from zip([start for start, _ in pending], errors.cpu(), scalars, strict=True)
        pending.clear()

    channels = signal_channels(config.input_signal)
    item_lead = (channels,) if channels > 1 else ()  # items are (H, W) or (C, H, W)
    n_frames = 0
    for n_frames, frame in enumerate(frames, start=1):
        frame = np.asarray(frame, dtype=np.float32)
        if n_frames == 1 and (frame.ndim < 2 or frame.shape[:-2] != item_lead):
            raise ValueError(
                f"frames: got items of shape {frame.shape} for input_signal="
                f"{config.input_signal!r}; pass memae.video.model_inputs(frames, "
                "config.input_signal)"
            )
        buffer.append(frame)
        start = n_frames - span
        if start >= 0 and start % stride == 0:
            pending.append((start, np.stack(list(buffer)[::step])))
            last_start = start
            if len(pending) == batch_size:
                yield from flush()
    if n_frames < span:
        raise ValueError(
            f"frames: the video has {n_frames} frames, fewer than one clip of {span} "
            f"(clip_length={config.clip_length}, frame_step={step}); pass a video or frame "
            f"folder of at least {span} frames"
        )
    if last_start != n_frames - span:  # the end-aligned window
        pending.append((n_frames - span, np.stack(list(buffer)[::step])))
    if pending:
        yield from flush()


def score_frames(
    model: MemAutoEncoder,
    frames: Iterable[np.ndarray],
    config: VideoConfig,
    stride: int | None = None,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    keep_maps: bool = False,
    reference: ScoreReference | None = None,
) -> Iterator[FrameScore]:
    """Score a stream of preprocessed frames; yields one :class:`FrameScore` per frame.

    Parameters
    ----------
    model : MemAutoEncoder
        A trained video model, scored in eval mode with its batch norms folded
        (:func:`memae.models.inference.for_scoring`); left as it is.
    frames : iterable of numpy.ndarray
        What the model reads, in temporal order and at ``config.size``: float32 ``(H, W)``
        frames in [-1, 1] (see :func:`memae.video.decode.iter_frames`), passed through
        :func:`memae.video.signal.model_inputs` for the config's ``input_signal``
        (``(2, H, W)`` items for two channels). Consumed lazily.
    config : VideoConfig
        Clip length, frame step, input signal and smoothing.
    stride : int, optional
        Frames between window starts: ``config.score_stride`` (sliding) when omitted;
        ``config.resolved_fast_stride`` gives the fast mode.
    batch_size : int, default 16
        Windows per forward pass.
    device : str or torch.device, default "cpu"
        Where the model runs.
    keep_maps : bool, default False
        Also return each frame's smoothed error map.
    reference : ScoreReference, optional
        Given, the score is the ``reconstruction+memory`` one: the frame's standardised
        mean squared error plus the standardised memory distance of the windows that
        contain it (the model needs a memory). The maps stay reconstruction errors.

    Raises
    ------
    ValueError
        If the stream is shorter than one window span, ``stride`` and
        ``config.frame_step`` leave a frame outside every window's samples.
    """
    stride = config.score_stride if stride is None else stride
    offsets = np.arange(0, config.span, config.frame_step)
    accumulator = _Accumulator()
    next_index = 0

    def finish(items: Iterable[tuple[int, torch.Tensor, float]]) -> Iterator[FrameScore]:
        nonlocal next_index
        for index, error, memory in items:
            if index != next_index:
                raise ValueError(
                    f"stride: frames {next_index}..{index - 1} fall between the samples of "
                    f"every window (frame_step={config.frame_step}, stride={stride}); lower "
                    "the stride"
                )
            next_index = index + 1
            score = float(error.mean())
            if reference is not None:
                score = ScoreReference.standardise(score, reference.error) + memory
            smoothed = smooth_map(error, config.smoothing).numpy() if keep_maps else None
            yield FrameScore(index, score, smoothed)

    n_frames = 0
    for start, error, distance in iter_window_errors(
            model, frames, config, stride, batch_size, device, reference is not None):
        memory = 0.0 if reference is None else \
            ScoreReference.standardise(_distance(distance), reference.memory)
        accumulator.add(start + offsets, error, memory)
        # Later windows start after this one: the frames before it are complete.
        yield from finish(accumulator.pop_until(start + 1))
        n_frames = start + config.span
    yield from finish(accumulator.pop_until(n_frames))
    if next_index != n_frames:
        raise ValueError(
            f"stride: frames {next_index}..{n_frames - 1} fall between the samples of every "
            f"window (frame_step={config.frame_step}, stride={stride}); lower the stride"
        )


def score_clips(
    model: MemAutoEncoder,
    frames: Iterable[np.ndarray],
    config: VideoConfig,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
    keep_maps: bool = False,
    reference: ScoreReference | None = None,
) -> Iterator[FrameScore]:
    """One score per stride-1 window, assigned to the window's middle frame.

    The score of Gong et al.'s released test script: the mean over the window's frames
    and pixels of ``sqrt(sum over channels of r^2)`` (for one channel, the mean absolute
    error), given to sampled frame ``clip_length // 2`` of the window (the 9th of 16).
    So a video of ``n`` frames gets scores for frames ``clip_length // 2 * frame_step``
    onwards, ``n - span + 1`` of them. With ``keep_maps``, each score carries that
    frame's unsmoothed ``sqrt`` error map. With ``reference``, the window's standardised
    mean root error plus its standardised memory distance. Arguments as for
    :func:`score_frames`.
    """
    middle = config.clip_length // 2
    for start, error, distance in iter_window_errors(
            model, frames, config, 1, batch_size, device, reference is not None):
        root = error.sqrt()
        score = float(root.mean())
        if reference is not None:
            score = (ScoreReference.standardise(score, reference.root_error)
                     + ScoreReference.standardise(_distance(distance), reference.memory))
        yield FrameScore(start + middle * config.frame_step, score,
                         root[middle].numpy() if keep_maps else None)


def _distance(distance: float | None) -> float:
    if distance is None:
        raise ValueError("frame_score: 'reconstruction+memory' reads the memory, but this "
                         "model has none (memory=False); score it with frame_score="
                         "'reconstruction'")
    return distance
