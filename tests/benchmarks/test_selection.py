"""`memae select`: grid files, grid points as presets, the protocol rule, the refusal of test."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from memae.benchmarks import base, kdd99, selection
from memae.benchmarks.base import BenchmarkResult, BenchmarkSpec
from memae.benchmarks.selection import (
    check_split,
    load_grid,
    parse_grid,
    point_preset,
    run_selection,
    selection_spec,
)
from memae.cli import main
from memae.presets import Preset, load_preset

TOY = {"kind": "tabular", "description": "a small net for 6 features",
       "detector": {"model": "mlp", "model_params": {"hidden": [16], "latent_dim": 2},
                    "memory_size": 10, "epochs": 3, "batch_size": 64, "standardize": False,
                    "validation_fraction": 0.0, "patience": None}}
GRID_FILES = Path(__file__).resolve().parents[2] / "docs" / "experiments" / "grids"


def blobs() -> tuple[np.ndarray, np.ndarray]:
    """400 rows on a 2-D plane in 6-D (label 0) and 100 rows off it (label 1)."""
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) * 0.3
    X = np.concatenate([plane, rng.normal(size=(100, 6)) * 1.5]).astype(np.float32)
    return X, np.repeat([0, 1], [400, 100])


def write_yaml(path: Path, values: object) -> Path:
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def select_command(tmp_path: Path, preset: str, grid: str, values: dict[str, list[object]],
                   seeds: list[str]) -> tuple[list[str], Path]:
    """`memae select` over the toy preset named ``preset`` and a grid file ``grid``."""
    out = tmp_path / "out"
    return (["--quiet", "select", "--preset", str(write_yaml(tmp_path / f"{preset}.yaml", TOY)),
             "--grid", str(write_yaml(tmp_path / f"{grid}.yaml", values)), "--on",
             "validation", "--seeds", *seeds, "--out", str(out)], out)


def table_rows(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.startswith("| ")]


def test_points_are_the_cartesian_product_in_file_order() -> None:
    grid = parse_grid({"memory_size": [500, 2000], "model_params.temperature": [0.02, 0.05]})
    assert grid.points() == [
        {"memory_size": 500, "model_params.temperature": 0.02},
        {"memory_size": 500, "model_params.temperature": 0.05},
        {"memory_size": 2000, "model_params.temperature": 0.02},
        {"memory_size": 2000, "model_params.temperature": 0.05}]
    assert grid.fields == ["memory_size", "model_params.temperature"]


def test_a_list_of_mappings_is_the_union_of_their_products() -> None:
    grid = parse_grid([{"epochs": [2, 8]}, {"input_transform": ["none"], "memory_size": [50]}])
    assert grid.points() == [{"epochs": 2}, {"epochs": 8},
                             {"input_transform": "none", "memory_size": 50}]
    assert grid.fields == ["epochs", "input_transform", "memory_size"]


@pytest.mark.parametrize(("values", "message"), [
    ({}, "must map preset fields to lists of values"),
    ([], "the grid is empty"),
    ({"epochs": 4}, "epochs must be a non-empty list of values, got 4; write e.g. epochs: "
                    r"\[4\]"),
    ({"epochs": []}, "epochs must be a non-empty list"),
    ([{"epochs": [2]}, "memory_size"], "entry 2: must map preset fields"),
])
def test_grid_shape_errors(values: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_grid(values)


def test_grid_file_lists_inside_model_params_become_tuples(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "wide.yaml", {"model_params.hidden": [[128, 64]],
                                                "model_params": [{"latent_dim": 8,
                                                                  "hidden": [32]}]})
    grid = load_grid(path)
    assert grid.name == "wide" and grid.path == path
    assert grid.points() == [{"model_params.hidden": (128, 64),
                              "model_params": {"latent_dim": 8, "hidden": (32,)}}]


def test_nested_keys_change_one_model_parameter() -> None:
    kdd = load_preset("kdd99")
    point = point_preset(kdd, {"memory_size": 500, "model_params.temperature": 0.05})
    assert point.detector["memory_size"] == 500
    assert point.detector["model_params"] == {**kdd.detector["model_params"],
                                              "temperature": 0.05}
    assert kdd.detector["model_params"]["temperature"] == 0.02  # the preset is unchanged
    # A whole model_params first, then the nested key on top of it.
    point = point_preset(kdd, {"model_params": {}, "model_params.latent_dim": 8})
    assert point.detector["model_params"] == {"latent_dim": 8}
    point = point_preset(kdd, {"input_transform": "none", "max_steps": 50})
    assert point.settings.input_transform == "none" and point.settings.max_steps == 50


def test_an_unknown_field_names_it_and_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown field 'memroy_size'; a grid over a "
                       r"tabular preset changes \[.*'input_transform'.*'memory_size'.*\], "
                       r"detector.<name> \(a detector parameter\) or model_params.<key>.*"
                       r"Did you mean 'memory_size'\?"):
        point_preset(load_preset("kdd99"), {"memroy_size": 500})
    for name in ("random_state", "protocol", "quick", "model_params.a.b", "detector.random_state",
                 "detector.quick"):
        with pytest.raises(ValueError, match=f"unknown field '{re.escape(name)}'"):
            point_preset(load_preset("kdd99"), {name: 1})


def test_each_point_is_checked_as_a_preset_and_as_a_model() -> None:
    kdd = load_preset("kdd99")
    with pytest.raises(ValueError, match=r"point \{'memory_size': -1\}: .*memory_size"):
        point_preset(kdd, {"memory_size": -1})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['temprature'\] for model "
                       r"'mlp_kdd99'; valid options: \[.*'temperature'"):
        point_preset(kdd, {"model_params.temprature": 0.05})
    with pytest.raises(ValueError, match="benchmark.n_estimators must be an int >= 1"):
        point_preset(kdd, {"n_estimators": 0})


def test_the_protocol_is_benchmark_protocol_else_the_name_before_the_first_dash(
        tmp_path: Path) -> None:
    assert load_preset("cifar10-paper").protocol == "cifar10"
    assert load_preset("kdd99").protocol == "kdd99"
    assert selection_spec(load_preset("cifar10-paper")).name == "cifar10"
    mine = load_preset(write_yaml(tmp_path / "wide.yaml",
                                  {**TOY, "benchmark": {"protocol": "odds"}}))
    assert mine.protocol == "odds" and selection_spec(mine).name == "odds"
    with pytest.raises(ValueError, match="benchmark.protocol must be a benchmark name"):
        Preset("x", "tabular", "x", {}, {"protocol": 3})


def test_presets_without_a_validation_protocol_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert selection_spec(load_preset("ped2-cpu")).name == "ped2"
    with pytest.raises(ValueError, match="preset 'tabular' is for protocol 'tabular'.*which "
                       r"is no benchmark; pass --protocol with one of \['cifar10', 'kdd99', "
                       r"'mnist', 'odds', 'ped2'\]"):
        selection_spec(load_preset("tabular"))
    spec = base.get_benchmark("ped2")
    monkeypatch.setitem(base._BENCHMARKS, "ped2",
                        dataclasses.replace(spec, validation_metrics=None))
    with pytest.raises(ValueError, match="benchmark ped2 has no validation protocol: its "
                       "only labelled anomalies are in the test split"):
        selection_spec(load_preset("ped2-cpu"))


def test_detector_fields_set_the_estimator_parameter_a_benchmark_setting_shares() -> None:
    tabular = load_preset("tabular")
    capped = point_preset(tabular, {"detector.max_steps": 300, "max_steps": 50})
    assert capped.detector["max_steps"] == 300 and capped.settings.max_steps == 50
    assert selection._value(capped, "detector.max_steps") == 300
    assert selection._value(tabular, "detector.max_steps") is None  # the estimator's default
    with pytest.raises(ValueError, match=r"unknown field 'detector.max_step'.*detector.<name> "
                       r"\(a detector parameter\)"):
        point_preset(tabular, {"detector.max_step": 300})
    assert selection_spec(tabular.with_(protocol="odds")).name == "odds"


def test_a_protocol_argument_scores_a_preset_on_another_benchmark(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(kdd99, "load_kdd", lambda options, raw_csv: blobs())
    args, out = select_command(tmp_path, "defaults", "steps",
                               {"detector.max_steps": [2, 5]}, ["0"])
    assert main(args) == 2
    assert "pass --protocol with one of" in capsys.readouterr().err
    assert main([*args, "--protocol", "kdd99"]) == 0
    table = table_rows(capsys.readouterr().out)
    assert table[0] == "| point | detector.max_steps | F1 | ROC-AUC |"
    assert [row.split(" | ")[1] for row in table[1:]] == ["auto", "2", "5"]
    saved = json.loads((out / "select_defaults_kdd99_steps_seed0.json").read_text())
    assert saved["protocol"] == "kdd99"
    assert [r["seconds"] > 0 for r in saved["rows"]] == [True, True, True]
    assert [r["same_as"] for r in saved["rows"]] == [None, None, None]  # three trainings


def test_selecting_on_test_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    with pytest.raises(ValueError, match="a selection never looks at test labels"):
        check_split("test")
    grid = write_yaml(tmp_path / "grid.yaml", {"memory_size": [500]})
    code = main(["select", "--preset", "kdd99", "--grid", str(grid), "--on", "test",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--on must be validation, got 'test'; a selection never looks at test labels" in err
    assert "`memae benchmark NAME --config PRESET`" in err
    assert not (tmp_path / "out").exists()


def test_quick_applies_the_preset_quick_changes_before_each_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def run(options):  # records what each point trains; the metric is its epochs
        seen.append(options)
        epochs = options.preset.detector["epochs"]
        return BenchmarkResult("fake", [], {"epochs": epochs}, "", 0.0, seeds=(0,))

    spec = BenchmarkSpec("fake", "", run, lambda r: {"epochs": float(r.summary["epochs"])})
    monkeypatch.setattr(selection, "selection_spec", lambda preset: spec)
    preset = Preset("fake", "tabular", "x", {"epochs": 40, "batch_size": 64},
                    {"quick": {"epochs": 3, "batch_size": 8}})
    result = run_selection(preset, parse_grid({"epochs": [3, 5]}), quick=True)
    assert [r.metrics["epochs"] for r in result.rows] == [3.0, 3.0, 5.0]
    assert [r.label for r in result.rows] == ["preset", "1 (= preset)", "2"]
    assert len(seen) == 2  # the point equal to the preset is not trained again
    assert all(o.quick and o.config == "validation" and o.variants == ("MemAE",)
               and o.preset.detector["batch_size"] == 8 and o.preset.settings.quick == {}
               for o in seen)
    assert result.stem == "select_fake_grid_seed0_quick"


def test_select_prints_the_numbers_of_the_benchmark_validation_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(kdd99, "load_kdd", lambda options, raw_csv: blobs())
    args, out = select_command(tmp_path, "kdd99-toy", "memory", {"memory_size": [10, 20]},
                               ["0", "1"])
    preset = tmp_path / "kdd99-toy.yaml"
    assert main(args) == 0
    printed = capsys.readouterr().out
    table = table_rows(printed)
    assert table[0] == "| point | memory_size | F1 | ROC-AUC |"
    cells = [line.strip("| ").split(" | ") for line in table[1:]]
    assert [c[:2] for c in cells] == [["preset", "10"], ["1 (= preset)", "10"], ["2", "20"]]
    assert "means over seeds [0, 1]" in printed

    # The same points through `memae benchmark kdd99 --config FILE,validation`.
    wide = write_yaml(tmp_path / "kdd99-wide.yaml",
                      {**TOY, "detector": {**TOY["detector"], "memory_size": 20}})
    direct = {}
    for name, path in (("10", preset), ("20", wide)):
        assert main(["--quiet", "benchmark", "kdd99", "--config", f"{path},validation",
                     "--seeds", "0", "1", "--out", str(tmp_path / "direct")]) == 0
        record = json.loads((tmp_path / "direct" / f"kdd99_{path.stem}_validation_seeds0-1"
                                                   ".json").read_text())
        direct[name] = record["summary"]["variants"]["MemAE"]
    for _, memory, f1, auc in cells:
        assert f1 == f"{direct[memory]['f1']['mean']:.4f}"
        assert auc == f"{direct[memory]['roc_auc']['mean']:.4f}"
    saved = json.loads((out / "select_kdd99-toy_memory_seeds0-1.json").read_text())
    assert [r["metrics"]["F1"] for r in saved["rows"]] == [
        direct[m]["f1"]["mean"] for m in ("10", "10", "20")]
    assert saved["on"] == "validation" and saved["protocol"] == "kdd99"
    assert (out / "select_kdd99-toy_memory_seeds0-1.md").read_text().startswith(
        "# select_kdd99-toy_memory_seeds0-1\n\n| point |")


def test_the_grid_files_build_their_presets_points() -> None:
    for path in sorted(GRID_FILES.glob("*.yaml")):
        # Each grid's comment gives the commands it was run with; their presets.
        commands = re.findall(r"memae select --preset (\S+)(?: --protocol (\S+))?",
                              path.read_text())
        assert commands, f"{path} names no `memae select --preset` command"
        points = load_grid(path).points()
        assert points, path
        for name, protocol in commands:
            preset = load_preset(name)
            if protocol:
                preset = preset.with_(protocol=protocol)
            for point in points:
                point_preset(preset, point, str(path))
            assert selection_spec(preset).name == (protocol or name)
