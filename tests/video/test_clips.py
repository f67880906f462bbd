import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from memae.video import (
    ClipDataset,
    SyntheticVideos,
    clip_starts,
    discover_clips,
    iter_frames,
    load_frame,
    to_signed_unit,
)


def test_clip_starts_aligns_the_last_window_to_the_end() -> None:
    np.testing.assert_array_equal(clip_starts(20, length=16), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(clip_starts(40, length=16, stride=16), [0, 16, 24])
    np.testing.assert_array_equal(clip_starts(32, length=16, stride=16), [0, 16])
    np.testing.assert_array_equal(clip_starts(16, length=16, stride=5), [0])
    # step 2: a window spans 2 * 15 + 1 = 31 frames.
    np.testing.assert_array_equal(clip_starts(40, length=16, stride=8, step=2), [0, 8, 9])


def test_clip_starts_refuses_short_videos_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="a video of 10 frames is shorter than one window of 16"):
        clip_starts(10, length=16)
    with pytest.raises(ValueError, match="stride: got 0; expected a positive integer"):
        clip_starts(10, length=4, stride=0)


@given(
    n_frames=st.integers(1, 400),
    length=st.integers(1, 32),
    stride=st.integers(1, 40),
    step=st.integers(1, 4),
)
def test_clip_starts_cover_every_frame_with_valid_windows(
    n_frames: int, length: int, stride: int, step: int
) -> None:
    span = (length - 1) * step + 1
    if n_frames < span:
        with pytest.raises(ValueError):
            clip_starts(n_frames, length, stride, step)
        return
    starts = clip_starts(n_frames, length, stride, step)
    assert starts[0] == 0 and starts[-1] == n_frames - span
    assert np.all(np.diff(starts) > 0) and np.all(np.diff(starts) <= stride)
    covered = np.zeros(n_frames, dtype=bool)
    for s in starts:
        covered[s : s + span] = True
    assert covered.all() or stride > span
    if step == 1 and stride <= length:
        read = np.zeros(n_frames, dtype=bool)
        read[(starts[:, None] + np.arange(length)).ravel()] = True
        assert read.all()


def test_items_are_the_requested_frames(synthetic: SyntheticVideos, synthetic_root: Path) -> None:
    clips = discover_clips(synthetic_root, "testing")
    dataset = ClipDataset(clips, length=8, stride=4, size=None)
    assert len(dataset) == 3 * len(clip_starts(40, 8, 4))
    for item in (0, 5, len(dataset) - 1):
        sample = dataset[item]
        video = synthetic.test[sample.clip]
        assert sample.frames.shape == (1, 8, 32, 32) and sample.frames.dtype == torch.float32
        expected = to_signed_unit(video[sample.start : sample.start + 8])
        np.testing.assert_array_equal(sample.frames[0].numpy(), expected)
    assert dataset[len(dataset) - 1].start == 40 - 8


def test_frame_step_and_cache_do_not_change_items(
    synthetic: SyntheticVideos, synthetic_root: Path
) -> None:
    clips = discover_clips(synthetic_root, "training")
    cached = ClipDataset(clips, length=4, stride=1, step=3, size=(16, 24), cache_frames=8)
    uncached = ClipDataset(clips, length=4, stride=1, step=3, size=(16, 24), cache_frames=0)
    for item in range(len(cached)):
        np.testing.assert_array_equal(cached[item].frames, uncached[item].frames)
    sample = ClipDataset(clips, length=4, step=3, size=None)[2]
    np.testing.assert_array_equal(cached.frame_indices(2), [2, 5, 8, 11])
    expected = to_signed_unit(synthetic.train[0][[2, 5, 8, 11]])
    np.testing.assert_array_equal(sample.frames[0].numpy(), expected)
    assert len(cached._cache) == 8


def test_short_clip_is_refused_by_name(synthetic_root: Path) -> None:
    clips = discover_clips(synthetic_root, "training")
    with pytest.raises(ValueError, match=r"clips\[0\] \('01'\): n_frames: a video of 40 frames"):
        ClipDataset(clips, length=41)
    with pytest.raises(ValueError, match="clips: got an empty sequence"):
        ClipDataset([])


