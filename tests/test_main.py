"""``python -m memae``: the command line, from any working directory."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import memae


@pytest.mark.slow
def test_python_dash_m_memae_runs_the_command_line(tmp_path: Path) -> None:
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


def test_running_the_package_runs_the_command_line(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["memae"])  # no command: help, exit code 2
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("memae", run_name="__main__")
    assert exited.value.code == 2
    assert "usage: memae" in capsys.readouterr().out
