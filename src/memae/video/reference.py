"""Per-location normal error levels, to compare each pixel's error with its own normal.

A fixed camera sees some places (the near edge of a walkway, the borders where people
enter) reconstructed worse than others even in normal footage. An :class:`ErrorReference`
holds, per pixel, the mean and standard deviation of the smoothed error maps of normal
(training) frames; :func:`normalize_map` turns a frame's smoothed error map into

- ``"ratio"``: ``map / (mean + floor)``, the error in units of the normal error there;
- ``"zscore"``: ``(map - mean) / (std + floor)``, the error in normal standard deviations.

``floor`` is a tenth of the spatial average of the divisor, so the quietest pixels (static
background, where the normal error is nearly zero) cannot dominate the frame score.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from memae.models.autoencoder import MemAutoEncoder
from memae.video.config import ScoreNormalization, VideoConfig
from memae.video.frames import VideoClip
from memae.video.signal import model_inputs

FLOOR_FRACTION = 0.1


@dataclass(frozen=True)
class ErrorReference:
    """Per-pixel statistics of smoothed error maps on normal frames.

    Attributes
    ----------
    mean, std : numpy.ndarray
        float32 ``(H, W)`` at the model's input size.
    n_frames : int
        Frames the statistics were computed from.
    """

    mean: np.ndarray
    std: np.ndarray
    n_frames: int

    def __post_init__(self) -> None:
        for name in ("mean", "std"):
            value = np.ascontiguousarray(getattr(self, name), dtype=np.float32)
            object.__setattr__(self, name, value)
            if value.ndim != 2 or not np.isfinite(value).all() or (value < 0).any():
                raise ValueError(f"{name}: expected a finite, non-negative (H, W) map")
        if self.mean.shape != self.std.shape:
            raise ValueError(f"mean, std: shapes {self.mean.shape} and {self.std.shape} differ")
        if self.n_frames < 1:
            raise ValueError(f"n_frames: got {self.n_frames}; expected >= 1")

    @functools.cached_property
    def floored(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``mean`` and ``std`` plus their floors, as tensors (the divisors of ``ratio``
        and ``zscore``), computed once per reference rather than once per scored frame."""
        mean, std = torch.from_numpy(self.mean), torch.from_numpy(self.std)
        return (mean + FLOOR_FRACTION * float(mean.mean()),
                std + FLOOR_FRACTION * float(std.mean()))


def normalize_map(smoothed: torch.Tensor, reference: ErrorReference,
                  kind: ScoreNormalization) -> torch.Tensor:
    """A smoothed ``(..., H, W)`` error map relative to ``reference`` (see module doc)."""
    if kind == "none":
        return smoothed
    if smoothed.shape[-2:] != reference.mean.shape:
        raise ValueError(f"map: size {tuple(smoothed.shape[-2:])} but the error reference is "
                         f"{reference.mean.shape}; it was fitted for another input size")
    if kind == "ratio":
        mean_floored, _ = reference.floored
        return smoothed / mean_floored
    if kind == "zscore":
        _, std_floored = reference.floored
        return (smoothed - torch.from_numpy(reference.mean)) / std_floored
    raise ValueError(f"kind: got {kind!r}; expected 'none', 'ratio' or 'zscore'")


def fit_error_reference(
    model: MemAutoEncoder,
    clips: Sequence[VideoClip],
    config: VideoConfig,
    stride: int | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 16,
) -> ErrorReference:
    """Per-pixel mean and standard deviation of the smoothed error maps of ``clips``.

    Frames are scored as :func:`memae.video.score.score_frames` scores them (``stride``:
    ``config.score_stride`` when omitted), with ``config.smoothing``, before any
    normalisation. ``clips`` should be normal footage, e.g. the training clips.
    """
    from memae.video.decode import iter_frames
    from memae.video.score import score_frames  # score imports this module

    if not clips:
        raise ValueError("clips: no clips to fit an error reference on")
    raw = dataclasses.replace(config, score_normalization="none")
    total = squares = None
    count = 0
    for clip in clips:
        inputs = model_inputs(iter_frames(clip, config.size), config.input_signal)
        for item in score_frames(model, inputs, raw, stride=stride,
                                 batch_size=batch_size, device=device, keep_maps=True):
            error = item.map.astype(np.float64)
            total = error if total is None else total + error
            squares = error**2 if squares is None else squares + error**2
            count += 1
    mean = total / count
    variance = np.maximum(squares / count - mean**2, 0.0)
    return ErrorReference(mean.astype(np.float32), np.sqrt(variance).astype(np.float32), count)
