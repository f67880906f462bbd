"""The benchmark registry, and the JSON and Markdown files a result is written to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memae
from memae.benchmarks import (
    BENCHMARK_MODULES,
    BenchmarkOptions,
    BenchmarkResult,
    BenchmarkSpec,
    get_benchmark,
    list_benchmarks,
    register_benchmark,
    write_result,
)
from memae.benchmarks.base import markdown_table, mean_std


def test_every_benchmark_module_registers_its_benchmark() -> None:
    assert list_benchmarks() == sorted(BENCHMARK_MODULES)
    for name in BENCHMARK_MODULES:
        spec = get_benchmark(name)
        assert spec.name == name and spec.description and callable(spec.run)


def test_unknown_names_list_the_known_ones_and_names_are_unique() -> None:
    with pytest.raises(ValueError, match=r"unknown benchmark 'mnist2'; known: cifar10, kdd99, "
                                         r"mnist, odds, ped2\."):
        get_benchmark("mnist2")
    with pytest.raises(ValueError, match="a benchmark named 'odds' is already registered"):
        register_benchmark(BenchmarkSpec("odds", "again", get_benchmark("odds").run))


def test_write_result_stores_the_record_and_the_table(tmp_path: Path) -> None:
    result = BenchmarkResult(name="toy", rows=[{"variant": "MemAE", "roc_auc": 0.75}],
                             summary={"mean": 0.75}, markdown="| a |\n|---|", seconds=12.34,
                             settings={"epochs": 3})
    options = BenchmarkOptions(out_dir=tmp_path, quick=True, seeds=(0, 1))
    json_path, md_path = write_result(result, options)
    assert (json_path.name, md_path.name) == ("toy_quick.json", "toy_quick.md")
    record = json.loads(json_path.read_text())
    assert record["rows"] == result.rows and record["summary"] == {"mean": 0.75}
    assert record["settings"] == {"epochs": 3} and record["seconds"] == 12.34
    assert record["options"]["out_dir"] == str(tmp_path) and record["options"]["seeds"] == [0, 1]
    assert record["options"]["model"] is None and record["machine"]["memae"] == memae.__version__
    assert md_path.read_text() == "# toy\n\n| a |\n|---|\n\nWall time: 12.3 s\n"
    full = write_result(result, BenchmarkOptions(out_dir=tmp_path))
    assert [p.name for p in full] == ["toy.json", "toy.md"]


def test_mean_std_and_markdown_table() -> None:
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
    assert mean_std([0.5]) == (0.5, 0.0)
    table = markdown_table(["a", "b"], [["x", 0.123456], ["y", "-"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x | 0.1235 |", "| y | - |"]
