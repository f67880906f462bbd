from __future__ import annotations

import numpy as np

import memae
from memae import MemAEDetector
from memae.loading import read_metadata


def test_every_file_records_its_kind_and_memae_load_returns_that_class(fitted, tmp_path
                                                                      ) -> None:
    detector, path = fitted
    assert read_metadata(path)["kind"] == "detector"
    loaded = memae.load(path)
    assert type(loaded) is MemAEDetector
    X = np.random.default_rng(1).normal(size=(10, 6))
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))
