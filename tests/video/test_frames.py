"""Clip discovery on disk (frame folders, UCSD and video-file layouts), labels attached to
clips, and video files read at any position."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.video import (
    SyntheticVideos,
    VideoClip,
    discover_clips,
    frame_folder_clips,
    video_file_clips,
    with_labels,
)

PED2_TRAIN_FRAMES = [120, 150, 150, 180, 180, 150, 150, 120, 180, 180, 180, 180, 180, 150, 150, 150]


def _write_gray(path: Path, value: int, shape: tuple[int, int] = (4, 6)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, value, dtype=np.uint8)).save(path)


@pytest.mark.real_data
def test_ped2_clips_and_frame_counts(ped2_root: Path) -> None:
    train = discover_clips(ped2_root, "training")
    test = discover_clips(ped2_root, "testing")
    assert [c.name for c in train] == [f"{k:02d}" for k in range(1, 17)]
    assert [c.n_frames for c in train] == PED2_TRAIN_FRAMES
    assert train[0].n_frames == 120
    assert (test[0].n_frames, test[1].n_frames) == (180, 180)
    assert sum(c.n_frames for c in train) == 2550
    assert sum(c.n_frames for c in test) == 2010
    assert train[0].source[0].name == "000.jpg" and train[0].source[-1].name == "119.jpg"
    assert all(c.labels is None for c in train)


def test_frames_and_clips_sort_numerically(tmp_path: Path) -> None:
    for clip in ("2", "10"):
        for t in (10, 2, 1):
            _write_gray(tmp_path / clip / f"{t}.png", t)
    clips = frame_folder_clips(tmp_path)
    assert [c.name for c in clips] == ["2", "10"]
    assert [p.name for p in clips[0].source] == ["1.png", "2.png", "10.png"]
    assert [int(np.asarray(im)[0, 0]) for im in clips[1].read([0, 2])] == [1, 10]
    with pytest.raises(IndexError, match=r"clip '2' has frames 0..2, got 1..3"):
        clips[0].read([1, 3])


def test_original_ucsd_layout_skips_mask_folders(tmp_path: Path) -> None:
    for t in range(3):
        _write_gray(tmp_path / "Train" / "Train001" / f"{t + 1:03d}.tif", t)
        _write_gray(tmp_path / "Test" / "Test001" / f"{t + 1:03d}.tif", t)
        _write_gray(tmp_path / "Test" / "Test001_gt" / f"{t + 1:03d}.bmp", 255)
    assert [c.name for c in discover_clips(tmp_path, "training")] == ["Train001"]
    test = discover_clips(tmp_path, "testing")
    assert [(c.name, c.n_frames) for c in test] == [("Test001", 3)]


def test_discover_clips_reports_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no training clips under .*training/frames"):
        discover_clips(tmp_path, "training")
    with pytest.raises(ValueError, match=r"split: got 'train'; expected one of"):
        discover_clips(tmp_path, "train")


def test_synthetic_layout_round_trips_with_npy_labels(
    synthetic: SyntheticVideos, synthetic_root: Path
) -> None:
    mask_dir = synthetic_root / "testing" / "test_frame_mask"
    test = discover_clips(synthetic_root, "testing", labels=mask_dir)
    assert [c.name for c in test] == ["01", "02", "03"]
    for clip, video, labels in zip(test, synthetic.test, synthetic.test_labels, strict=True):
        np.testing.assert_array_equal(clip.labels, labels)
        np.testing.assert_array_equal(np.asarray(clip.read([5])[0]), video[5])


def test_labels_must_match_the_clips(synthetic_root: Path) -> None:
    clips = discover_clips(synthetic_root, "training")
    with pytest.raises(ValueError, match=r"labels: clip '01' has 40 frames but labels of shape"):
        with_labels(clips, [np.zeros(39, bool), np.zeros(40, bool)])
    with pytest.raises(ValueError, match=r"no frame labels for clips \['02'\]"):
        with_labels(clips, {"01": np.zeros(40, bool)})
    with pytest.raises(ValueError, match="1 label arrays for 2 clips"):
        with_labels(clips, [np.zeros(40, bool)])


def _write_video(path: Path, n_frames: int, codec: str, options: dict[str, str]) -> np.ndarray:
    """Write frames whose brightness encodes their index (frame t has value 5 * t + 20)."""
    av = pytest.importorskip("av")
    frames = np.zeros((n_frames, 32, 48), dtype=np.uint8)
    for t in range(n_frames):
        frames[t] = 5 * t + 20
        frames[t, 8:16, t : t + 8] = 250
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.bit_rate = 20_000_000  # near-lossless, so frames stay recognisable
        stream.codec_context.gop_size = 8  # several keyframes, so reads must seek
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="gray")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return frames


@pytest.mark.parametrize(
    ("layout", "file_name", "codec", "options"),
    [
        ("training/videos", "01_001.avi", "mpeg4", {}),  # ShanghaiTech
        ("testing_videos", "01.mp4", "libx264", {"qp": "0"}),  # Avenue-like
    ],
)
def test_pyav_video_files_are_counted_and_read_at_any_position(
    tmp_path: Path, layout: str, file_name: str, codec: str, options: dict[str, str]
) -> None:
    frames = _write_video(tmp_path / layout / file_name, 30, codec, options)
    split = "training" if layout.startswith("training") else "testing"
    clips = discover_clips(tmp_path, split)
    assert len(clips) == 1 and clips[0].n_frames == 30 and clips[0].is_video_file
    assert clips[0].name == Path(file_name).stem
    for indices in ([0, 1, 2], [17, 18, 19, 20], [21, 23, 25, 29]):
        decoded = np.stack([np.asarray(im, dtype=float) for im in clips[0].read(indices)])
        # Lossy colour-range conversion moves values by a few levels; frames are 5 apart.
        error = np.abs(decoded[:, None] - frames[None].astype(float)).mean(axis=(2, 3))
        assert error.argmin(axis=1).tolist() == indices
        assert error.min(axis=1).max() < 5
    assert video_file_clips(tmp_path / layout)[0].n_frames == 30


def test_video_clip_is_a_plain_record() -> None:
    clip = VideoClip("a", (Path("0.png"),), 1, np.array([True]))
    assert clip.labels is not None and clip.n_frames == 1 and not clip.is_video_file


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"RIFF....AVI LIST" * 8])
def test_corrupt_video_files_fail_clearly(tmp_path: Path, content: bytes) -> None:
    pytest.importorskip("av")
    from memae.video.frames import VideoClip, count_video_frames

    path = tmp_path / "broken.avi"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        count_video_frames(path)
    with pytest.raises(ValueError):
        VideoClip("broken", path, 4).read([0, 1])
