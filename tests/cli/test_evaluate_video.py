"""``memae evaluate-video``: a saved model rescored under both protocols, no retraining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memae.cli import main


@pytest.fixture(scope="module")
def trained(fake_ped2_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A quick ped2-cpu model of the benchmark and the benchmark's record of it."""
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quiet", "benchmark", "ped2", "--quick", "--data-dir", str(fake_ped2_data),
                 "--out", str(out)]) == 0
    record = json.loads((out / "ped2_ped2-cpu_seed0_quick.json").read_text())
    return out / "ped2_ped2-cpu_seed0_quick.safetensors", record


def test_rescoring_reproduces_the_benchmarks_aucs(fake_ped2_data: Path, trained: tuple,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    model, record = trained
    out = tmp_path / "eval.json"
    assert main(["--quiet", "evaluate-video", str(model), "--data-dir", str(fake_ped2_data),
                 "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["protocol"], r["mode"]) for r in rows] == [
        ("per-frame", "sliding"), ("per-frame", "fast"), ("gong2019", "gong2019")]
    for row, expected in zip(rows, record["rows"], strict=True):
        assert row["n_frames"] == expected["n_frames"]
        assert row["frame_auc"] == pytest.approx(expected["frame_auc"], abs=1e-12)
    printed = capsys.readouterr().out
    assert "| gong2019 | gong2019 | 18 |" in printed


def test_one_protocol_only(fake_ped2_data: Path, trained: tuple, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert main(["--quiet", "evaluate-video", str(trained[0]), "--protocol", "gong2019",
                 "--data-dir", str(fake_ped2_data), "--out", str(out)]) == 0
    assert [r["mode"] for r in json.loads(out.read_text())["rows"]] == ["gong2019"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--threads", "0"], "--threads must be >= 1, got 0"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
])
def test_bad_options_are_refused(fake_ped2_data: Path, trained: tuple, extra: list[str],
                                 message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate-video", str(trained[0]), "--data-dir", str(fake_ped2_data),
                 *extra]) == 2
    assert message in capsys.readouterr().err


def test_missing_data_names_the_option(trained: tuple, tmp_path: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate-video", str(trained[0]), "--data-dir", str(tmp_path)]) == 2
    assert "--data-dir: UCSD Ped2 not found" in capsys.readouterr().err
