"""benchmarks/ped2_seed_summary.py: mean ± std over per-seed Ped2 result files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ped2_seed_summary.py"


def _result(path: Path, sliding: float, fast: float, unsmoothed: float | None) -> Path:
    rows = []
    for mode, auc in (("sliding", sliding), ("fast", fast)):
        row = {"mode": mode, "frame_auc": auc, "pixel_auc": 0.95}
        if unsmoothed is not None:
            row["frame_auc_unsmoothed"] = unsmoothed
        rows.append(row)
    path.write_text(json.dumps({"name": "ped2", "rows": rows}), encoding="utf-8")
    return path


def _run(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, files)],
                          capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_prints_each_seed_and_population_mean_std(tmp_path: Path) -> None:
    a = _result(tmp_path / "seed0.json", 0.90, 0.80, 0.85)
    b = _result(tmp_path / "seed1.json", 0.92, 0.84, None)
    done = _run(a, b)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "| sliding | frame_auc | 0.9000 | 0.9200 | 0.9100 ± 0.0100 (n=2) |" in lines
    assert "| fast | frame_auc | 0.8000 | 0.8400 | 0.8200 ± 0.0200 (n=2) |" in lines
    # a run without the unsmoothed AUC is shown as n/a and left out of the mean
    assert "| sliding | frame_auc_unsmoothed | 0.8500 | n/a | 0.8500 ± 0.0000 (n=1) |" in lines


@pytest.mark.slow
def test_refuses_a_file_that_is_not_a_ped2_result(tmp_path: Path) -> None:
    other = tmp_path / "kdd99.json"
    other.write_text(json.dumps({"name": "kdd99", "rows": []}), encoding="utf-8")
    done = _run(other)
    assert done.returncode != 0
    assert "not a `memae benchmark ped2` result" in done.stderr
    assert "Traceback" not in done.stderr
