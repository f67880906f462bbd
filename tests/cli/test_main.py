"""The command line: version, demo, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import memae
from memae.cli import main


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"memae {memae.__version__}"


def test_console_script_is_installed() -> None:
    done = subprocess.run([sys.executable, "-m", "memae.cli", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("memae ")


def test_demo_on_one_digit(capsys, tmp_path) -> None:
    out = tmp_path / "demo.json"
    assert main(["demo", "--digits", "0", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "| 0 |" in printed and "mean ROC-AUC" in printed
    # Progress goes to stderr and changes no number: a quiet run prints the same.
    assert "2 fits" in captured.err and "demo: digit 0 normal" in captured.err
    assert main(["--quiet", "demo", "--digits", "0"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.split("(")[0] == printed.split("(")[0]
    record = json.loads(out.read_text())
    assert set(record["auc"]) == {"AE", "MemAE"}
    assert record["auc"]["MemAE"][0] > 0.95   # digit 0 is easy: a floor, not a formality


def test_demo_memory_beats_the_plain_autoencoder_where_it_over_generalises(tmp_path) -> None:
    # Digits 5 and 9 (seed 0): the over-complete AE rebuilds other digits well
    # (test AUC 0.875 and 0.644 in the README's table); the memory should not.
    out = tmp_path / "demo.json"
    assert main(["--quiet", "demo", "--digits", "5", "9", "--json", str(out)]) == 0
    auc = json.loads(out.read_text())["auc"]
    assert np.mean(auc["MemAE"]) > np.mean(auc["AE"]) + 0.03


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


def test_negative_seed_is_refused(capsys) -> None:
    assert main(["benchmark", "odds", "--seeds", "-1"]) == 2
    assert "--seeds must be integers >= 0" in capsys.readouterr().err
