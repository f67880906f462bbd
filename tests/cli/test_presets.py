"""``memae presets``: the packaged presets listed, one printed as its YAML file."""

from __future__ import annotations

from pathlib import Path

import yaml

from memae.cli import main
from memae.presets import PRESET_DIR, list_presets, load_preset
from tests.test_presets import GOOD, write


def test_presets_command_lists_and_prints(tmp_path: Path, capsys) -> None:
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list_presets()
    odds = next(line for line in lines if line.startswith("odds "))
    assert odds.split()[1] == "tabular" and load_preset("odds").description in odds
    assert main(["presets", "kdd99"]) == 0
    printed = capsys.readouterr().out
    assert printed == (PRESET_DIR / "kdd99.yaml").read_text()
    assert yaml.safe_load(printed)["detector"]["memory_size"] == 2000
    assert main(["presets", str(write(tmp_path, GOOD))]) == 0
    assert capsys.readouterr().out == GOOD
    assert main(["presets", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
