"""``memae score``: scores CSVs equal to the library's, every kind of model file, and hostile
or mismatched inputs that fail in one line without partial output."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from memae import MemAEDetector, MemAEEnsemble
from memae.cli import main
from memae.data.inputs import InputSpec, load_inputs
from memae.run_dir import RunDir
from memae.scores_file import read_scores
from tests.cli.conftest import CLI_SETTINGS, SUFFIXES, one_line_error


def test_score_and_evaluate(tabular_run: Path, tables: tuple[Path, Path], tmp_path: Path,
                            capsys) -> None:
    run = shutil.copytree(tabular_run, tmp_path / "run")  # the scores go into the run
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
    assert main(["evaluate", str(run / "scores.csv"), "--out",
                 str(run / "eval.json")]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((run / "eval.json").read_text())
    assert f"{metrics['roc_auc']:.4f}" in printed
    # Off-plane anomalies are far easier than the normal rows: a floor, not a fluke.
    assert metrics["roc_auc"] > 0.95 and metrics["n"] == 200
    assert metrics["n_anomalies"] == int(inputs.y.sum())


def test_score_takes_an_ensemble_file(tabular_run: Path, tables: tuple[Path, Path],
                                      tmp_path: Path) -> None:
    from memae import MemAEEnsemble

    spec = InputSpec.from_dict(json.loads((tabular_run / "input.json").read_text()))
    train, test = load_inputs(tables[0], spec), load_inputs(tables[1], spec)
    member = MemAEDetector(model_params={"hidden": (16, 8), "latent_dim": 3}, epochs=5,
                           random_state=0, device="cpu")
    ensemble = MemAEEnsemble(member, n_estimators=2, max_samples=200,
                             random_state=0).fit(train.X)
    path = ensemble.save(tmp_path / "ensemble.safetensors")
    # the text columns are encoded as at training, by the input.json beside the model
    (tmp_path / "input.json").write_text((tabular_run / "input.json").read_text())
    out = tmp_path / "scores.csv"
    assert main(["-q", "score", str(path), str(tables[1]), "--out", str(out)]) == 0
    columns = read_scores(out, required=("id", "score", "anomaly"))
    np.testing.assert_allclose(columns["score"].astype(float),
                               ensemble.decision_function(test.X), rtol=1e-12)


def test_score_evaluate_and_report_an_ensemble_run(ensemble_run: Path,
                                                   tables: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    run = shutil.copytree(ensemble_run, tmp_path / "run")  # scores and report go into it
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
    assert names == {"loss.png", "memory_health.png", "memory_usage.png", "roc_pr.png",
                     "score_histogram.png", "report.html"}
    page = (run / "report" / "report.html").read_text()
    assert "ensemble members" in page and "the first of 3 ensemble members" in page


def test_scoring_a_table_with_a_missing_column_fails_cleanly(tabular_run: Path, tmp_path: Path,
                                                             capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("f0,f1,f2,f3,f4,proto\n1,2,3,4,5,tcp\n")
    assert main(["-q", "score", str(tabular_run), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memae: error:") and "missing ['f5']" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_score_refuses_a_video_model_and_says_which_command(video_run: Path, tmp_path: Path,
                                                             capsys) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    assert main(["score", str(video_run), str(table)]) == 2
    assert re.search("holds a video model.*memae score-video", capsys.readouterr().err)


@CLI_SETTINGS
@given(content=st.binary(max_size=300), suffix=SUFFIXES)
def test_scoring_hostile_files_fails_in_one_line_without_partial_output(
        trained_run: Path, tmp_path: Path, capsys, content: bytes, suffix: str) -> None:
    data = tmp_path / f"data{suffix}"
    data.write_bytes(content)
    out = tmp_path / "scores.csv"
    code = main(["score", str(trained_run), str(data), "--out", str(out), "--quiet"])
    if code == 0:
        assert out.is_file()
        out.unlink()
        return
    assert code == 2
    one_line_error(capsys)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pickle"])
def test_scoring_with_a_corrupt_model_is_one_line(trained_run: Path, numeric_table: Path,
                                                  tmp_path: Path, capsys, damage: str) -> None:
    model = tmp_path / "model.safetensors"
    raw = (trained_run / RunDir.MODEL).read_bytes()
    model.write_bytes({"truncate": raw[:len(raw) // 2], "garbage": os.urandom(512),
                       "pickle": b"\x80\x04\x95" + raw[3:200]}[damage])
    out = tmp_path / "scores.csv"
    assert main(["score", str(model), str(numeric_table), "--out", str(out), "--quiet"]) == 2
    one_line_error(capsys)
    assert not out.exists()


def test_scoring_labels_advice_uses_options_that_exist(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    rows = [f"{a:.4f},{b:.4f},{int(a > 1)}" for a, b in rng.normal(size=(60, 2))]
    train = tmp_path / "train.csv"
    train.write_text("f0,f1,label\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m"
    assert main(["train", "--data", str(train), "--label-col", "label", "--out", str(model),
                 "--epochs", "1", "--quiet"]) == 0
    named = tmp_path / "named.csv"
    named.write_text("f0,f1,label\n0.1,0.2,normal\n0.3,0.1,attack\n")
    assert main(["score", str(model), str(named), "--out", str(tmp_path / "s.csv"),
                 "--quiet"]) == 2
    err = one_line_error(capsys)
    assert "retrain with --normal-labels" in err and "data.normal_labels" not in err


@pytest.mark.parametrize("edit", ["threshold", "input_shape", "score_batch_size"])
def test_scoring_with_an_edited_model_file_names_the_field(trained_run: Path, numeric_table: Path,
                                                           tmp_path: Path, capsys,
                                                           edit: str) -> None:
    with safe_open(str(trained_run / RunDir.MODEL), framework="pt") as f:
        meta = json.loads(f.metadata()["memae"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    if edit == "threshold":
        meta["threshold"] = float("nan")
    elif edit == "input_shape":
        del meta["input_shape"]
    else:
        meta["params"]["score_batch_size"] = -1
    model = tmp_path / "model.safetensors"  # no input.json beside it
    save_file(tensors, str(model), metadata={"memae": json.dumps(meta)})
    out = tmp_path / "scores.csv"
    assert main(["score", str(model), str(numeric_table), "--out", str(out), "--quiet"]) == 2
    assert edit in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_score_refuses_targets_that_are_not_files(small_run: tuple[Path, Path], tmp_path: Path,
                                                  capsys, kind: str) -> None:
    target = tmp_path / "x.csv"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    assert main(["score", str(small_run[0]), str(small_run[1]), "--out", str(target),
                 "--quiet"]) == 2
    assert "not a regular file" in one_line_error(capsys)
    assert target.is_dir() if kind == "directory" else target.is_fifo()
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_score_of_an_empty_table_keeps_the_previous_scores(small_run: tuple[Path, Path],
                                                           tmp_path: Path, capsys) -> None:
    out = tmp_path / "scores.csv"
    out.write_text("previous")
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,c\n")
    assert main(["score", str(small_run[0]), str(empty), "--out", str(out), "--quiet"]) == 2
    assert "no rows" in one_line_error(capsys)
    assert out.read_text() == "previous"
