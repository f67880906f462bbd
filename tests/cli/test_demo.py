"""``memae demo``: the digits table, quiet runs, the memory's edge, and bad arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memae.cli import main


@pytest.mark.slow
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


@pytest.mark.slow
def test_demo_memory_beats_the_plain_autoencoder_where_it_over_generalises(tmp_path) -> None:
    # Digits 5 and 9 (seed 0): the over-complete AE rebuilds other digits well
    # (test AUC 0.875 and 0.644 in the README's table); the memory should not.
    out = tmp_path / "demo.json"
    assert main(["--quiet", "demo", "--digits", "5", "9", "--json", str(out)]) == 0
    auc = json.loads(out.read_text())["auc"]
    assert np.mean(auc["MemAE"]) > np.mean(auc["AE"]) + 0.03


def test_bad_arguments_are_refused_before_any_training(tmp_path, capsys) -> None:
    (tmp_path / "folder").mkdir()
    assert main(["--quiet", "demo", "--digits", "0", "--json", str(tmp_path / "folder")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("memae: error: --json") and captured.err.count("\n") == 1
    assert captured.out == ""  # refused before the table: nothing trained
    with pytest.raises(SystemExit) as exited:  # argparse: digits are 0-9
        main(["demo", "--digits", "10"])
    assert exited.value.code == 2 and "invalid choice: 10" in capsys.readouterr().err
