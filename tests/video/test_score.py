"""Frame scores from clips: the window-to-frame mapping, both modes, streaming, smoothing;
clip scores (the gong2019 protocol): which frame each window scores, and how."""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from memae.models import AutoEncoderOutput
from memae.video import ClipDataset, clip_starts, discover_clips, iter_frames
from memae.video.config import VideoConfig
from memae.video.detector import preset_config
from memae.video.score import ScoreReference, score_clips, score_frames, smooth_map


def raw_config(**fields: Any) -> VideoConfig:
    """The ped2-cpu preset scoring like the paper (no temporal smoothing)."""
    return preset_config("ped2-cpu").replace(**{"temporal_smoothing": 1, **fields})


class WindowMeanModel(nn.Module):
    """Reconstructs every frame of a window as ``x - mean(window)``: the squared error of
    each of its frames is the square of the window's mean, known in closed form."""

    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(x - x.mean(dim=(1, 2, 3, 4), keepdim=True), None)


def constant_frames(values: np.ndarray, size: tuple[int, int] = (4, 6)) -> list[np.ndarray]:
    return [np.full(size, v, dtype=np.float32) for v in values]


def expected_scores(values: np.ndarray, length: int, stride: int) -> np.ndarray:
    """Mean over the windows containing each frame of (window mean)^2."""
    sums, counts = np.zeros(len(values)), np.zeros(len(values))
    for start in clip_starts(len(values), length, stride):
        sums[start:start + length] += values[start:start + length].mean() ** 2
        counts[start:start + length] += 1
    return sums / counts


@pytest.mark.parametrize(("n_frames", "stride", "batch_size"),
                         [(23, 1, 4), (23, 8, 2), (37, 8, 16), (8, 3, 1)])
def test_frame_score_is_mean_over_containing_windows(
    n_frames: int, stride: int, batch_size: int
) -> None:
    values = np.random.default_rng(n_frames).uniform(-1, 1, n_frames)
    config = raw_config(size=(4, 6), clip_length=8, smoothing=1)
    results = list(score_frames(WindowMeanModel(), constant_frames(values), config,
                                stride=stride, batch_size=batch_size))
    assert [r.index for r in results] == list(range(n_frames))
    scores = np.array([r.score for r in results])
    np.testing.assert_allclose(scores, expected_scores(values, 8, stride), rtol=1e-5)


def test_first_and_last_frames_of_sliding_mode_average_fewer_windows() -> None:
    values = np.zeros(20)
    values[0] = 1.0  # only window 0 contains frame 0, and its mean is 1/8
    config = raw_config(size=(4, 6), clip_length=8, smoothing=1)
    scores = [r.score for r in score_frames(WindowMeanModel(), constant_frames(values), config)]
    assert scores[0] == pytest.approx(1 / 64)
    assert scores[7] == pytest.approx(1 / 64 / 8)  # 8 windows contain frame 7, one is nonzero
    assert scores[8] == 0.0


def test_scores_stream_with_a_bounded_lag() -> None:
    consumed = 0

    def frames() -> Iterator[np.ndarray]:
        nonlocal consumed
        for frame in constant_frames(np.linspace(-1, 1, 300)):
            consumed += 1
            yield frame

    config = raw_config(size=(4, 6), clip_length=8, smoothing=1)
    lags = [consumed - r.index for r in score_frames(WindowMeanModel(), frames(), config,
                                                     batch_size=4)]
    assert len(lags) == 300
    # A frame is finished once the batch holding the last window that contains it ran:
    # at most one span plus one batch of windows is held, whatever the video length.
    assert max(lags[:-8]) <= 8 + 4


def test_short_videos_and_unread_frames_are_refused() -> None:
    config = raw_config(size=(4, 6), clip_length=8)
    with pytest.raises(ValueError, match="the video has 5 frames, fewer than one clip of 8"):
        list(score_frames(WindowMeanModel(), constant_frames(np.zeros(5)), config))
    stepped = raw_config(size=(4, 6), clip_length=4, frame_step=2)
    with pytest.raises(ValueError, match=r"stride: frames 1\.\.1 fall between the samples"):
        list(score_frames(WindowMeanModel(), constant_frames(np.zeros(20)), stepped, stride=7))


def test_box_smoothing_averages_the_pixels_inside_the_frame() -> None:
    error = torch.zeros(9, 9)
    error[4, 4] = 9.0
    smoothed = smooth_map(error, 3)
    assert smoothed[4, 4] == pytest.approx(1.0) and smoothed[3, 5] == pytest.approx(1.0)
    assert smoothed[0, 0] == 0.0 and float(smoothed.sum()) == pytest.approx(9.0)
    # Borders average only the pixels inside the frame.
    corner = torch.zeros(9, 9)
    corner[0, 0] = 4.0
    assert smooth_map(corner, 3)[0, 0] == pytest.approx(1.0)
    assert smooth_map(error, 1) is error


class ZeroModel(nn.Module):
    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(torch.zeros_like(x), None)


def test_a_local_anomaly_scores_its_mean_error_and_its_map_is_box_smoothed() -> None:
    frames = constant_frames(np.zeros(12), size=(10, 10))
    frames[5][2:5, 6:9] = 1.0  # a 3 x 3 patch of squared error 1 in frame 5
    config = raw_config(size=(10, 10), clip_length=4, smoothing=3)
    results = list(score_frames(ZeroModel(), frames, config, keep_maps=True))
    scores = [r.score for r in results]
    assert scores[5] == pytest.approx(9 / 100) and max(scores[:5] + scores[6:]) == 0.0
    result = results[5]
    assert result.map.shape == (10, 10) and result.map[3, 7] == pytest.approx(1.0)
    assert float(result.map.max()) == pytest.approx(1.0)
    assert all(r.map is None for r in score_frames(ZeroModel(), frames, config))


