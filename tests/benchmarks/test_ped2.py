"""``memae benchmark ped2`` on a tiny Ped2-shaped layout (synthetic frames, ped2.mat)."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from memae.ablation import variant_params
from memae.benchmarks import list_benchmarks
from memae.benchmarks.ped2 import resolve_config, validation_metrics
from memae.cli import main
from memae.video.detector import preset_config
from memae.video.evaluate import frame_auc
from memae.video.temporal import moving_average
from tests.conftest import write_fake_ped2


def test_quick_benchmark_writes_json_and_markdown(fake_ped2_data: Path, tmp_path: Path) -> None:
    assert "ped2" in list_benchmarks()
    code = main(["--quiet", "benchmark", "ped2", "--quick", "--config", "cpu-ae",
                 "--data-dir", str(fake_ped2_data), "--out", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "ped2_ped2-cpu_ae_seed0_quick.json").read_text())
    assert [(r["protocol"], r["mode"]) for r in record["rows"]] == [
        ("per-frame", "sliding"), ("per-frame", "fast"), ("gong2019", "gong2019")]
    # 24-frame test clips: every frame per-frame; frames 8..16 (gt[8:-7]) under gong2019
    assert [r["n_frames"] for r in record["rows"]] == [48, 48, 18]
    assert all(0.0 <= r["frame_auc"] <= 1.0 and r["pixel_auc"] is None for r in record["rows"])
    assert record["settings"]["config"]["memory"] is False
    assert record["settings"]["preset"] == "ped2-cpu"
    assert record["rows"][0]["train_steps"] == 2
    assert record["summary"]["paper_frame_auc"] == 0.917
    assert record["summary"]["n_test_frames"] == 48
    markdown = (tmp_path / "ped2_ped2-cpu_ae_seed0_quick.md").read_text()
    assert "| cpu-ae | 0 | per-frame | sliding | 1 | 48 |" in markdown
    assert "| cpu-ae | 0 | gong2019 | gong2019 | 1 | 18 |" in markdown
    assert "Paper (AE, Ped2 frame AUC): 0.917" in markdown
    assert (tmp_path / "ped2_ped2-cpu_ae_seed0_quick.safetensors").is_file()


def test_benchmark_writes_raw_frame_scores_that_reproduce_its_aucs(
        fake_ped2_data: Path, tmp_path: Path) -> None:
    code = main(["--quiet", "benchmark", "ped2", "--quick", "--data-dir", str(fake_ped2_data),
                 "--out", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "ped2_ped2-cpu_seed0_quick.json").read_text())
    window = record["settings"]["config"]["temporal_smoothing"]
    assert window == 7
    with (tmp_path / "ped2_ped2-cpu_seed0_quick_scores.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 2 * 48 + 18
    for row in record["rows"]:
        if row["protocol"] == "gong2019":
            lines = [r for r in table if r["mode"] == "gong2019"]
            clips = sorted({r["clip"] for r in lines})
            assert [int(r["frame"]) for r in lines if r["clip"] == clips[0]] == list(range(8, 17))
            raw = [np.array([float(r["score"]) for r in lines if r["clip"] == c]) for c in clips]
            labels = [np.array([r["label"] == "1" for r in lines if r["clip"] == c])
                      for c in clips]
            assert frame_auc(raw, labels) == pytest.approx(row["frame_auc"], abs=1e-12)
            assert "frame_auc_unsmoothed" not in row
            continue
        lines = [r for r in table if r["mode"] == row["mode"]]
        clips = sorted({r["clip"] for r in lines})
        assert len(clips) == 2
        raw = [np.array([float(r["score"]) for r in lines if r["clip"] == c]) for c in clips]
        labels = [np.array([r["label"] == "1" for r in lines if r["clip"] == c]) for c in clips]
        assert [int(r["frame"]) for r in lines if r["clip"] == clips[0]] == list(range(24))
        assert sum(y.sum() for y in labels) > 0
        assert frame_auc(raw, labels) == pytest.approx(row["frame_auc_unsmoothed"], abs=1e-12)
        smoothed = [moving_average(s, window) for s in raw]
        assert frame_auc(smoothed, labels) == pytest.approx(row["frame_auc"], abs=1e-12)


def test_config_names() -> None:
    name, detector = resolve_config(None, 0, False)
    assert name == "cpu" and detector.config == preset_config("ped2-cpu")
    name, detector = resolve_config("paper-nonspar", 3, False)
    config = detector.config
    assert name == "paper-nonspar" and config.random_state == 3
    assert config.shrink_threshold == 0.0 and config.entropy_weight == 0.0
    assert config == preset_config("ped2-paper").replace(
        random_state=3, **variant_params("MemAE-nonSpar"))
    assert resolve_config("cpu-ae", 0, False)[1].config.memory is False
    quick = resolve_config("cpu", 1, True)[1].config
    assert (quick.epochs, quick.max_steps, quick.random_state) == (1, 2, 1)
    with pytest.raises(ValueError, match="--config: got 'gpu'"):
        resolve_config("gpu", 0, False)
    with pytest.raises(ValueError, match="--config: got 'cpu-sparse'"):
        resolve_config("cpu-sparse", 0, False)
    assert resolve_config("ped2-cpu-ae", 0, False)[0] == "cpu-ae"
    assert resolve_config("ped2-paper", 0, False)[1].config == resolve_config("paper", 0,
                                                                             False)[1].config


def test_jobs_are_refused_with_what_to_do(fake_ped2_data: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--quiet", "benchmark", "ped2", "--quick", "--jobs", "2",
                 "--data-dir", str(fake_ped2_data), "--out", str(tmp_path)])
    assert code == 2 and "one command per seed side by side" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    code = main(["--quiet", "benchmark", "kdd99", "--jobs", "0", "--out", str(tmp_path)])
    assert code == 2 and "jobs must be an integer >= 1" in capsys.readouterr().err


@pytest.fixture(scope="module")
def long_ped2_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four 90-frame training clips (the validation protocol holds out the last two)."""
    return write_fake_ped2(tmp_path_factory.mktemp("long"), 4, 1, 90, seed=5)


