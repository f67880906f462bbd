"""The ODDS comparison: stratified splits, PyOD baselines, the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae.benchmarks.odds import evaluate_split, summarize
from memae.presets import Preset
from tests.benchmarks.conftest import quick, require

CONFIG = Preset(name="toy", kind="tabular", description="a small net for 5 features",
                detector={"model": "mlp", "model_params": {"hidden": (16,), "latent_dim": 2},
                          "memory_size": 10, "epochs": 40, "batch_size": 32,
                          "validation_fraction": 0.0, "patience": None})


def table(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    inliers = rng.normal(size=(270, 2)) @ rng.normal(size=(2, 5))
    outliers = rng.uniform(-6, 6, size=(30, 5))
    return np.concatenate([inliers, outliers]), np.repeat([0, 1], [270, 30])


def test_our_variants_score_the_stratified_test_part() -> None:
    X, y = table()
    rows = evaluate_split("toy", X, y, seed=1, preset=CONFIG, methods=("AE", "MemAE"))
    assert [r["method"] for r in rows] == ["AE", "MemAE"]
    assert all(r["roc_auc"] > 0.9 and r["aupr"] > 0.5 for r in rows)


def test_pyod_baselines_run_on_the_same_split() -> None:
    pytest.importorskip("pyod")
    X, y = table()
    rows = evaluate_split("toy", X, y, seed=1, preset=CONFIG, methods=("PyOD IForest",))
    assert rows[0]["method"] == "PyOD IForest" and rows[0]["roc_auc"] > 0.9


def test_summary_means_and_memae_wins() -> None:
    rows = [{"dataset": d, "method": m, "seed": 0, "roc_auc": auc, "aupr": auc}
            for d, m, auc in [("a", "AE", 0.7), ("a", "MemAE", 0.8), ("a", "PyOD IForest", 0.9),
                              ("b", "AE", 0.9), ("b", "MemAE", 0.6), ("b", "PyOD IForest", 0.5)]]
    summary, markdown = summarize(rows, [0])
    assert summary["mean_roc_auc"] == pytest.approx({"AE": 0.8, "MemAE": 0.7,
                                                      "PyOD IForest": 0.7})
    assert summary["memae_beats_ae_roc_auc"] == "1/2"
    assert "| **mean ROC-AUC** | 0.8000 | 0.7000 | 0.7000 |" in markdown
    assert "| dataset | AE | MemAE | PyOD IForest |" in markdown
    # ranks: a: IForest 1, MemAE 2, AE 3; b: AE 1, MemAE 2, IForest 3
    assert summary["mean_rank_roc_auc"] == {"AE": 2.0, "MemAE": 2.0, "PyOD IForest": 2.0}
    assert summary["memae_wins_roc_auc"] == {"AE": "1/2", "PyOD IForest": "1/2"}


def test_tied_scores_share_their_rank() -> None:
    rows = [{"dataset": "a", "method": m, "seed": 0, "roc_auc": auc, "aupr": auc}
            for m, auc in [("AE", 0.8), ("MemAE", 0.8), ("PyOD KNN", 0.9)]]
    summary, markdown = summarize(rows, [0])
    assert summary["mean_rank_roc_auc"] == {"AE": 2.5, "MemAE": 2.5, "PyOD KNN": 1.0}
    assert summary["memae_wins_roc_auc"] == {"AE": "0/1", "PyOD KNN": "0/1"}
    assert "| 2.5000 | 2.5000 | 1.0000 |" in markdown


def test_ecod_and_knn_run_on_the_same_split() -> None:
    pytest.importorskip("pyod")
    X, y = table()
    rows = evaluate_split("toy", X, y, seed=1, preset=CONFIG,
                          methods=("PyOD ECOD", "PyOD KNN"))
    assert [r["method"] for r in rows] == ["PyOD ECOD", "PyOD KNN"]
    assert all(r["roc_auc"] > 0.9 for r in rows)


@pytest.mark.slow
@pytest.mark.real_data
def test_odds_quick_beats_chance(data_root: Path, tmp_path: Path) -> None:
    require(data_root, "odds/cardio.mat", "odds/wbc.mat")
    pytest.importorskip("pyod")
    result = quick("odds", data_root, tmp_path)
    means = result["summary"]["mean_roc_auc"]
    assert set(means) == {"AE", "MemAE-nonSpar", "MemAE", "PyOD AutoEncoder", "PyOD IForest",
                          "PyOD ECOD", "PyOD KNN"}
    assert set(result["summary"]["mean_rank_roc_auc"]) == set(means)
    # measured 0.8852 (members with a 2000-item memory), the smaller members before 0.8954,
    # the single detector before the ensemble 0.8437
    assert means["MemAE"] >= 0.85 and means["PyOD IForest"] >= 0.8, means
