"""``memae score-video``: frame folders and mp4 files, CSV rows, overlays."""

import csv
from pathlib import Path

import numpy as np
import pytest

from memae.cli import main
from memae.video import make_synthetic_videos
from memae.video.decode import iter_frames, open_clip
from memae.video.detector import VideoDetector
from memae.video.score import score_frames
from memae.video.signal import model_inputs
from memae.video.temporal import moving_average
from tests.video.conftest import tiny_video_model

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_video_model(tmp_path_factory.mktemp("score_video"), size=(32, 32),
                            n_frames=30, seed=5, file_name="m.safetensors",
                            temporal_smoothing=9, input_signal="difference")


def read_csv(path: Path) -> list[list[str]]:
    with path.open() as handle:
        return list(csv.reader(handle))


def test_frame_folder_scores_equal_the_library_and_overlay_has_every_frame(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    model_path, root = setup
    folder = root / "testing" / "frames" / "01"
    out, overlay = tmp_path / "scores.csv", tmp_path / "overlay.mp4"
    code = main(["score-video", str(folder), "--model", str(model_path), "--out", str(out),
                 "--overlay", str(overlay)])
    assert code == 0
    rows = read_csv(out)
    assert rows[0] == ["frame", "score"] and len(rows) == 31
    loaded = VideoDetector.load(model_path)
    # The model reads frame differences and averages frame scores over 9 frames.
    assert loaded.config.temporal_smoothing == 9 and loaded.training_["map_scale"] > 0
    assert loaded.config.input_signal == "difference"
    inputs = model_inputs(iter_frames(open_clip(folder), (32, 32)), loaded.config.input_signal)
    raw = [r.score for r in score_frames(loaded.model_, inputs, loaded.config)]
    expected = moving_average(np.array(raw), loaded.config.temporal_smoothing)
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], expected, rtol=1e-5)
    with av.open(str(overlay)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 30 and frames[0].shape == (32, 32, 3)


def test_mp4_input_in_fast_mode(setup: tuple[Path, Path], tmp_path: Path) -> None:
    model_path, _ = setup
    video = make_synthetic_videos(n_train=0, n_test=1, n_frames=45, seed=9).test[0]
    mp4 = tmp_path / "clip.mp4"
    with av.open(str(mp4), mode="w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for frame in video:
            rgb = np.repeat(frame[..., None], 3, axis=2)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = tmp_path / "mp4.csv"
    assert main(["score-video", str(mp4), "--model", str(model_path), "--out", str(out),
                 "--fast"]) == 0
    rows = read_csv(out)
    assert [int(r[0]) for r in rows[1:]] == list(range(45))
    assert all(np.isfinite(float(r[1])) for r in rows[1:])


def test_user_errors_exit_2(setup: tuple[Path, Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    model_path, root = setup
    assert main(["score-video", str(tmp_path / "none"), "--model", str(model_path),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("x")
    assert main(["score-video", str(text), "--model", str(model_path),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "expected a video file" in capsys.readouterr().err
    folder = root / "testing" / "frames" / "01"
    assert main(["score-video", str(folder), "--model", str(tmp_path / "none.safetensors"),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "does not exist; give a run directory" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()
