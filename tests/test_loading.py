"""memae.load: any model file as the class of its kind; read_metadata without building it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import memae
from memae import MemAEDetector, MemAEEnsemble, VideoDetector
from memae.loading import read_metadata
from tests.conftest import FAST

LEGACY = Path(__file__).parent / "legacy_files"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemAEDetector, Path]:
    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 2}).fit(X)
    return detector, detector.save(tmp_path_factory.mktemp("model") / "model.safetensors")


def test_every_file_records_its_kind_and_memae_load_returns_that_class(fitted, tmp_path
                                                                      ) -> None:
    detector, path = fitted
    assert read_metadata(path)["kind"] == "detector"
    loaded = memae.load(path)
    assert type(loaded) is MemAEDetector
    X = np.random.default_rng(1).normal(size=(10, 6))
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))


@pytest.mark.parametrize(("name", "kind", "cls"), [
    ("detector-0.1.0.safetensors", "detector", MemAEDetector),
    ("ensemble-0.1.0.safetensors", "ensemble", MemAEEnsemble),
    ("video-0.1.0.safetensors", "video", VideoDetector),
])
def test_read_metadata_names_the_kind_of_every_file(name: str, kind: str, cls: type) -> None:
    meta = read_metadata(LEGACY / name)
    assert meta["kind"] == kind
    assert type(memae.load(LEGACY / name)) is cls
