from pathlib import Path

import numpy as np
import pytest

from memae.video import make_synthetic_videos, write_frame_folders
from memae.video.synthetic import ANOMALY, BACKGROUND, OBJECT


def test_generator_is_deterministic_from_its_seed() -> None:
    a = make_synthetic_videos(n_train=2, n_test=2, seed=3)
    b = make_synthetic_videos(n_train=2, n_test=2, seed=3)
    c = make_synthetic_videos(n_train=2, n_test=2, seed=4)
    for field in ("train", "test", "test_labels"):
        for x, y in zip(getattr(a, field), getattr(b, field), strict=True):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.train[0], c.train[0])


def test_clips_have_the_requested_shape_and_normal_content() -> None:
    videos = make_synthetic_videos(n_train=3, n_test=2, n_frames=20, size=(24, 40), seed=1)
    assert [v.shape for v in videos.train] == [(20, 24, 40)] * 3
    assert all(v.dtype == np.uint8 for v in videos.train + videos.test)
    assert set(np.unique(np.concatenate(videos.train))) == {BACKGROUND, OBJECT}
    # Objects move: consecutive frames differ.
    assert all(np.any(v[1:] != v[:-1], axis=(1, 2)).mean() > 0.9 for v in videos.train)


@pytest.mark.parametrize("kind", ["shape", "speed"])
def test_anomalies_appear_only_inside_labelled_ranges(kind: str) -> None:
    videos = make_synthetic_videos(n_test=6, anomaly=kind, seed=11)
    control = make_synthetic_videos(n_test=6, anomaly="none", seed=11)
    for video, labels, clean, clean_labels in zip(
        videos.test, videos.test_labels, control.test, control.test_labels, strict=True
    ):
        assert not clean_labels.any()
        # One contiguous event covering a quarter to a half of the 48 frames.
        event = np.flatnonzero(labels)
        assert 12 <= len(event) <= 24 and np.all(np.diff(event) == 1)
        differs = np.any(video != clean, axis=(1, 2))
        np.testing.assert_array_equal(differs, labels)
        has_disk = (video == ANOMALY).any(axis=(1, 2))
        np.testing.assert_array_equal(has_disk, labels if kind == "shape" else False)


def test_generator_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="anomaly: got 'colour'"):
        make_synthetic_videos(anomaly="colour")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"object_size: got 40 for frames of size \(32, 32\)"):
        make_synthetic_videos(object_size=40)


def test_frame_folder_layout_files(tmp_path: Path) -> None:
    videos = make_synthetic_videos(n_train=1, n_test=2, n_frames=12, seed=0)
    root = write_frame_folders(videos, tmp_path)
    assert len(list((root / "training" / "frames" / "01").glob("*.png"))) == 12
    assert sorted(p.name for p in (root / "testing" / "test_frame_mask").iterdir()) == [
        "01.npy",
        "02.npy",
    ]
    np.testing.assert_array_equal(
        np.load(root / "testing" / "test_frame_mask" / "02.npy"), videos.test_labels[1]
    )