@pytest.mark.slow
def test_validation_scores_planted_events_in_held_out_training_clips(
        long_ped2_data: Path, tmp_path: Path) -> None:
    code = main(["--quiet", "benchmark", "ped2", "--quick", "--config", "cpu,validation",
                 "--data-dir", str(long_ped2_data), "--out", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "ped2_ped2-cpu_validation_seed0_quick.json").read_text())
    assert record["settings"]["validation_clips"] == ["03", "04"]
    assert [(r["protocol"], r["kind"]) for r in record["rows"]] == [
        ("per-frame", "faint_object"), ("per-frame", "slow_object"),
        ("gong2019", "faint_object"), ("gong2019", "slow_object")]
    summary = record["summary"]
    assert summary["validation_auc"] == pytest.approx(
        np.mean([r["frame_auc"] for r in record["rows"]]))
    assert 0 <= summary["validation_auc_gong2019"] <= 1
    result = type("R", (), {"summary": summary})
    assert validation_metrics(result)["frame AUC"] == summary["validation_auc"]


def test_validation_mode_is_checked(fake_ped2_data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet", "benchmark", "ped2", "--quick", "--config", "cpu,csv",
                 "--data-dir", str(fake_ped2_data), "--out", str(tmp_path)]) == 2
    assert "unknown mode(s) ['csv']" in capsys.readouterr().err
    assert main(["--quiet", "benchmark", "ped2", "--quick", "--config", "cpu,validation",
                 "--data-dir", str(fake_ped2_data), "--out", str(tmp_path)]) == 2
    assert "more than 2 training clips" in capsys.readouterr().err
