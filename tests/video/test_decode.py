"""Sequential frame reading: frame folders in natural order, video files front to back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.video.decode import iter_frames, iter_images, open_clip
from memae.video.transforms import load_frame
from tests.video.test_frames import _write_video


def test_a_frame_folder_opens_in_natural_order_and_decodes_like_load_frame(
        tmp_path: Path) -> None:
    folder = tmp_path / "clip7"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("10.png", "2.png", "1.jpg"):
        Image.fromarray(rng.integers(0, 256, (12, 16), dtype=np.uint8)).save(folder / name)
    (folder / "notes.txt").write_text("not a frame")
    clip = open_clip(folder)
    assert (clip.name, clip.n_frames) == ("clip7", 3)
    assert [p.name for p in clip.source] == ["1.jpg", "2.png", "10.png"]
    frames = list(iter_frames(clip, (6, 8)))
    assert [f.shape for f in frames] == [(6, 8)] * 3 and frames[0].dtype == np.float32
    for frame, path in zip(frames, clip.source, strict=True):
        np.testing.assert_array_equal(frame, load_frame(path, size=(6, 8)))
    assert [im.size for im in iter_images(clip)] == [(16, 12)] * 3


def test_a_video_file_decodes_every_frame_in_order(tmp_path: Path) -> None:
    pytest.importorskip("av")
    written = _write_video(tmp_path / "walk.mp4", 12, "libx264", {"qp": "0"})
    clip = open_clip(tmp_path / "walk.mp4")
    assert (clip.name, clip.n_frames, clip.is_video_file) == ("walk", 12, True)
    decoded = np.stack([np.asarray(im, dtype=float) for im in iter_images(clip)])
    # Frame t has brightness 5 t + 20; decoding moves values by a few levels at most.
    error = np.abs(decoded[:, None] - written[None].astype(float)).mean(axis=(2, 3))
    assert error.argmin(axis=1).tolist() == list(range(12))
    frames = list(iter_frames(clip, None))
    assert len(frames) == 12 and frames[0].shape == (32, 48)
    assert -1.0 <= min(f.min() for f in frames) and max(f.max() for f in frames) <= 1.0


def test_paths_that_are_not_clips_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; pass a video or a folder"):
        open_clip(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no frame images"):
        open_clip(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="has suffix '.txt'; expected a video file"):
        open_clip(tmp_path / "notes.txt")
