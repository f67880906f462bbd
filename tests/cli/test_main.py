"""The command line: version, ``python -m memae.cli``, one-line errors and exit codes."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest

import memae
from memae.cli import main


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"memae {memae.__version__}"


@pytest.mark.slow
def test_console_script_is_installed() -> None:
    done = subprocess.run([sys.executable, "-m", "memae.cli", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("memae ")


def test_running_the_cli_package_runs_the_command_line(monkeypatch: pytest.MonkeyPatch,
                                                       capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["memae", "benchmark", "no-such-benchmark"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("memae.cli", run_name="__main__")
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("memae: error: unknown benchmark")


def test_user_errors_are_one_line_and_exit_2(capsys) -> None:
    assert main(["benchmark", "no-such-benchmark"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memae: error: unknown benchmark 'no-such-benchmark'")
    assert "Traceback" not in err and err.count("\n") == 1


def test_debug_shows_the_exception() -> None:
    with pytest.raises(ValueError, match="unknown benchmark"):
        main(["--debug", "benchmark", "no-such-benchmark"])


def test_no_command_prints_help(capsys) -> None:
    assert main([]) == 2
    assert "usage: memae" in capsys.readouterr().out
