"""Run configuration: precedence, unknown keys, file formats and encodings, the sections."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from memae import MemAEDetector
from memae.config import (
    DetectorConfig,
    RunConfig,
    VideoDetectorConfig,
    load_config_file,
    parse_assignment,
    resolve_config,
)
from memae.video.config import VideoConfig


def test_precedence_defaults_then_file_then_flags_then_set(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("detector:\n  epochs: 7\n  batch_size: 16\n  learning_rate: 0.01\n"
                    "data:\n  color: rgb\n")
    config = resolve_config(load_config_file(path), [
        {"detector": {"batch_size": 8, "learning_rate": 0.02}},
        parse_assignment("detector.learning_rate=0.5"),
    ])
    assert config.detector.epochs == 7            # file over default ("auto")
    assert config.detector.batch_size == 8        # flag over file
    assert config.detector.learning_rate == 0.5   # --set over flag
    assert config.data.color == "rgb"
    assert config.detector.patience == "auto"     # untouched default (the kind's preset's)
    assert config.detector.random_state == 0


def test_json_and_yaml_give_the_same_config(tmp_path: Path) -> None:
    values = {"detector": {"model": "mlp", "model_params": {"hidden": [8, 4]}},
              "data": {"ignore_cols": ["id"]}, "threads": 2}
    (tmp_path / "a.json").write_text(json.dumps(values))
    (tmp_path / "a.yml").write_text("detector:\n  model: mlp\n  model_params: {hidden: [8, 4]}\n"
                                    "data:\n  ignore_cols: [id]\nthreads: 2\n")
    from_json = resolve_config(load_config_file(tmp_path / "a.json"))
    assert from_json == resolve_config(load_config_file(tmp_path / "a.yml"))
    assert from_json.detector.model_params == {"hidden": [8, 4]}


def test_nested_overrides_merge_key_by_key() -> None:
    config = resolve_config({"detector": {"model_params": {"hidden": [8], "latent_dim": 2}}},
                            [parse_assignment("detector.model_params.latent_dim=3")])
    assert config.detector.model_params == {"hidden": [8], "latent_dim": 3}


@pytest.mark.parametrize(("values", "key"), [
    ({"detector": {"epoch": 5}}, "detector.epoch"),
    ({"dataa": {}}, "dataa"),
    ({"data": {"label": "y"}}, "data.label"),
])
def test_unknown_key_is_named(values: dict, key: str) -> None:
    with pytest.raises(ValueError, match=f"unknown configuration key '{key}'"):
        resolve_config(values)


def test_unknown_key_in_a_flag_layer_is_named() -> None:
    with pytest.raises(ValueError, match="'detector.epocs'"):
        resolve_config({}, [parse_assignment("detector.epocs=3")])


@pytest.mark.parametrize(("values", "match"), [
    ({"data": {"format": "parquet"}}, "data.format"),
    ({"data": {"image_size": [28]}}, "data.image_size"),
    ({"data": {"ignore_cols": "id"}}, "data.ignore_cols"),
    ({"threads": 0}, "threads"),
    ({"detector": 5}, "detector must be a mapping"),
])
def test_bad_values_name_the_key(values: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        resolve_config(values)


def test_bad_files(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("detector: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config_file(tmp_path / "bad.yaml")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="mapping at the top level"):
        load_config_file(tmp_path / "list.json")
    (tmp_path / "run.toml").write_text("a = 1")
    with pytest.raises(ValueError, match=".yaml, .yml or .json"):
        load_config_file(tmp_path / "run.toml")
    with pytest.raises(FileNotFoundError, match="--config"):
        load_config_file(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_assignment("detector.epochs")


def test_saved_config_resolves_to_itself(tmp_path: Path) -> None:
    config = resolve_config({"detector": {"model_params": {"hidden": [8, 4]}, "epochs": 3},
                             "data": {"image_size": [16, 12]}})
    again = resolve_config(load_config_file(config.save(tmp_path / "config.yaml")))
    assert again == config
    assert RunConfig().to_dict() == resolve_config().to_dict()


def test_detector_config_mirrors_the_detector_parameters() -> None:
    params = MemAEDetector().get_params()
    ours = {f.name: f.default for f in dataclasses.fields(DetectorConfig)}
    assert set(ours) == set(params) - {"verbose"}  # --quiet decides verbose
    differing = {k for k in ours if ours[k] != params[k]}
    assert differing == {"random_state"}  # runs are reproducible by default


def test_video_detector_section_has_the_video_settings_and_defaults() -> None:
    section = dataclasses.asdict(VideoDetectorConfig())
    assert section == {**VideoConfig().to_dict(), "device": "auto", "score_batch_size": 16}
    config = resolve_config({"kind": "video", "detector": {"epochs": 2}})
    assert isinstance(config.detector, VideoDetectorConfig) and config.detector.epochs == 2


def test_config_floats_duplicates_and_encodings(tmp_path: Path) -> None:
    assert parse_assignment("detector.learning_rate=1e-3") == {
        "detector": {"learning_rate": 0.001}}
    config = tmp_path / "run.yaml"
    config.write_text("detector:\n  learning_rate: 5E-4\n  epochs: 3\n")
    assert resolve_config(load_config_file(config)).detector.learning_rate == 5e-4
    config.write_text("detector:\n  epochs: 1\n  epochs: 500\n")
    with pytest.raises(ValueError, match="duplicate key 'epochs'"):
        load_config_file(config)
    as_json = tmp_path / "run.json"
    as_json.write_text('{"detector": {"epochs": 1, "epochs": 500}}')
    with pytest.raises(ValueError, match="duplicate key 'epochs'"):
        load_config_file(as_json)
    config.write_text("detector:\n  epochs: 2\n", encoding="utf-16")
    with pytest.raises(ValueError, match=r"run\.yaml.*not UTF-8.*save it as UTF-8"):
        load_config_file(config)
    config.write_text("\ufeffdetector:\n  epochs: 2\n", encoding="utf-8")
    assert load_config_file(config) == {"detector": {"epochs": 2}}