def test_dataloader_with_workers_batches_clip_index_and_start(synthetic_root: Path) -> None:
    dataset = ClipDataset(discover_clips(synthetic_root, "testing"), length=8, stride=8, size=None)
    dataset[0]
    assert len(pickle.loads(pickle.dumps(dataset))._cache) == 0
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    batches = list(loader)
    frames = torch.cat([b.frames for b in batches])
    assert frames.shape == (len(dataset), 1, 8, 32, 32)
    clip_index = torch.cat([b.clip for b in batches])
    start = torch.cat([b.start for b in batches])
    np.testing.assert_array_equal(torch.stack([clip_index, start], 1).numpy(), dataset.windows)
    np.testing.assert_array_equal(frames[7], dataset[7].frames)


@pytest.mark.real_data
def test_ped2_item_shape_and_values(ped2_root: Path) -> None:
    clip = discover_clips(ped2_root, "testing")[1]
    dataset = ClipDataset([clip])
    assert len(dataset) == 180 - 16 + 1
    sample = dataset[100]
    assert (sample.clip, sample.start) == (0, 100)
    assert sample.frames.shape == (1, 16, 256, 256) and sample.frames.dtype == torch.float32
    assert -1.0 <= float(sample.frames.min()) < -0.5 and 0.5 < float(sample.frames.max()) <= 1.0
    np.testing.assert_array_equal(sample.frames[0, 3].numpy(), load_frame(clip.source[103]))


def test_random_access_with_a_cache_smaller_than_a_window(synthetic_root: Path) -> None:
    # Shuffled training reads windows out of order; a frame found in the cache must not be
    # evicted by the window's own newly decoded frames before it is read.
    clip = discover_clips(synthetic_root, "training")[0]
    dataset = ClipDataset([clip], length=6, size=(32, 32), cache_frames=4)
    frames = np.stack(list(iter_frames(clip, (32, 32))))
    for item in (8, 7, 2, 3, 30, 1):
        np.testing.assert_array_equal(dataset[item].frames[0].numpy(), frames[item:item + 6])
    assert len(dataset._cache) == 4


@pytest.mark.parametrize("signal", ["frames", "difference", "frames_and_difference"])
def test_skip_frame_pairs_read_a_sped_up_window_and_its_normal_target(
    synthetic: SyntheticVideos, synthetic_root: Path, signal: str
) -> None:
    clips = discover_clips(synthetic_root, "training")  # 2 clips of 40 frames
    dataset = ClipDataset(clips, length=4, stride=1, step=2, size=None, signal=signal)
    video = to_signed_unit(synthetic.train[0])
    for item, skip in ((7, 3), (0, 2), (33, 5)):  # 33: the clip's last window
        start = int(dataset.windows[item, 1])
        fast, target = dataset.skip_frame_pair(item, skip)
        first = min(start, 40 - (3 * 2 * skip + 1)) // skip * skip
        fast_frames = first + np.arange(4) * 2 * skip
        np.testing.assert_array_equal(target, dataset[int(np.flatnonzero(
            (dataset.windows[:, 0] == 0) & (dataset.windows[:, 1] == first))[0])].frames)
        changes = np.stack([video[i] - video[i - skip] if i else np.zeros_like(video[i])
                            for i in fast_frames])
        expected = {"frames": video[fast_frames][None], "difference": changes[None],
                    "frames_and_difference": np.stack([video[fast_frames], changes])}[signal]
        np.testing.assert_allclose(fast.numpy(), expected, atol=1e-6)


def test_a_clip_too_short_for_the_skip_takes_the_largest_that_fits(synthetic_root: Path) -> None:
    clips = discover_clips(synthetic_root, "training")
    dataset = ClipDataset(clips, length=8, size=None)  # 40 frames: 7 * 5 + 1 fits
    assert not torch.equal(dataset.skip_frame_pair(0, 5)[0], dataset.skip_frame_pair(0, 4)[0])
    long = ClipDataset(clips, length=14, size=None)  # 13 * 3 + 1 = 40 fits, 13 * 4 + 1 does not
    np.testing.assert_array_equal(long.skip_frame_pair(0, 5)[0], long.skip_frame_pair(0, 3)[0])
    whole = ClipDataset(clips, length=40, size=None)  # no skip fits: the normal pair
    fast, target = whole.skip_frame_pair(0, 2)
    np.testing.assert_array_equal(fast, target)
    np.testing.assert_array_equal(target, whole[0].frames)
