"""``memae score-video``: frame folders, mp4 files and run directories; CSV rows, overlays;
failures that keep the previous outputs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from memae.cli import main
from memae.run_dir import RunDir
from memae.video import discover_clips, make_synthetic_videos
from memae.video.decode import iter_frames, open_clip
from memae.video.detector import VideoDetector
from memae.video.score import score_frames
from memae.video.signal import model_inputs
from memae.video.temporal import moving_average
from tests.cli.conftest import one_line_error
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


def test_score_video_on_cuda_without_cuda_is_one_line(tmp_path: Path, capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["score-video", str(tmp_path), "--model", str(tmp_path / "m.safetensors"),
                 "--out", str(tmp_path / "s.csv"), "--device", "cuda"]) == 2
    assert "--device" in one_line_error(capsys)


@pytest.fixture(scope="module")
def video(setup: tuple[Path, Path]) -> tuple[Path, Path]:
    """``(model file, the folder of its test clip's frames)``."""
    model, root = setup
    return model, root / "testing" / "frames" / "01"


@pytest.mark.parametrize("damage", ["corrupt frame", "one frame", "bad overlay"])
def test_a_failed_score_video_keeps_the_previous_outputs(video: tuple[Path, Path],
                                                         tmp_path: Path, capsys,
                                                         damage: str) -> None:
    model, frames = video
    folder = tmp_path / "frames"
    shutil.copytree(frames, folder)
    names = sorted(p.name for p in folder.iterdir())
    overlay = tmp_path / "overlay.mp4"
    if damage == "corrupt frame":
        (folder / names[len(names) // 2]).write_bytes(b"\x89PNG\r\n\x1a\n broken")
    elif damage == "one frame":
        for name in names[1:]:
            (folder / name).unlink()
    else:
        overlay.mkdir()
    out = tmp_path / "scores.csv"
    out.write_text("previous")
    args = ["score-video", str(folder), "--model", str(model), "--out", str(out)]
    assert main(args + ["--overlay", str(overlay)]) == 2
    err = one_line_error(capsys)
    assert {"corrupt frame": "is not a readable image", "one frame": "at least 8 frames",
            "bad overlay": "--overlay"}[damage] in err
    assert out.read_text() == "previous"
    assert overlay.is_dir() if damage == "bad overlay" else not overlay.exists()
    leftovers = {p.name for p in tmp_path.iterdir()} - {"frames", "scores.csv", "overlay.mp4"}
    assert not leftovers


def test_score_video_refuses_a_batch_that_cannot_fit(video: tuple[Path, Path], tmp_path: Path,
                                                     capsys) -> None:
    model, frames = video
    out = tmp_path / "scores.csv"
    assert main(["score-video", str(frames), "--model", str(model), "--out", str(out),
                 "--batch-size", str(10**12)]) == 2
    assert "use a smaller --batch-size" in one_line_error(capsys)
    assert not out.exists()


def test_score_video_reads_the_run_directory(video_run: Path, video_root: Path,
                                             tmp_path: Path) -> None:
    clip = discover_clips(video_root, "testing")[0]
    out = tmp_path / "scores.csv"
    assert main(["-q", "score-video", str(Path(clip.source[0]).parent), "--model",
                 str(video_run), "--out", str(out)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    expected = VideoDetector.load(video_run / RunDir.MODEL).decision_function(clip)
    assert len(rows) == clip.n_frames == 24
    np.testing.assert_allclose([float(r["score"]) for r in rows], expected, rtol=1e-5)


def test_frame_score_option_rescores_with_the_memory(setup: tuple[Path, Path],
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    model_path, root = setup
    folder = root / "testing" / "frames" / "01"
    out = tmp_path / "memory.csv"
    assert main(["score-video", str(folder), "--model", str(model_path), "--out", str(out),
                 "--frame-score", "reconstruction+memory"]) == 0
    loaded = VideoDetector.load(model_path)
    loaded.config = loaded.config.replace(frame_score="reconstruction+memory")
    expected = loaded.decision_function(str(folder))
    np.testing.assert_allclose([float(r[1]) for r in read_csv(out)[1:]], expected, rtol=1e-5)
    ae_path, _ = tiny_video_model(tmp_path / "ae", size=(32, 32), n_frames=30, seed=5,
                                  file_name="ae.safetensors", memory=False)
    assert main(["score-video", str(folder), "--model", str(ae_path), "--out",
                 str(tmp_path / "ae.csv"), "--frame-score", "reconstruction+memory"]) == 2
    error = capsys.readouterr().err
    assert "--frame-score reconstruction+memory" in error and "memory=False" in error
    assert not (tmp_path / "ae.csv").exists()
