"""Planted events: where and how each kind changes a clip, the videos of a validation
run, and their evaluation under both protocols."""

from __future__ import annotations

import numpy as np
import pytest

from memae.video import discover_clips, iter_frames
from memae.video.detector import VideoDetector
from memae.video.evaluate import frame_auc
from memae.video.planted import (
    EVENT_FRAMES,
    EVENT_KINDS,
    evaluate_planted,
    plant_event,
    planted_videos,
)
from memae.video.temporal import moving_average
from tests.video.conftest import tiny_video_model


def clips(n: int = 2, frames: int = 100, size: tuple[int, int] = (40, 60)) -> list[np.ndarray]:
    """Walkers: bright vertical bars moving right at 0.5 px per frame over noise."""
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        video = rng.uniform(-1, -0.8, (frames, *size)).astype(np.float32)
        for t in range(frames):
            left = int(5 + 0.5 * t + 7 * k) % (size[1] - 4)
            video[t, 10:20, left:left + 3] = 0.8
        out.append(video)
    return out


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_an_event_changes_only_its_labelled_frames(kind: str) -> None:
    frames, other = clips()
    planted, labels = plant_event(frames, other, kind, seed=3)
    assert labels.dtype == bool and labels.sum() == EVENT_FRAMES
    start = int(np.argmax(labels))
    assert labels[start:start + EVENT_FRAMES].all()
    changed = np.abs(planted - frames).max(axis=(1, 2)) > 0
    assert not changed[~labels].any() and changed[labels].mean() > 0.9
    again, same = plant_event(frames, other, kind, seed=3)
    np.testing.assert_array_equal(again, planted)
    np.testing.assert_array_equal(same, labels)
    assert not np.array_equal(plant_event(frames, other, kind, seed=4)[1], labels)
    assert np.array_equal(frames, clips()[0])  # the input is left as it is


def test_object_contrast_scales_the_change_and_a_band_is_a_fifth_of_the_frame() -> None:
    frames, other = clips()
    full, _ = plant_event(frames, other, "fast_object", seed=1)
    faint, _ = plant_event(frames, other, "faint_object", seed=1)
    np.testing.assert_allclose(faint - frames, 0.3 * (full - frames), atol=1e-6)
    band, labels = plant_event(frames, other, "fast_band", seed=1)
    rows = np.flatnonzero(np.abs(band - frames)[labels].max(axis=(0, 2)) > 0)
    assert rows.max() - rows.min() < 40 // 5


def test_bad_kinds_and_clips_are_named() -> None:
    frames, other = clips()
    with pytest.raises(ValueError, match="kind: got 'zoom'"):
        plant_event(frames, other, "zoom", seed=0)
    with pytest.raises(ValueError, match="too short"):
        plant_event(frames[:60], other, "slow_object", seed=0)
    with pytest.raises(ValueError, match="at least two"):
        planted_videos(clips(1))
    videos = planted_videos(clips(3), kinds=("slow_object", "fast_band"), seeds=(0, 1))
    assert len(videos) == 2 * 3 * 2 and [v[0] for v in videos[:6]] == ["slow_object"] * 6


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoDetector, list[np.ndarray]]:
    path, root = tiny_video_model(tmp_path_factory.mktemp("planted"), size=(24, 32),
                                  n_frames=90, seed=2, file_name="m.safetensors",
                                  temporal_smoothing=5)
    detector = VideoDetector.load(path)
    held = [np.stack(list(iter_frames(c, (24, 32))))
            for c in discover_clips(root, "testing")] + clips(1, 90, (24, 32))
    return detector, held


def test_planted_videos_are_scored_like_test_clips(
        model: tuple[VideoDetector, list[np.ndarray]]) -> None:
    detector, held = model
    videos = planted_videos(held, kinds=("fast_object",), seeds=(0,))
    aucs = evaluate_planted(detector, videos)
    assert set(aucs) == {"per-frame", "gong2019"} and set(aucs["gong2019"]) == {"fast_object"}
    raw = [np.array([r.score for r in detector.raw_scores(iter(v))]) for _, v, _ in videos]
    expected = frame_auc([moving_average(r, 5) for r in raw], [y for _, _, y in videos])
    assert aucs["per-frame"]["fast_object"] == pytest.approx(expected)
    clip = [list(detector.clip_scores(iter(v))) for _, v, _ in videos]
    expected = frame_auc([np.array([r.score for r in c]) for c in clip],
                         [y[[r.index for r in c]]
                          for c, (_, _, y) in zip(clip, videos, strict=True)])
    assert aucs["gong2019"]["fast_object"] == pytest.approx(expected)
    assert all(len(c) == 90 - 8 + 1 for c in clip)
