"""``memae train``: the run directory it writes for tables, ensembles, videos and presets;
--resume after a kill; bad options, data and disks that leave nothing behind."""

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
from safetensors import SafetensorError

from memae import MemAEDetector, MemAEEnsemble, VideoDetector, load, safefile
from memae.cli import main
from memae.config import parse_assignment
from memae.run_dir import RunDir
from memae.scores_file import read_scores
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint
from memae.video import make_synthetic_videos, write_frame_folders
from tests.cli.conftest import (
    CLI_SETTINGS,
    SUFFIXES,
    TABLE_COLUMNS,
    VIDEO_RUN_FLAGS,
    one_line_error,
    write_table,
)
from tests.conftest import SRC
from tests.test_presets import VIDEO, write


def test_train_writes_the_run_directory(tabular_run: Path) -> None:
    assert sorted(p.name for p in tabular_run.iterdir()) == [
        "checkpoints", "config.yaml", "history.json", "input.json", "metrics.json",
        "model.safetensors"]
    assert [p.name for p in (tabular_run / "checkpoints").iterdir()] == ["checkpoint.safetensors"]
    config = yaml.safe_load((tabular_run / "config.yaml").read_text())
    assert config["detector"]["epochs"] == 30          # the flag beat the file's 60
    assert config["detector"]["patience"] == 5         # --set
    assert config["detector"]["learning_rate"] == 0.01  # the file beat the default
    assert config["data"]["path"].endswith("train.csv")
    spec = json.loads((tabular_run / "input.json").read_text())
    assert spec["feature_names"][-2:] == ["proto=tcp", "proto=udp"]
    history = json.loads((tabular_run / "history.json").read_text())
    assert 1 <= history["best_epoch"] <= len(history["train_loss"]) <= 30
    metrics = json.loads((tabular_run / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_val"] == 300
    assert "in_sample" not in metrics  # the training table holds no anomalies


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


def test_existing_run_needs_overwrite(tabular_run: Path, tables: tuple[Path, Path], capsys) -> None:
    assert main(["train", "--data", str(tables[0]), "--out", str(tabular_run)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_a_diverging_run_is_one_line(tables: tuple[Path, Path], tmp_path: Path,
                                     capsys) -> None:
    assert main(["-q", "train", "--data", str(tables[0]), "--out", str(tmp_path / "r"),
                 "--ignore-cols", "id", "--label-col", "label", "--normal-labels", "normal",
                 "--learning-rate", "1e30", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memae: error: training diverged") and err.count("\n") == 1


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


FLAGS = ["--epochs", "6", "--batch-size", "16", "--seed", "3", "--learning-rate", "0.003",
         "--quiet"]


@pytest.mark.slow
def test_cli_sigkill_then_resume_equals_an_uninterrupted_run(numeric_table: Path, tmp_path: Path,
                                                             capsys) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    victim = subprocess.Popen([sys.executable, "-m", "memae", "train", "--data", str(numeric_table),
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
    assert main(["train", "--data", str(numeric_table), "--out", str(tmp_path / "whole"),
                 *FLAGS]) == 0
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
    one_line_error(capsys)
    assert not run.exists()


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
def test_bad_train_options_write_nothing(numeric_table: Path, tmp_path: Path, capsys,
                                         bad: tuple[list[str], str], nested: bool) -> None:
    options, name = bad
    run = tmp_path / "runs" / "x" if nested else tmp_path / "x"
    args = ["train", "--data", str(numeric_table), "--out", str(run), "--quiet", *options]
    assert main(args) == 2
    assert name in one_line_error(capsys)
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
    assert "bad.csv" in one_line_error(capsys)
    assert not run.exists()


def test_train_refuses_cuda_without_cuda_before_writing(numeric_table: Path, tmp_path: Path,
                                                        capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["train", "--data", str(numeric_table), "--out", str(tmp_path / "x"), "--quiet",
                 "--device", "cuda"]) == 2
    assert "CUDA is not available" in one_line_error(capsys)
    assert not (tmp_path / "x").exists()


def test_existing_runs_need_overwrite_or_resume(numeric_table: Path, trained_run: Path,
                                                tmp_path: Path, capsys) -> None:
    assert main(["train", "--data", str(numeric_table), "--out", str(trained_run), "--quiet"]) == 2
    assert "--overwrite" in one_line_error(capsys)
    interrupted = tmp_path / "interrupted"
    (interrupted / RunDir.CHECKPOINTS).mkdir(parents=True)
    assert main(["train", "--data", str(numeric_table), "--out", str(interrupted), "--quiet"]) == 2
    assert "--resume" in one_line_error(capsys)


@pytest.mark.slow
def test_two_trains_into_one_directory_cannot_both_succeed(numeric_table: Path, tmp_path: Path,
                                                          capsys) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([sys.executable, "-m", "memae", "train", "--data", str(numeric_table),
                              "--out", str(run), "--epochs", "40", "--set",
                              "detector.patience=null", "--quiet"], env=env, stderr=subprocess.PIPE)
    config = run / RunDir.CONFIG
    deadline = time.monotonic() + 120
    while not config.exists():  # written once the directory is locked
        assert first.poll() is None, first.stderr.read().decode()
        assert time.monotonic() < deadline, "the first run wrote no config within 120 s"
        time.sleep(0.01)
    second = main(["train", "--data", str(numeric_table), "--out", str(run), "--quiet",
                   "--overwrite", "--epochs", "1"])
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert second == 2
    assert "in use by another `memae train`" in one_line_error(capsys)
    saved = yaml.safe_load(config.read_text())
    assert saved["detector"]["epochs"] == 40
    assert MemAEDetector.load(run / RunDir.MODEL).history_.train_loss


def test_a_full_disk_during_training_leaves_nothing(numeric_table: Path, tmp_path: Path, capsys,
                                                   monkeypatch) -> None:
    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device "
                              "(os error 28)")

    monkeypatch.setattr(safefile, "save_file", full_disk)
    run = tmp_path / "run"
    assert main(["train", "--data", str(numeric_table), "--out", str(run), "--quiet",
                 "--epochs", "2"]) == 2
    assert "No space left on device" in one_line_error(capsys)
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
    assert "4096 x 4096" in one_line_error(capsys)
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
        one_line_error(capsys)
        assert not (tmp_path / "r").exists()


def test_run_files_are_complete_after_training(small_run: tuple[Path, Path]) -> None:
    names = {p.name for p in small_run[0].iterdir()}
    assert {RunDir.CONFIG, RunDir.MODEL, RunDir.INPUT, RunDir.HISTORY, RunDir.METRICS,
            RunDir.CHECKPOINTS} <= names
    assert not [n for n in names if n.startswith(".")]


def test_train_writes_an_ensemble_run(ensemble_run: Path) -> None:
    # an ensemble keeps no per-epoch checkpoints (it cannot be resumed)
    assert sorted(p.name for p in ensemble_run.iterdir() if p.name != "checkpoints") == [
        "config.yaml", "history.json", "input.json", "metrics.json", "model.safetensors"]
    config = yaml.safe_load((ensemble_run / "config.yaml").read_text())
    assert config["ensemble"] == {"n_estimators": 3, "max_samples": 0.5}
    ensemble = MemAEEnsemble.load(ensemble_run / "model.safetensors")
    assert len(ensemble.estimators_) == 3
    assert [len(rows) for rows in ensemble.samples_] == [150, 150, 150]  # half of 300 rows
    assert ensemble.random_state == 4
    history = json.loads((ensemble_run / "history.json").read_text())
    assert len(history["members"]) == 3
    assert all(1 <= m["best_epoch"] <= len(m["train_loss"]) <= 30 for m in history["members"])
    metrics = json.loads((ensemble_run / "metrics.json").read_text())
    assert (metrics["n_train"], metrics["n_estimators"], metrics["rows_per_member"]) == (
        300, 3, 150)
    assert metrics["threshold"] == pytest.approx(float(ensemble.threshold_))


def test_resuming_an_ensemble_run_is_refused(ensemble_run: Path, capsys) -> None:
    assert main(["train", "--resume", str(ensemble_run)]) == 2
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
    assert main(["train", "--data", str(tables[0]), "--out", str(out), *TABLE_COLUMNS,
                 "--epochs", "1", *flags]) == 2
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


def test_train_kind_video_writes_a_run_the_loader_reads(video_run: Path) -> None:
    detector = load(video_run / RunDir.MODEL)
    assert isinstance(detector, VideoDetector)
    config = yaml.safe_load((video_run / RunDir.CONFIG).read_text())
    assert config["kind"] == "video" and config["detector"]["size"] == [32, 32]
    assert detector.config.size == (32, 32) and detector.config.memory_size == 20
    assert detector.training_["n_train_clips"] == 2
    # 2 clips x (24 - 8 + 1) windows, batches of 8, 2 epochs
    assert detector.history_.steps == 2 * int(np.ceil(2 * 17 / 8))
    history = json.loads((video_run / RunDir.HISTORY).read_text())
    assert history["train_loss"] == detector.history_.train_loss
    assert load_checkpoint(video_run / RunDir.CHECKPOINTS / CHECKPOINT_NAME)[0].finished


def test_an_interrupted_video_run_resumes_to_the_same_weights(video_root: Path,
                                                              video_run: Path, tmp_path: Path,
                                                              monkeypatch) -> None:
    import memae.training_checkpoint as checkpoints

    run = tmp_path / "run"
    real = checkpoints.save_checkpoint

    def crash_after_epoch_one(path, state, extra=None):
        real(path, state, extra)
        raise KeyboardInterrupt

    monkeypatch.setattr("memae.training_checkpoint.save_checkpoint", crash_after_epoch_one)
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run),
                 *VIDEO_RUN_FLAGS]) == 130
    monkeypatch.setattr("memae.training_checkpoint.save_checkpoint", real)
    assert load_checkpoint(run / RunDir.CHECKPOINTS / CHECKPOINT_NAME)[0].epoch == 1
    assert main(["-q", "train", "--resume", str(run)]) == 0
    resumed = VideoDetector.load(run / RunDir.MODEL).model_.state_dict()
    whole = VideoDetector.load(video_run / RunDir.MODEL).model_.state_dict()
    for key, value in whole.items():
        assert torch.equal(resumed[key], value), key


@pytest.mark.parametrize("extra, message", [
    (["--set", "detector.contamination=0.1"], "unknown configuration key 'detector.contamination'"),
    (["--set", "detector.size=[32]"], "size"),
    (["--set", "detector.temporal_smoothing=4"], "temporal_smoothing"),
    (["--label-col", "y"], "kind video reads clips from data.path alone"),
])
def test_bad_video_settings_fail_before_anything_is_written(video_root: Path, tmp_path: Path,
                                                            capsys, extra, message) -> None:
    run = tmp_path / "run"
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run), *VIDEO_RUN_FLAGS,
                 *extra]) == 2
    assert message in capsys.readouterr().err
    assert not run.exists()


def test_data_without_clips_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["-q", "train", "--data", str(empty), "--out", str(tmp_path / "run"),
                 *VIDEO_RUN_FLAGS]) == 2
    assert "holds no frame images, clip folders" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def preset_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table(tmp_path_factory.mktemp("presets") / "train.csv", 200, 0.0, seed=0)