@pytest.mark.parametrize(("n_frames", "length", "step", "batch_size"),
                         [(20, 16, 1, 16), (20, 16, 1, 3), (40, 8, 2, 4), (9, 9, 1, 1)])
def test_clip_score_is_the_windows_mean_absolute_error_at_its_middle_frame(
        n_frames: int, length: int, step: int, batch_size: int) -> None:
    values = np.random.default_rng(n_frames).uniform(-1, 1, n_frames)
    config = raw_config(size=(4, 6), clip_length=length, frame_step=step)
    results = list(score_clips(ZeroModel(), constant_frames(values), config,
                               batch_size=batch_size))
    span = (length - 1) * step + 1
    starts = range(n_frames - span + 1)  # every stride-1 window, nothing end-aligned
    # The window starting at s scores its sampled frame length // 2 (the 9th of 16).
    assert [r.index for r in results] == [s + length // 2 * step for s in starts]
    expected = [np.abs(values[s:s + span:step]).mean() for s in starts]
    np.testing.assert_allclose([r.score for r in results], expected, rtol=1e-6)
    if (n_frames, length) == (20, 16):  # Ped2's clips: frames 8 .. n - 8, i.e. gt[8:-7]
        assert [r.index for r in results] == list(range(20))[8:-7]


def test_clip_score_takes_the_root_of_the_channel_sum_per_pixel() -> None:
    config = raw_config(size=(2, 2), clip_length=4, input_signal="frames_and_difference")
    frames = [np.stack([np.full((2, 2), 3.0), np.full((2, 2), 4.0)]).astype(np.float32)] * 6
    frames[3] = frames[3].copy()
    frames[3][:, 0, 0] = 0.0  # one pixel of one frame with no error
    results = list(score_clips(ZeroModel(), frames, config, keep_maps=True))
    assert [r.index for r in results] == [2, 3, 4]
    # sqrt(3^2 + 4^2) = 5 per pixel; windows 0..2 hold frame 3: one pixel of 16 is 0.
    np.testing.assert_allclose([r.score for r in results], [5 * 15 / 16] * 3, rtol=1e-6)
    middle_map = results[1].map  # window 1 (frames 1..4) scores frame 3: the map of frame 3
    assert middle_map.shape == (2, 2) and middle_map[0, 0] == 0.0 and middle_map[1, 1] == 5.0
    assert all(r.map is None for r in score_clips(ZeroModel(), frames, config))


@pytest.mark.real_data
def test_streamed_ped2_frames_equal_training_frames(ped2_root: Path) -> None:
    # Scoring must preprocess frames exactly as training did (including the reduced JPEG
    # decode), or every test frame would carry a small, systematic shift.
    clip = discover_clips(ped2_root, "testing")[0]
    size = preset_config("ped2-cpu").size
    streamed = np.stack(list(itertools.islice(iter_frames(clip, size), 16)))
    window = ClipDataset([clip], length=16, size=size, cache_frames=0)[0].frames[0].numpy()
    np.testing.assert_array_equal(streamed, window)


class DistanceModel(WindowMeanModel):
    """:class:`WindowMeanModel` with a memory whose codes lie ``(window mean + 1)^2`` from
    their read-outs at each of two latent positions."""

    def forward_with_distance(self, x: torch.Tensor
                              ) -> tuple[AutoEncoderOutput, torch.Tensor]:
        distance = (x.mean(dim=(1, 2, 3, 4)) + 1) ** 2
        return self(x), distance[:, None].expand(-1, 2)


@pytest.mark.parametrize("stride", [1, 3])
def test_reconstruction_plus_memory_sums_standardised_error_and_window_distance(
    stride: int,
) -> None:
    values = np.random.default_rng(stride).uniform(-1, 1, 21)
    config = raw_config(size=(4, 6), clip_length=8, smoothing=1)
    reference = ScoreReference(error=(0.1, 0.5), root_error=(0.2, 0.25), memory=(1.0, 2.0))
    results = list(score_frames(DistanceModel(), constant_frames(values), config,
                                stride=stride, batch_size=4, reference=reference))
    sums, counts = np.zeros(21), np.zeros(21)
    for start in clip_starts(21, 8, stride):
        sums[start:start + 8] += ((values[start:start + 8].mean() + 1) ** 2 - 1.0) / 2.0
        counts[start:start + 8] += 1
    expected = (expected_scores(values, 8, stride) - 0.1) / 0.5 + sums / counts
    np.testing.assert_allclose([r.score for r in results], expected, rtol=1e-5)
    # Clip scores: the window's standardised root error plus its standardised distance.
    clips = list(score_clips(DistanceModel(), constant_frames(values), config,
                             reference=reference))
    means = np.array([values[s:s + 8].mean() for s in range(14)])
    np.testing.assert_allclose([r.score for r in clips],
                               (np.abs(means) - 0.2) / 0.25 + ((means + 1) ** 2 - 1.0) / 2.0,
                               rtol=1e-5, atol=1e-6)


def test_reconstruction_plus_memory_needs_a_memory() -> None:
    class NoMemory(WindowMeanModel):
        def forward_with_distance(self, x: torch.Tensor) -> tuple[AutoEncoderOutput, None]:
            return self(x), None

    reference = ScoreReference((0.0, 1.0), (0.0, 1.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="frame_score.*memory=False"):
        list(score_frames(NoMemory(), constant_frames(np.zeros(10)),
                          raw_config(size=(4, 6), clip_length=8), reference=reference))
