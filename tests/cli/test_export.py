"""``memae export``: the ONNX graph of a run's model, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from memae import VideoDetector
from memae.cli import main
from memae.export import scoring_graph
from memae.run_dir import RunDir
from tests.test_export import PARITY, onnx_scores


def test_export_reads_a_video_run(video_run: Path, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    onnx_file = tmp_path / "video.onnx"
    assert main(["-q", "export", str(video_run), "--out", str(onnx_file),
                 "--exporter", "legacy"]) == 0
    detector = VideoDetector.load(video_run / RunDir.MODEL)
    windows = np.random.default_rng(0).uniform(-1, 1, (3, 1, 8, 32, 32)).astype(np.float32)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (frame_errors,) = session.run(None, {"input": windows})
    with torch.no_grad():
        x = torch.from_numpy(windows)
        expected = ((detector.model_(x).reconstruction - x) ** 2).sum(1).mean((2, 3))
    assert frame_errors.shape == (3, 8)
    np.testing.assert_allclose(frame_errors, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_cli_export_checks_parity(shifted_detector, tmp_path: Path, capsys) -> None:
    detector, X = shifted_detector
    detector.save(tmp_path / "model.safetensors")
    assert main(["export", str(tmp_path / "model.safetensors"), "--exporter", "legacy"]) == 0
    assert "max |score difference| vs PyTorch" in capsys.readouterr().out
    scores, _, _ = onnx_scores(tmp_path / "model.onnx", X)
    assert np.abs(scores - detector.decision_function(X)).max() <= PARITY


def test_export_refuses_a_video_score_the_graph_does_not_compute(video_run: Path,
                                                                 tmp_path: Path) -> None:
    detector = VideoDetector.load(video_run / RunDir.MODEL)
    detector.config = detector.config.replace(frame_score="reconstruction+memory")
    with pytest.raises(ValueError, match="frame_score='reconstruction\\+memory'.*replace"):
        scoring_graph(detector)