COMMON = ["--ignore-cols", "id", "--categorical-cols", "proto", "--label-col", "label",
          "--normal-labels", "normal"]


def saved(run: Path) -> dict:
    return yaml.safe_load((run / "config.yaml").read_text())


def test_train_layers_preset_config_flags_and_set(preset_table: Path, tmp_path: Path) -> None:
    preset = write(tmp_path, "kind: tabular\ndescription: small\ndetector:\n"
                   "  model_params: {hidden: [8], latent_dim: 2}\n  memory_size: 12\n"
                   "  epochs: 7\n  batch_size: 16\n  learning_rate: 0.02\n")
    config = write(tmp_path, "detector:\n  batch_size: 32\n  learning_rate: 0.01\n",
                   "run.yaml")
    run = tmp_path / "run"
    assert main(["-q", "train", "--preset", str(preset), "--config", str(config),
                 "--data", str(preset_table), "--out", str(run), *COMMON, "--epochs", "2",
                 "--set", "detector.learning_rate=0.005"]) == 0
    detector = saved(run)["detector"]
    assert saved(run)["preset"] == str(preset)
    assert detector["model_params"] == {"hidden": [8], "latent_dim": 2}  # the preset's
    assert detector["memory_size"] == 12                  # the preset beat the default
    assert detector["batch_size"] == 32                   # the file beat the preset
    assert detector["epochs"] == 2                        # the flag beat the preset
    assert detector["learning_rate"] == 0.005             # --set beat them all
    assert detector["patience"] == "auto"                 # a default neither set: fit
    #                                                       takes the table preset's
    # config.yaml alone retrains the same detector: the preset's values are in it.
    again = tmp_path / "again"
    assert main(["-q", "train", "--config", str(run / "config.yaml"), "--out",
                 str(again)]) == 0
    assert saved(again)["detector"] == detector


