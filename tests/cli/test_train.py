"""``memae train / score / evaluate`` end to end on CSV files, and how errors look."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from memae import MemAEDetector
from memae.cli import main
from memae.data.inputs import InputSpec, load_inputs
from memae.scores_file import read_scores

CONFIG = """
data:
  label_col: label
  ignore_cols: [id]
  normal_labels: [normal]
detector:
  model: mlp
  model_params: {hidden: [16, 8], latent_dim: 3}
  memory_size: 20
  epochs: 60
  batch_size: 32
  learning_rate: 0.01
"""


@pytest.fixture(scope="module")
def run(tables: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    (root / "run.yaml").write_text(CONFIG)
    code = main(["--quiet", "train", "--config", str(root / "run.yaml"), "--data",
                 str(tables[0]), "--out", str(root / "run"), "--epochs", "30",
                 "--set", "detector.patience=5"])
    assert code == 0
    return root / "run"


def test_train_writes_the_run_directory(run: Path) -> None:
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoints", "config.yaml", "history.json", "input.json", "metrics.json",
        "model.safetensors"]
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["checkpoint.safetensors"]
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["detector"]["epochs"] == 30          # the flag beat the file's 60
    assert config["detector"]["patience"] == 5         # --set
    assert config["detector"]["learning_rate"] == 0.01  # the file beat the default
    assert config["data"]["path"].endswith("train.csv")
    spec = json.loads((run / "input.json").read_text())
    assert spec["feature_names"][-2:] == ["proto=tcp", "proto=udp"]
    history = json.loads((run / "history.json").read_text())
    assert 1 <= history["best_epoch"] <= len(history["train_loss"]) <= 30
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_val"] == 300
    assert "in_sample" not in metrics  # the training table holds no anomalies


def test_score_and_evaluate(run: Path, tables: tuple[Path, Path], capsys) -> None:
    assert main(["-q", "score", str(run), str(tables[1])]) == 0
    columns = read_scores(run / "scores.csv", required=("id", "score", "anomaly", "label"))
    assert len(columns["score"]) == 200
    # The CSV holds exactly what the detector computes on the same rows.
    detector = MemAEDetector.load(run / "model.safetensors")
    inputs = load_inputs(tables[1], InputSpec.from_dict(json.loads((run / "input.json")
                                                                   .read_text())))
    scores = detector.decision_function(inputs.X)
    np.testing.assert_allclose(columns["score"].astype(float), scores, rtol=1e-12)
    np.testing.assert_array_equal(columns["anomaly"].astype(int), scores > detector.threshold_)
    np.testing.assert_array_equal(columns["label"].astype(int), inputs.y)
    capsys.readouterr()
    assert main(["evaluate", str(run / "scores.csv"), "--out", str(run / "eval.json")]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((run / "eval.json").read_text())
    assert f"{metrics['roc_auc']:.4f}" in printed
    # Off-plane anomalies are far easier than the normal rows: a floor, not a fluke.
    assert metrics["roc_auc"] > 0.95 and metrics["n"] == 200
    assert metrics["n_anomalies"] == int(inputs.y.sum())


def test_evaluate_with_a_separate_label_file(run: Path, tables: tuple[Path, Path],
                                             tmp_path: Path, capsys) -> None:
    scores = tmp_path / "plain.csv"
    columns = read_scores(run / "scores.csv")
    scores.write_text("score\n" + "\n".join(columns["score"]) + "\n")
    assert main(["evaluate", str(scores), "--labels", str(tables[1]),
                 "--normal-labels", "normal", "--out", str(tmp_path / "m.json")]) == 0
    plain = json.loads((tmp_path / "m.json").read_text())
    assert "f1" not in plain and plain["roc_auc"] > 0.95
    assert main(["evaluate", str(scores), "--labels", str(tables[1])]) == 2
    assert "--normal-labels" in capsys.readouterr().err


def test_scoring_a_table_with_a_missing_column_fails_cleanly(run: Path, tmp_path: Path,
                                                             capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("f0,f1,f2,f3,f4,proto\n1,2,3,4,5,tcp\n")
    assert main(["-q", "score", str(run), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memae: error:") and "missing ['f5']" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_config_key_is_one_line_and_debug_shows_traceback(
        tables: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    (tmp_path / "typo.json").write_text(json.dumps({"detector": {"epoch": 3}}))
    argv = ["train", "--config", str(tmp_path / "typo.json"), "--data", str(tables[0]),
            "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown configuration key 'detector.epoch'" in err
    with pytest.raises(ValueError, match="detector.epoch"):
        main(["--debug", *argv])


def test_config_paths_cannot_leave_the_run_directory(tables: tuple[Path, Path],
                                                     tmp_path: Path, capsys) -> None:
    (tmp_path / "evil.yaml").write_text("output:\n  report: ../../elsewhere\n")
    assert main(["train", "--config", str(tmp_path / "evil.yaml"), "--data", str(tables[0]),
                 "--out", str(tmp_path / "r")]) == 2
    assert "points outside the run directory" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_existing_run_needs_overwrite(run: Path, tables: tuple[Path, Path], capsys) -> None:
    assert main(["train", "--data", str(tables[0]), "--out", str(run)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_python_dash_m_memae_runs_the_command_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import memae

    # The copy of memae under test, even from another working directory.
    env = {**os.environ, "PYTHONPATH": str(Path(memae.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "memae", "train", "--data", "missing.csv",
                           "--out", "run"], capture_output=True, text=True, check=False,
                          cwd=tmp_path, env=env)
    assert done.returncode == 2
    missing = tmp_path.resolve() / "missing.csv"
    assert done.stderr.strip().splitlines() == [
        f"memae: error: data path {str(missing)!r} does not exist; check --data."]
    assert not (tmp_path / "run").exists()  # nothing written for a run that cannot start


def test_a_diverging_run_is_one_line(tables: tuple[Path, Path], tmp_path: Path,
                                     capsys) -> None:
    assert main(["-q", "train", "--data", str(tables[0]), "--out", str(tmp_path / "r"),
                 "--ignore-cols", "id", "--label-col", "label", "--normal-labels", "normal",
                 "--learning-rate", "1e30", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memae: error: training diverged") and err.count("\n") == 1


def test_score_takes_an_ensemble_file(run: Path, tables: tuple[Path, Path],
                                      tmp_path: Path) -> None:
    from memae import MemAEEnsemble

    spec = InputSpec.from_dict(json.loads((run / "input.json").read_text()))
    train, test = load_inputs(tables[0], spec), load_inputs(tables[1], spec)
    member = MemAEDetector(model_params={"hidden": (16, 8), "latent_dim": 3}, epochs=5,
                           random_state=0, device="cpu")
    ensemble = MemAEEnsemble(member, n_estimators=2, max_samples=200,
                             random_state=0).fit(train.X)
    path = ensemble.save(tmp_path / "ensemble.safetensors")
    # the text columns are encoded as at training, by the input.json beside the model
    (tmp_path / "input.json").write_text((run / "input.json").read_text())
    out = tmp_path / "scores.csv"
    assert main(["-q", "score", str(path), str(tables[1]), "--out", str(out)]) == 0
    columns = read_scores(out, required=("id", "score", "anomaly"))
    np.testing.assert_allclose(columns["score"].astype(float),
                               ensemble.decision_function(test.X), rtol=1e-12)


@pytest.mark.parametrize("fit_on", [None, "normal", "all"])
def test_fit_on_chooses_the_training_rows_and_says_which(tables: tuple[Path, Path],
                                                         tmp_path: Path, capsys,
                                                         fit_on: str | None) -> None:
    labelled = tables[1]  # normal and anomalous rows
    labels = read_scores(labelled, required=("label",))["label"]
    n_normal = int((labels == "normal").sum())
    args = ["train", "--data", str(labelled), "--out", str(tmp_path / "run"), "--ignore-cols",
            "id", "--label-col", "label", "--normal-labels", "normal", "--epochs", "2"]
    assert main(args + ([] if fit_on is None else ["--fit-on", fit_on])) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = len(labels) if fit_on == "all" else n_normal
    assert 0 < n_normal < len(labels)
    assert metrics["n_train"] + metrics["n_val"] == rows
    assert f"training on {'all' if fit_on == 'all' else 'the'} {rows}" in out
    assert metrics["in_sample"]["n"] == len(labels)  # every row is evaluated either way


def test_fit_on_normal_without_normal_rows_is_refused(tables: tuple[Path, Path],
                                                      tmp_path: Path, capsys) -> None:
    assert main(["train", "--data", str(tables[1]), "--out", str(tmp_path / "run"),
                 "--ignore-cols", "id", "--label-col", "label", "--normal-labels", "nobody",
                 "--epochs", "1"]) == 2
    assert "--fit-on all" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
