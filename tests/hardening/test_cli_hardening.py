"""The command line under faults: SIGKILL then --resume, hostile files, escaping paths."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from memae import MemAEDetector, safefile
from memae.cli import main
from memae.config import load_config_file, parse_assignment, resolve_config
from memae.run_dir import RunDir
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint

SRC = Path(__file__).resolve().parents[2] / "src"
FLAGS = ["--epochs", "6", "--batch-size", "16", "--seed", "3", "--learning-rate", "0.003",
         "--quiet"]


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    rng = np.random.default_rng(7)
    X = (rng.normal(size=(600, 3)) @ rng.normal(size=(3, 8))).astype(np.float32)
    path = tmp_path_factory.mktemp("data") / "X.csv"
    np.savetxt(path, X, delimiter=",", header=",".join(f"f{j}" for j in range(8)),
               comments="", fmt="%.9g")
    return path


def test_cli_sigkill_then_resume_equals_an_uninterrupted_run(table: Path, tmp_path: Path,
                                                             capsys) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    victim = subprocess.Popen([sys.executable, "-m", "memae", "train", "--data", str(table),
                               "--out", str(run), *FLAGS], env=env, stderr=subprocess.PIPE)
    checkpoint = run / RunDir.CHECKPOINTS / CHECKPOINT_NAME
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert victim.poll() is None, victim.stderr.read().decode()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert not load_checkpoint(checkpoint)[0].finished
    assert not (run / RunDir.MODEL).exists()

    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert main(["train", "--data", str(table), "--out", str(tmp_path / "whole"), *FLAGS]) == 0
    resumed = MemAEDetector.load(run / RunDir.MODEL)
    whole = MemAEDetector.load(tmp_path / "whole" / RunDir.MODEL)
    np.testing.assert_array_equal(resumed.decision_scores_, whole.decision_scores_)
    assert resumed.threshold_ == whole.threshold_
    history = [json.loads((r / RunDir.HISTORY).read_text()) for r in (run, tmp_path / "whole")]
    assert history[0]["train_loss"] == history[1]["train_loss"]


def test_resume_refuses_training_options_and_missing_runs(tmp_path: Path, capsys) -> None:
    assert main(["train", "--resume", str(tmp_path), "--epochs", "3"]) == 2
    assert "drop ['--epochs']" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    assert "has no config.yaml" in capsys.readouterr().err


CLI_SETTINGS = settings(max_examples=20, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = st.sampled_from([".csv", ".npy", ".npz", ".parquet", ".png", ""])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("memae: error:") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


@CLI_SETTINGS
@given(content=st.binary(max_size=200), suffix=SUFFIXES)
def test_train_on_hostile_files_fails_in_one_line_and_writes_nothing(
        tmp_path: Path, capsys, content: bytes, suffix: str) -> None:
    data = tmp_path / f"data{suffix}"
    data.write_bytes(content)
    run = tmp_path / "run"
    code = main(["train", "--data", str(data), "--out", str(run), "--epochs", "1", "--quiet",
                 "--overwrite"])
    if code == 0:  # a few random bytes can make a valid one-column CSV
        assert (run / RunDir.MODEL).is_file()
        return
    assert code == 2
    _one_line_error(capsys)
    assert not run.exists()


@pytest.fixture(scope="module")
def trained_run(table: Path, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--data", str(table), "--out", str(run), "--epochs", "1",
                 "--quiet"]) == 0
    return run


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
    _one_line_error(capsys)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "pickle"])
def test_scoring_with_a_corrupt_model_is_one_line(trained_run: Path, table: Path,
                                                  tmp_path: Path, capsys, damage: str) -> None:
    model = tmp_path / "model.safetensors"
    raw = (trained_run / RunDir.MODEL).read_bytes()
    model.write_bytes({"truncate": raw[:len(raw) // 2], "garbage": os.urandom(512),
                       "pickle": b"\x80\x04\x95" + raw[3:200]}[damage])
    out = tmp_path / "scores.csv"
    assert main(["score", str(model), str(table), "--out", str(out), "--quiet"]) == 2
    _one_line_error(capsys)
    assert not out.exists()


@settings(max_examples=50, deadline=None)
@given(name=st.one_of(
    st.lists(st.sampled_from(["..", ".", "a", "b"]), min_size=1, max_size=5).map("/".join),
    st.text(alphabet="./ab", min_size=1, max_size=8).map(lambda t: "/" + t)))
def test_run_dir_names_never_leave_the_run(tmp_path_factory, name: str) -> None:
    root = tmp_path_factory.getbasetemp() / "runs" / "r"
    try:
        target = RunDir(root).inside(name, "output.report")
    except ValueError as error:
        assert "output.report" in str(error)
        return
    assert target == root.resolve() or root.resolve() in target.parents


# options -> the name the error must give
BAD_TRAIN_OPTIONS = [(["--epochs", "0"], "epochs"), (["--contamination", "0.7"], "contamination"),
                     (["--memory-size", "0"], "memory_size"),
                     (["--memory-size", "1"], "memory_size=1"), (["--model", "transformer"],
                                                                "transformer"),
                     (["--seed", str(2**40)], "random_state"),
                     (["--set", "detector.model_params.foo=1"], "'foo'"),
                     (["--set", "detector.score_batch_size=0"], "score_batch_size"),
                     (["--batch-size", "-1"], "batch_size"),
                     (["--learning-rate", "nan"], "learning_rate"),
                     (["--memory-size", str(10**11)], "parameters")]
BAD_TABLES = {"nan": "a,b\n1,2\nnan,3\n4,5\n", "inf": "a,b\n1,2\ninf,3\n4,5\n",
              "huge": "a,b\n1,2\n1e39,3\n4,5\n", "label only": "label\n0\n1\n0\n",
              "one row": "a,b\n1,2\n"}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.sampled_from(BAD_TRAIN_OPTIONS), nested=st.booleans())
def test_bad_train_options_write_nothing(table: Path, tmp_path: Path, capsys,
                                         bad: tuple[list[str], str], nested: bool) -> None:
    options, name = bad
    run = tmp_path / "runs" / "x" if nested else tmp_path / "x"
    args = ["train", "--data", str(table), "--out", str(run), "--quiet", *options]
    assert main(args) == 2
    assert name in _one_line_error(capsys)
    assert not run.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("content", BAD_TABLES.values(), ids=BAD_TABLES.keys())
def test_bad_tables_write_nothing_and_name_the_file(tmp_path: Path, capsys, content: str
                                                    ) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(content)
    run = tmp_path / "run"
    args = ["train", "--data", str(data), "--out", str(run), "--quiet", "--epochs", "1"]
    extra = ["--label-col", "label"] if content.startswith("label") else []
    assert main(args + extra) == 2
    assert "bad.csv" in _one_line_error(capsys)
    assert not run.exists()


def test_train_refuses_cuda_without_cuda_before_writing(table: Path, tmp_path: Path,
                                                        capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["train", "--data", str(table), "--out", str(tmp_path / "x"), "--quiet",
                 "--device", "cuda"]) == 2
    assert "CUDA is not available" in _one_line_error(capsys)
    assert not (tmp_path / "x").exists()


def test_existing_runs_need_overwrite_or_resume(table: Path, trained_run: Path,
                                                tmp_path: Path, capsys) -> None:
    assert main(["train", "--data", str(table), "--out", str(trained_run), "--quiet"]) == 2
    assert "--overwrite" in _one_line_error(capsys)
    interrupted = tmp_path / "interrupted"
    (interrupted / RunDir.CHECKPOINTS).mkdir(parents=True)
    assert main(["train", "--data", str(table), "--out", str(interrupted), "--quiet"]) == 2
    assert "--resume" in _one_line_error(capsys)


def test_two_trains_into_one_directory_cannot_both_succeed(table: Path, tmp_path: Path,
                                                          capsys) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([sys.executable, "-m", "memae", "train", "--data", str(table),
                              "--out", str(run), "--epochs", "40", "--set",
                              "detector.patience=null", "--quiet"], env=env, stderr=subprocess.PIPE)
    config = run / RunDir.CONFIG
    deadline = time.monotonic() + 120
    while not config.exists():  # written once the directory is locked
        assert first.poll() is None, first.stderr.read().decode()
        assert time.monotonic() < deadline, "the first run wrote no config within 120 s"
        time.sleep(0.01)
    second = main(["train", "--data", str(table), "--out", str(run), "--quiet",
                   "--overwrite", "--epochs", "1"])
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert second == 2
    assert "in use by another `memae train`" in _one_line_error(capsys)
    saved = yaml.safe_load(config.read_text())
    assert saved["detector"]["epochs"] == 40
    assert MemAEDetector.load(run / RunDir.MODEL).history_.train_loss


def test_a_full_disk_during_training_leaves_nothing(table: Path, tmp_path: Path, capsys,
                                                   monkeypatch) -> None:
    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device "
                              "(os error 28)")

    monkeypatch.setattr(safefile, "save_file", full_disk)
    run = tmp_path / "run"
    assert main(["train", "--data", str(table), "--out", str(run), "--quiet",
                 "--epochs", "2"]) == 2
    assert "No space left on device" in _one_line_error(capsys)
    assert not run.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [["100000", "100000"], ["4097", "4096"]])
def test_huge_image_sizes_are_refused_before_any_pixel(tmp_path: Path, capsys,
                                                       size: list[str]) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    assert main(["train", "--data", str(folder), "--out", str(run), "--quiet",
                 "--image-size", *size]) == 2
    assert "4096 x 4096" in _one_line_error(capsys)
    assert not run.exists()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=12), st.sampled_from(
    ["[1,", "{a: 1", "!!python/object/apply:os.system [\"true\"]", "*alias", "&a [1, *a]",
     "'unclosed", "- 1\n- 2", "!!binary AAAA"])))
def test_any_set_value_parses_or_fails_in_one_line(tmp_path: Path, capsys, value: str) -> None:
    try:
        parse_assignment(f"detector.epochs={value}")
    except ValueError as error:
        assert "--set" in str(error)
        assert main(["train", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path / "r"),
                     "--set", f"detector.epochs={value}"]) == 2
        _one_line_error(capsys)
        assert not (tmp_path / "r").exists()


def test_config_floats_duplicates_and_encodings(tmp_path: Path) -> None:
    assert parse_assignment("detector.learning_rate=1e-3") == {
        "detector": {"learning_rate": 0.001}}
    config = tmp_path / "run.yaml"
    config.write_text("detector:\n  learning_rate: 5E-4\n  epochs: 3\n")
    assert resolve_config(load_config_file(config)).detector.learning_rate == 5e-4
    config.write_text("detector:\n  epochs: 1\n  epochs: 500\n")
    with pytest.raises(ValueError, match="duplicate key 'epochs'"):
        load_config_file(config)
    as_json = tmp_path / "run.json"
    as_json.write_text('{"detector": {"epochs": 1, "epochs": 500}}')
    with pytest.raises(ValueError, match="duplicate key 'epochs'"):
        load_config_file(as_json)
    config.write_text("detector:\n  epochs: 2\n", encoding="utf-16")
    with pytest.raises(ValueError, match=r"run\.yaml.*not UTF-8.*save it as UTF-8"):
        load_config_file(config)
    config.write_text("\ufeffdetector:\n  epochs: 2\n", encoding="utf-8")
    assert load_config_file(config) == {"detector": {"epochs": 2}}


def test_evaluate_refuses_an_anomaly_column_that_is_not_0_1(tmp_path: Path, capsys) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score,anomaly,label\n0,0.1,0.5,0\n1,0.9,1.7,1\n2,0.2,0,0\n")
    assert main(["evaluate", str(scores)]) == 2
    err = _one_line_error(capsys)
    assert "column 'anomaly'" in err and "0/1" in err and "multiclass" not in err


def test_report_of_an_empty_scores_file_names_it(trained_run: Path, tmp_path: Path,
                                                 capsys) -> None:
    pytest.importorskip("matplotlib")
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score,anomaly\n")
    assert main(["report", str(trained_run), "--scores", str(scores), "--out",
                 str(tmp_path / "report"), "--quiet"]) == 2
    assert "has a header but no rows" in _one_line_error(capsys)
    assert not (tmp_path / "report").exists()


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
    err = _one_line_error(capsys)
    assert "retrain with --normal-labels" in err and "data.normal_labels" not in err


def test_score_video_on_cuda_without_cuda_is_one_line(tmp_path: Path, capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["score-video", str(tmp_path), "--model", str(tmp_path / "m.safetensors"),
                 "--out", str(tmp_path / "s.csv"), "--device", "cuda"]) == 2
    assert "--device" in _one_line_error(capsys)


def test_evaluate_reads_scores_files_like_any_csv(tmp_path: Path, capsys) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("\ufeffid;score;label\n0;0.1;0\n1;0.9;1\n2;0.2;0\n3;0.8;1\n",
                      encoding="utf-8")
    assert main(["evaluate", str(scores)]) == 0
    assert "roc_auc  1.0000" in capsys.readouterr().out
    (tmp_path / "scores.json").write_text("{broken")
    assert main(["report", str(tmp_path), "--scores", str(scores), "--quiet"]) == 2
    assert "scores sidecar" in _one_line_error(capsys)


@pytest.mark.parametrize("edit", ["threshold", "input_shape", "score_batch_size"])
def test_scoring_with_an_edited_model_file_names_the_field(trained_run: Path, table: Path,
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
    assert main(["score", str(model), str(table), "--out", str(out), "--quiet"]) == 2
    assert edit in _one_line_error(capsys)
    assert not out.exists()