def test_train_takes_a_packaged_preset_from_the_config_file(preset_table: Path,
                                                             tmp_path: Path) -> None:
    config = write(tmp_path, "preset: tabular\ndetector: {epochs: 1}\n", "run.yaml")
    run = tmp_path / "run"
    assert main(["-q", "train", "--config", str(config), "--data", str(preset_table), "--out",
                 str(run), *COMMON]) == 0
    assert saved(run)["preset"] == "tabular"
    assert saved(run)["detector"]["model"] == "mlp" and saved(run)["detector"]["epochs"] == 1


def test_train_says_it_leaves_a_benchmark_section_out(preset_table: Path, tmp_path: Path,
                                                      caplog) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "odds", "--data", str(preset_table), "--out", str(run),
                 *COMMON, "--epochs", "1", "--set", "detector.memory_size=20"]) == 0
    assert "benchmark section (max_steps, n_estimators, max_samples) applies to `memae " \
           "benchmark` only" in caplog.text
    assert saved(run)["detector"]["model_params"]["latent_dim"] == 32


def test_train_refuses_a_preset_for_another_kind(preset_table: Path, tmp_path: Path,
                                                 capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "mnist", "--data", str(preset_table), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "preset 'mnist' is for images data" in err and "is tabular data" in err
    assert "--preset tabular" in err
    video = write(tmp_path, VIDEO)
    assert main(["train", "--preset", str(video), "--data", str(preset_table), "--out",
                 str(run)]) == 2
    # A video preset makes a video run, which reads clips: a table is not one.
    assert "expected a video file" in capsys.readouterr().err
    assert main(["train", "--preset", str(video), "--kind", "tabular", "--data", str(preset_table),
                 "--out", str(run)]) == 2
    assert "is for video data, but this run has kind 'tabular'" in capsys.readouterr().err
    assert not run.exists()
    folder = tmp_path / "digits" / "normal"
    folder.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.full((12, 12), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    assert main(["train", "--preset", "kdd99", "--data", str(folder.parent), "--out",
                 str(run)]) == 2
    assert "preset 'kdd99' is for tabular data" in capsys.readouterr().err


def test_train_takes_the_images_preset_for_an_image_folder(tmp_path: Path) -> None:
    folder = tmp_path / "stripes" / "normal"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (12, 12), dtype=np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    assert main(["-q", "train", "--preset", "images", "--data", str(folder.parent), "--out",
                 str(run), "--epochs", "1"]) == 0
    assert saved(run)["preset"] == "images" and saved(run)["detector"]["model"] == "conv2d"


def test_a_video_preset_trains_without_a_warning_about_its_quick_settings(
        tmp_path: Path, caplog) -> None:
    root = write_frame_folders(make_synthetic_videos(n_train=1, n_test=1, n_frames=20, seed=0),
                               tmp_path / "videos")
    run = tmp_path / "run"
    assert main(["-q", "train", "--preset", "ped2-cpu", "--data", str(root), "--out", str(run),
                 "--set", "detector.size=[32, 32]", "--set", "detector.clip_length=8",
                 "--set", "detector.max_steps=1", "--set", "detector.cache_frames=8",
                 "--memory-size", "20"]) == 0
    assert "benchmark section" not in caplog.text
    assert yaml.safe_load((run / "config.yaml").read_text())["kind"] == "video"
