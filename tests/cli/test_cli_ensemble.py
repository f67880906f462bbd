"""``memae train --n-estimators K``: an ensemble run, scored, evaluated and reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from memae import MemAEEnsemble
from memae.cli import main
from memae.data.inputs import InputSpec, load_inputs
from memae.scores_file import read_scores

DATA = ["--ignore-cols", "id", "--label-col", "label", "--normal-labels", "normal"]
MODEL = ["--model", "mlp", "--set", "detector.model_params={hidden: [16, 8], latent_dim: 3}",
         "--memory-size", "20", "--epochs", "30", "--batch-size", "32",
         "--learning-rate", "0.01"]


@pytest.fixture(scope="module")
def run(tables: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ensemble") / "run"
    assert main(["-q", "train", "--data", str(tables[0]), "--out", str(root), *DATA, *MODEL,
                 "--n-estimators", "3", "--max-samples", "0.5", "--seed", "4"]) == 0
    return root


def test_train_writes_an_ensemble_run(run: Path) -> None:
    # an ensemble keeps no per-epoch checkpoints (it cannot be resumed)
    assert sorted(p.name for p in run.iterdir() if p.name != "checkpoints") == [
        "config.yaml", "history.json", "input.json", "metrics.json", "model.safetensors"]
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["ensemble"] == {"n_estimators": 3, "max_samples": 0.5}
    ensemble = MemAEEnsemble.load(run / "model.safetensors")
    assert len(ensemble.estimators_) == 3
    assert [len(rows) for rows in ensemble.samples_] == [150, 150, 150]  # half of 300 rows
    assert ensemble.random_state == 4
    history = json.loads((run / "history.json").read_text())
    assert len(history["members"]) == 3
    assert all(1 <= m["best_epoch"] <= len(m["train_loss"]) <= 30 for m in history["members"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["n_train"], metrics["n_estimators"], metrics["rows_per_member"]) == (
        300, 3, 150)
    assert metrics["threshold"] == pytest.approx(float(ensemble.threshold_))


def test_score_evaluate_and_report_an_ensemble_run(run: Path, tables: tuple[Path, Path],
                                                   capsys) -> None:
    assert main(["-q", "score", str(run), str(tables[1])]) == 0
    columns = read_scores(run / "scores.csv", required=("score", "anomaly", "label"))
    ensemble = MemAEEnsemble.load(run / "model.safetensors")
    spec = InputSpec.from_dict(json.loads((run / "input.json").read_text()))
    scores = ensemble.decision_function(load_inputs(tables[1], spec).X)
    np.testing.assert_allclose(columns["score"].astype(float), scores, rtol=1e-12)
    assert main(["-q", "evaluate", str(run / "scores.csv"), "--out",
                 str(run / "eval.json")]) == 0
    # off-plane anomalies, as for the single detector's run (which has the same floor)
    assert json.loads((run / "eval.json").read_text())["roc_auc"] > 0.95
    assert main(["-q", "report", str(run)]) == 0
    names = {p.name for p in (run / "report").iterdir()}
    assert names == {"loss.png", "memory_usage.png", "roc_pr.png", "score_histogram.png",
                     "report.html"}
    page = (run / "report" / "report.html").read_text()
    assert "ensemble members" in page and "the first of 3 ensemble members" in page


def test_resuming_an_ensemble_run_is_refused(run: Path, capsys) -> None:
    assert main(["train", "--resume", str(run)]) == 2
    assert "keeps no per-epoch checkpoints" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--n-estimators", "3", "--max-samples", "1.0", "--target-fpr", "0.05"],
     "target_fpr needs out-of-bag rows"),
    (["--n-estimators", "3", "--max-samples", "1"], "max_samples must be an int >= 2"),
    (["--n-estimators", "0"], "ensemble.n_estimators must be an int >= 1"),
    (["--max-samples", "512"], "only applies to an ensemble"),  # not silently ignored
])
def test_bad_ensemble_options_fail_before_any_write(tables: tuple[Path, Path], tmp_path: Path,
                                                    capsys, flags: list[str],
                                                    message: str) -> None:
    out = tmp_path / "run"
    assert main(["train", "--data", str(tables[0]), "--out", str(out), *DATA, "--epochs", "1",
                 *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_max_samples_must_be_a_number(tables: tuple[Path, Path], tmp_path: Path,
                                      capsys) -> None:
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        main(["train", "--data", str(tables[0]), "--out", str(tmp_path / "run"),
              "--n-estimators", "2", "--max-samples", "half"])
    assert exited.value.code == 2
    assert "a row count (e.g. 512) or a share of the rows (e.g. 0.5), got 'half'" in (
        capsys.readouterr().err)
