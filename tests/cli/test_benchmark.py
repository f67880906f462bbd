"""``memae benchmark``: seeds checked before anything runs; kdd99 --quick on the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memae.cli import main
from tests.benchmarks.conftest import require


@pytest.mark.slow
@pytest.mark.real_data
def test_kdd99_quick_through_the_command_line(data_root: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    require(data_root, "kddcup99/kdd_cup.npz")
    code = main(["benchmark", "kdd99", "--quick", "--out", str(tmp_path),
                 "--data-dir", str(data_root), "--jobs", "2"])
    assert code == 0
    record = json.loads((tmp_path / "kdd99_kdd99_seed0_quick.json").read_text())
    f1 = record["summary"]["variants"]["MemAE"]["f1"]["mean"]
    assert f1 >= 0.85, record["summary"]
    assert record["options"]["quick"] is True and record["seconds"] > 0
    assert record["options"]["jobs"] == 2 and len(record["rows"]) == 3
    assert "| MemAE |" in (tmp_path / "kdd99_kdd99_seed0_quick.md").read_text()
    assert "wall time" in capsys.readouterr().out


def test_negative_seed_is_refused(capsys) -> None:
    assert main(["benchmark", "odds", "--seeds", "-1"]) == 2
    assert "--seeds must be integers >= 0" in capsys.readouterr().err
