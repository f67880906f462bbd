"""ONNX export: scores within 1e-4 of PyTorch for any batch size, with onnxruntime alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memae import MemAEDetector
from memae.cli import main
from memae.export import export_onnx
from tests.conftest import FAST

ort = pytest.importorskip("onnxruntime", reason="pip install 'memae[onnx]'")
pytest.importorskip("onnx", reason="pip install 'memae[onnx]'")

PARITY = 1e-4


@pytest.fixture(scope="module")
def images() -> tuple[MemAEDetector, np.ndarray]:
    X = np.random.default_rng(0).random((40, 3, 12, 10)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 2}, model="conv2d", memory_size=10,
                             model_params={"channels": (4, 8), "kernel_sizes": (3, 3),
                                           "strides": (2, 2), "decoder_kernel_sizes": (3, 3)})
    return detector.fit(X), X


def onnx_scores(path: Path, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The documented way to score with onnxruntime alone (docs/export.md)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    threshold = float(session.get_modelmeta().custom_metadata_map["memae.threshold"])
    (scores,) = session.run(["score"], {"input": X.astype(np.float32)})
    return scores, (scores > threshold).astype(int), threshold


def test_tabular_parity_for_any_batch_size(shifted_detector, tmp_path: Path) -> None:
    # The legacy exporter here, the default (dynamo) one in the image test: both covered.
    detector, X = shifted_detector
    path = export_onnx(detector, tmp_path / "m.onnx", exporter="legacy")
    for batch in (1, 7, len(X)):
        scores, labels, threshold = onnx_scores(path, X[:batch])
        reference = detector.decision_function(X[:batch])
        assert scores.shape == (batch,)
        assert np.abs(scores - reference).max() <= PARITY
        assert threshold == detector.threshold_
        np.testing.assert_array_equal(labels[reference != threshold],
                                      detector.predict(X[:batch])[reference != threshold])


def test_image_parity_with_reconstruction(images, tmp_path: Path) -> None:
    detector, X = images
    path = export_onnx(detector, tmp_path / "img.onnx", with_reconstruction=True,
                       input_spec={"kind": "images", "color": "rgb"})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["score", "reconstruction"]
    scores, reconstruction = session.run(None, {"input": X[:5]})
    assert np.abs(scores - detector.decision_function(X[:5])).max() <= PARITY
    assert np.abs(reconstruction - detector.reconstruct(X[:5])).max() <= PARITY
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["memae.input_shape"]) == [3, 12, 10]
    assert json.loads(meta["memae.input_spec"])["color"] == "rgb"


def test_export_refuses_an_unfitted_detector(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        export_onnx(MemAEDetector(), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="exporter must be one of"):
        export_onnx(MemAEDetector(**FAST).fit(np.zeros((4, 2))), tmp_path / "x.onnx",
                    exporter="tf")


def test_ensemble_exports_its_standardised_mean_score(shifted_detector, tmp_path: Path,
                                                      capsys) -> None:
    from memae import MemAEEnsemble

    detector, X = shifted_detector
    train = X[:40] * 0.5  # any training rows: the point is parity, not quality
    member = MemAEDetector(**{**FAST, "epochs": 3}, memory_size=12)
    ensemble = MemAEEnsemble(member, n_estimators=3, max_samples=30, random_state=0).fit(train)
    path = export_onnx(ensemble, tmp_path / "ensemble.onnx", exporter="legacy")
    for batch in (1, len(X)):
        scores, _, threshold = onnx_scores(path, X[:batch])
        assert np.abs(scores - ensemble.decision_function(X[:batch])).max() <= PARITY
    assert threshold == ensemble.threshold_
    meta = ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map
    assert meta["memae.model"] == "ensemble of 3 x mlp"
    with pytest.raises(ValueError, match="exports scores only"):
        export_onnx(ensemble, tmp_path / "r.onnx", with_reconstruction=True)
    ensemble.save(tmp_path / "ensemble.safetensors")
    out = tmp_path / "cli.onnx"
    assert main(["export", str(tmp_path / "ensemble.safetensors"), "--out", str(out),
                 "--exporter", "legacy"]) == 0
    assert "max |score difference| vs PyTorch" in capsys.readouterr().out
