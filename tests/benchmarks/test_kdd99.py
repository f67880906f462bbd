"""The DAGMM/KDDCUP99 protocol on synthetic tables."""

from __future__ import annotations

import numpy as np
import pytest

from memae.benchmarks.kdd99 import evaluate_seed, summarize
from memae.presets import Preset

CONFIG = Preset(name="toy", kind="tabular", description="a small net for 6 features",
                detector={"model": "mlp", "model_params": {"hidden": (16,), "latent_dim": 2},
                          "memory_size": 10, "epochs": 30, "batch_size": 64,
                          "standardize": False, "validation_fraction": 0.0, "patience": None})


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """400 rows on a 2-D plane in 6-D (label 0) and 100 rows off it (label 1): 20%."""
    rng = np.random.default_rng(seed)
    plane = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) * 0.3
    off = rng.normal(size=(100, 6)) * 1.5
    X = np.concatenate([plane, off]).astype(np.float32)
    return X, np.repeat([0, 1], [400, 100])


def test_top_fifth_flagging_finds_separable_anomalies() -> None:
    X, y = blobs()
    row = evaluate_seed(X, y, CONFIG, "MemAE", seed=0, scale=False)
    assert row["roc_auc"] > 0.95
    # About 20% of the test half is anomalous, so flagging the top 20% is near exact.
    assert row["f1"] > 0.85
    assert row["precision"] == pytest.approx(row["recall"], abs=0.1)


def test_validation_mode_never_reads_the_test_half() -> None:
    X, y = blobs()
    order = np.random.default_rng(5).permutation(len(y))
    X[order[len(y) // 2:]] = np.nan  # the test half of seed 5
    row = evaluate_seed(X, y, CONFIG, "AE", seed=5, scale=True, validation=True)
    assert 0 <= row["f1"] <= 1
    with pytest.raises(ValueError, match="NaN"):
        evaluate_seed(X, y, CONFIG, "AE", seed=5, scale=False)


def test_summary_reports_mean_and_std_beside_the_paper() -> None:
    rows = [{"variant": "MemAE", "seed": s, "precision": p, "recall": p, "f1": p,
             "roc_auc": 0.99} for s, p in [(0, 0.9), (1, 1.0)]]
    summary, markdown = summarize(rows, [0, 1], "test data")
    assert summary["variants"]["MemAE"]["f1"] == {"mean": pytest.approx(0.95),
                                                  "std": pytest.approx(0.05)}
    assert "| MemAE | 0.9500 ± 0.0500 | 0.9500 ± 0.0500 | 0.9500 ± 0.0500 | 0.9900 ± 0.0000 " \
           "| 0.9627 | 0.9655 | 0.9641 |" in markdown
    assert "seeds [0, 1]" in markdown
