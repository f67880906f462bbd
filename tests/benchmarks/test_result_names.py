"""Result files are named by benchmark, preset, modes and seeds; runs never overwrite another's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from memae.benchmarks import kdd99
from memae.benchmarks.base import (
    BenchmarkOptions,
    BenchmarkResult,
    result_stem,
    seeds_label,
    write_result,
)
from memae.cli import build_parser, main

TOY = {"kind": "tabular", "description": "a small net for 6 features",
       "detector": {"model": "mlp", "model_params": {"hidden": [16], "latent_dim": 2},
                    "memory_size": 10, "epochs": 2, "batch_size": 64, "standardize": False,
                    "validation_fraction": 0.0, "patience": None}}


def blobs() -> tuple[np.ndarray, np.ndarray]:
    """400 rows on a 2-D plane in 6-D (label 0) and 100 rows off it (label 1)."""
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) * 0.3
    X = np.concatenate([plane, rng.normal(size=(100, 6)) * 1.5]).astype(np.float32)
    return X, np.repeat([0, 1], [400, 100])


@pytest.mark.parametrize(("seeds", "label"), [
    ((0,), "seed0"), (tuple(range(20)), "seeds0-19"), ((5, 0, 1, 2), "seeds0-2+5"),
    ((3, 1), "seeds1+3"), ((7, 7), "seed7")])
def test_seeds_label(seeds: tuple[int, ...], label: str) -> None:
    assert seeds_label(seeds) == label


def test_result_stem_sorts_modes_and_marks_quick() -> None:
    assert result_stem("kdd99", "kdd99", range(20)) == "kdd99_kdd99_seeds0-19"
    assert result_stem("kdd99", "kdd99", (0, 1), ("validation", "csv")) == \
        "kdd99_kdd99_csv_validation_seeds0-1"
    assert result_stem("ped2", "ped2-cpu", (0,), ("ae",), quick=True) == \
        "ped2_ped2-cpu_ae_seed0_quick"
    assert result_stem("ped2", "model-run", ()) == "ped2_model-run"


def test_distinct_configurations_write_distinct_files(tmp_path: Path) -> None:
    options = BenchmarkOptions(out_dir=tmp_path)
    written = []
    for preset, seeds, modes in [("odds", (0, 1, 2, 3, 4), ()), ("odds", (0,), ()),
                                 ("tabular", (0, 1, 2, 3, 4), ()),
                                 ("odds", (0, 1, 2, 3, 4), ("validation",))]:
        result = BenchmarkResult("odds", [], {"preset": preset}, "| a |", 1.0, {}, preset,
                                 seeds, modes)
        written += write_result(result, options)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert {p.stem for p in written} == {"odds_odds_seeds0-4", "odds_odds_seed0",
                                         "odds_tabular_seeds0-4",
                                         "odds_odds_validation_seeds0-4"}
    record = json.loads((tmp_path / "odds_tabular_seeds0-4.json").read_text())
    assert record["summary"] == {"preset": "tabular"} and record["seeds"] == [0, 1, 2, 3, 4]
    assert (tmp_path / "odds_odds_seed0.md").read_text().startswith("# odds\n\n| a |")


def test_benchmark_runs_write_to_runs_by_default() -> None:
    assert build_parser().parse_args(["benchmark", "kdd99"]).out == Path("runs")


def test_kdd99_runs_of_two_presets_and_seeds_keep_both_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kdd99, "load_kdd", lambda options, raw_csv: blobs())
    preset = tmp_path / "toy.yaml"
    preset.write_text(yaml.safe_dump(TOY))
    wide = tmp_path / "toy-wide.yaml"
    wide.write_text(yaml.safe_dump({**TOY, "detector": {**TOY["detector"], "memory_size": 20}}))
    out = tmp_path / "out"
    for config, seeds in [(f"{preset},validation", ["0", "1"]), (str(preset), ["0", "1"]),
                          (f"{wide},validation", ["0", "1"]), (f"{preset},validation", ["2"])]:
        assert main(["--quiet", "benchmark", "kdd99", "--config", config, "--seeds", *seeds,
                     "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.json")) == [
        "kdd99_toy-wide_validation_seeds0-1.json", "kdd99_toy_seeds0-1.json",
        "kdd99_toy_validation_seed2.json", "kdd99_toy_validation_seeds0-1.json"]
    record = json.loads((out / "kdd99_toy-wide_validation_seeds0-1.json").read_text())
    assert record["settings"]["preset"]["detector"]["memory_size"] == 20
    assert record["preset"] == "toy-wide" and record["modes"] == ["validation"]


def test_a_preset_for_another_protocol_is_refused(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    preset = tmp_path / "mine.yaml"
    preset.write_text(yaml.safe_dump({**TOY, "benchmark": {"protocol": "odds"}}))
    assert main(["--quiet", "benchmark", "kdd99", "--config", str(preset),
                 "--out", str(tmp_path)]) == 2
    assert "sets benchmark.protocol: odds, not kdd99; run it with `memae benchmark odds`" \
        in capsys.readouterr().err
