"""The video workflow through the front door: ``memae train --kind video``, then
``score-video``, ``report``, ``export`` and ``--resume`` on that run directory."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from memae import VideoDetector, load
from memae.cli import main
from memae.run_dir import RunDir
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint
from memae.video import discover_clips, make_synthetic_videos, write_frame_folders

# The ped2-cpu preset's net and scoring at a size that trains in about a second.
TINY = ["--kind", "video", "--set", "detector.size=[32, 32]",
        "--set", "detector.clip_length=8", "--set", "detector.smoothing=3",
        "--set", "detector.temporal_smoothing=3", "--set", "detector.input_signal=difference",
        "--set", "detector.model_params={channels: [4, 8, 8, 8], "
                 "strides: [[1, 2, 2], 2, 2, [2, 1, 1]]}",
        "--memory-size", "20", "--epochs", "2", "--batch-size", "8",
        "--learning-rate", "0.001", "--device", "cpu"]


@pytest.fixture(scope="module")
def video_root(tmp_path_factory) -> Path:
    videos = make_synthetic_videos(n_train=2, n_test=1, n_frames=24, seed=3)
    return write_frame_folders(videos, tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="module")
def video_run(video_root: Path, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run") / "run"
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run), *TINY]) == 0
    return run


def test_train_kind_video_writes_a_run_the_loader_reads(video_run: Path) -> None:
    detector = load(video_run / RunDir.MODEL)
    assert isinstance(detector, VideoDetector)
    config = yaml.safe_load((video_run / RunDir.CONFIG).read_text())
    assert config["kind"] == "video" and config["detector"]["size"] == [32, 32]
    assert detector.config.size == (32, 32) and detector.config.memory_size == 20
    assert detector.training_["n_train_clips"] == 2
    # 2 clips x (24 - 8 + 1) windows, batches of 8, 2 epochs
    assert detector.history_.steps == 2 * int(np.ceil(2 * 17 / 8))
    history = json.loads((video_run / RunDir.HISTORY).read_text())
    assert history["train_loss"] == detector.history_.train_loss
    assert load_checkpoint(video_run / RunDir.CHECKPOINTS / CHECKPOINT_NAME)[0].finished


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


def test_report_and_export_read_a_video_run(video_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert main(["-q", "report", str(video_run), "--out", str(tmp_path / "report")]) == 0
    html = (tmp_path / "report" / "report.html").read_text()
    assert "training windows" in html and "clip length" in html
    pytest.importorskip("onnxruntime")
    onnx_file = tmp_path / "video.onnx"
    assert main(["-q", "export", str(video_run), "--out", str(onnx_file),
                 "--exporter", "legacy"]) == 0
    import onnxruntime as ort

    detector = VideoDetector.load(video_run / RunDir.MODEL)
    windows = np.random.default_rng(0).uniform(-1, 1, (3, 1, 8, 32, 32)).astype(np.float32)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (frame_errors,) = session.run(None, {"input": windows})
    with torch.no_grad():
        x = torch.from_numpy(windows)
        expected = ((detector.model_(x).reconstruction - x) ** 2).sum(1).mean((2, 3))
    assert frame_errors.shape == (3, 8)
    np.testing.assert_allclose(frame_errors, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_score_refuses_a_video_model_and_says_which_command(video_run: Path, tmp_path: Path,
                                                             capsys) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    assert main(["score", str(video_run), str(table)]) == 2
    assert re.search("holds a video model.*memae score-video", capsys.readouterr().err)


def test_an_interrupted_video_run_resumes_to_the_same_weights(video_root: Path,
                                                              video_run: Path, tmp_path: Path,
                                                              monkeypatch) -> None:
    import memae.training_checkpoint as checkpoints

    run = tmp_path / "run"
    real = checkpoints.save_checkpoint

    def crash_after_epoch_one(path, state, extra=None):
        real(path, state, extra)
        raise KeyboardInterrupt

    monkeypatch.setattr("memae.training_checkpoint.save_checkpoint", crash_after_epoch_one)
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run), *TINY]) == 130
    monkeypatch.setattr("memae.training_checkpoint.save_checkpoint", real)
    assert load_checkpoint(run / RunDir.CHECKPOINTS / CHECKPOINT_NAME)[0].epoch == 1
    assert main(["-q", "train", "--resume", str(run)]) == 0
    resumed = VideoDetector.load(run / RunDir.MODEL).model_.state_dict()
    whole = VideoDetector.load(video_run / RunDir.MODEL).model_.state_dict()
    for key, value in whole.items():
        assert torch.equal(resumed[key], value), key


@pytest.mark.parametrize("extra, message", [
    (["--set", "detector.contamination=0.1"], "unknown configuration key 'detector.contamination'"),
    (["--set", "detector.size=[32]"], "size"),
    (["--set", "detector.temporal_smoothing=4"], "temporal_smoothing"),
    (["--label-col", "y"], "kind video reads clips from data.path alone"),
])
def test_bad_video_settings_fail_before_anything_is_written(video_root: Path, tmp_path: Path,
                                                            capsys, extra, message) -> None:
    run = tmp_path / "run"
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run), *TINY,
                 *extra]) == 2
    assert message in capsys.readouterr().err
    assert not run.exists()


def test_data_without_clips_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["-q", "train", "--data", str(empty), "--out", str(tmp_path / "run"),
                 *TINY]) == 2
    assert "holds no frame images, clip folders" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
