"""Presets: every packaged file builds its estimator; schema errors; `memae presets`, --preset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from memae import MemAEDetector, VideoDetector
from memae.config import DetectorConfig
from memae.detector import AUTO_MODELS, KIND_DEFAULTS, general_preset
from memae.presets import PRESET_DIR, BenchmarkSettings, Preset, list_presets, load_preset
from memae.video.config import VideoConfig

# A sample of each kind that every packaged preset of that kind can take.
SAMPLES = {"tabular": (8, 6), "images": (4, 3, 32, 32)}


@pytest.mark.parametrize("name", list_presets())
def test_every_packaged_preset_builds_its_estimator(name: str) -> None:
    preset = load_preset(name)
    assert preset.path == PRESET_DIR / f"{name}.yaml" and preset.source == name
    assert preset.description and "\n" not in preset.description
    assert isinstance(preset.settings, BenchmarkSettings)
    if preset.kind == "video":
        detector = VideoDetector.from_preset(name)
        assert detector.config == VideoConfig.from_dict(preset.detector)
        with torch.device("meta"):  # the net builds (shapes only, no memory)
            detector.build_model()
        return
    detector = MemAEDetector(**preset.detector)
    X = np.random.default_rng(0).random(SAMPLES[preset.kind], dtype=np.float32)
    detector.check_fit(X)  # parameters valid, the model builds for this kind of sample
    assert MemAEDetector.from_preset(name).get_params() == detector.get_params()


def test_packaged_presets_are_listed_and_installed() -> None:
    assert {"tabular", "images", "kdd99", "odds", "mnist", "cifar10",
            "cifar10-paper"} <= set(list_presets())
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"presets/*.yaml"' in pyproject


@pytest.mark.parametrize(("name", "ndim"), [("tabular", 2), ("images", 4)])
def test_the_general_presets_are_the_detector_defaults(name: str, ndim: int) -> None:
    preset = load_preset(name)
    assert general_preset(ndim) == name and preset.benchmark == {}
    # "auto" parameters take the preset's values for this kind of data...
    auto = MemAEDetector().resolved_params(ndim)
    assert auto == {key: preset.detector[key] for key in KIND_DEFAULTS}
    assert MemAEDetector().train_settings(ndim) == \
        MemAEDetector.from_preset(name).train_settings(ndim)
    # ...and every other parameter is the detector's default (model: the one
    # model="auto" picks for this kind of data).
    defaults = dataclasses.asdict(DetectorConfig())
    others = {k: v for k, v in preset.detector.items() if k not in KIND_DEFAULTS}
    assert {**defaults, **others} == {**defaults, "model": AUTO_MODELS[ndim]}
    assert all(defaults[key] == "auto" for key in KIND_DEFAULTS)


def test_the_default_detector_trains_the_tabular_preset() -> None:
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    default = MemAEDetector(random_state=0, device="cpu").fit(X)
    preset = MemAEDetector.from_preset("tabular", random_state=0, device="cpu").fit(X)
    np.testing.assert_array_equal(default.decision_scores_, preset.decision_scores_)
    tabular = load_preset("tabular").detector
    assert len(default.history_.train_loss) == tabular["epochs"]
    assert default.n_val_ == round(tabular["validation_fraction"] * len(X))
    # Clips train as images do; the images preset's net parameters are conv2d's, so a
    # clip's conv3d keeps its own.
    clips, images = MemAEDetector().resolved_params(5), MemAEDetector().resolved_params(4)
    assert clips.pop("model_params") is None
    assert images.pop("model_params") == load_preset("images").detector["model_params"]
    assert clips == images and images["max_steps"] == load_preset("images").detector["max_steps"]
    assert MemAEDetector().resolved_params(2)["max_steps"] is None
    assert MemAEDetector().train_settings(4).max_steps == images["max_steps"]
    assert MemAEDetector(max_steps=None).train_settings(4).max_steps is None


def test_auto_model_params_apply_to_the_presets_model_only() -> None:
    tabular = load_preset("tabular").detector
    assert MemAEDetector(model="mlp").resolved_params(2)["model_params"] == \
        tabular["model_params"]
    assert MemAEDetector(model="mlp_kdd99").resolved_params(2)["model_params"] is None
    given = MemAEDetector(model_params={"latent_dim": 3}, epochs=7, patience=None)
    assert given.resolved_params(2) == {"model_params": {"latent_dim": 3}, "epochs": 7,
                                        "max_steps": None,
                                        "validation_fraction": tabular["validation_fraction"],
                                        "patience": None}


def test_target_fpr_holds_out_rows_when_the_preset_holds_none_out() -> None:
    assert MemAEDetector(target_fpr=0.05).resolved_params(2)["validation_fraction"] >= 0.1
    assert MemAEDetector(target_fpr=0.05, validation_fraction=0.0).resolved_params(2)[
        "validation_fraction"] == 0.0


def test_model_params_lists_become_tuples_and_overrides_replace() -> None:
    detector = MemAEDetector.from_preset("kdd99", epochs=2, random_state=3)
    assert detector.model_params["hidden"] == (128, 64)
    assert (detector.epochs, detector.random_state, detector.batch_size) == (2, 3, 1024)


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "kind: tabular\ndescription: a test preset\ndetector:\n  epochs: 3\n"


def test_a_preset_file_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "  learning_rate: 1e-3\nbenchmark:\n  max_steps: 50\n")
    preset = load_preset(path)
    assert preset == load_preset(str(path))
    assert (preset.name, preset.kind, preset.source) == ("mine", "tabular", str(path))
    assert preset.detector == {"epochs": 3, "learning_rate": 0.001}  # a YAML 1.2 float
    assert preset.settings.max_steps == 50
    assert preset.with_(max_steps=10, batch_size=8).settings.max_steps == 10


@pytest.mark.parametrize(("text", "message"), [
    (GOOD + "detektor: {}\n", r"unknown key 'detektor' \(value \{\}\); a preset has the keys "
                              r"\['kind', 'description', 'detector', 'benchmark'\]\. "
                              r"Did you mean 'detector'\?"),
    (GOOD.replace("tabular", "audio"), r"kind must be one of \['tabular', 'images', 'video'\], "
                                       r"got 'audio'"),
    (GOOD + "  epoch: 5\n", r"unknown detector key 'epoch' \(value 5\); the parameters of a "
                            r"tabular estimator are \[.*'epochs'.*\]\. Did you mean 'epochs'\?"),
    (GOOD + "benchmark:\n  steps: 5\n", r"unknown benchmark key 'steps' \(value 5\); the "
                                        r"benchmark settings are \[.*'max_steps'.*\]"),
    (GOOD + "benchmark:\n  quick: {epoch: 1}\n", r"unknown benchmark.quick key 'epoch'"),
    (GOOD + "  epochs: 4\n", r"duplicate key 'epochs'"),
    (GOOD.replace("epochs: 3", "epochs: 0"), r"epochs must be 'auto' or an int >= 1, got 0"),
    (GOOD + "benchmark:\n  n_estimators: 0\n", r"benchmark.n_estimators must be an int >= 1"),
    ("kind: tabular\ndetector: {}\n", r"missing \['description'\]"),
    (GOOD.replace("detector:\n  epochs: 3\n", "detector: 3\n"), r"detector must map keys"),
])
def test_schema_errors_name_the_file_the_key_and_the_fix(tmp_path: Path, text: str,
                                                         message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        load_preset(path)
    assert str(path) in str(error.value)


def test_unknown_names_and_missing_files() -> None:
    with pytest.raises(ValueError, match=r"unknown preset 'kdd'; known presets: .*kdd99, .*odds"
                                         r".*path of a preset YAML file\. Did you mean 'kdd99'"):
        load_preset("kdd")
    with pytest.raises(FileNotFoundError, match="preset file 'nowhere/x.yaml' does not exist"):
        load_preset("nowhere/x.yaml")


def test_a_preset_built_in_code_is_checked_too() -> None:
    with pytest.raises(ValueError, match="preset 'toy': unknown detector key 'epoch'"):
        Preset(name="toy", kind="images", description="", detector={"epoch": 1})


VIDEO = "kind: video\ndescription: a small clip model\ndetector:\n  size: [24, 32]\n" \
        "  clip_length: 8\n  random_state: 1\n"


def test_video_presets_take_the_video_configuration_and_no_detector(tmp_path: Path) -> None:
    path = write(tmp_path, VIDEO)
    assert load_preset(path).detector == {"size": [24, 32], "clip_length": 8, "random_state": 1}
    with pytest.raises(ValueError, match="unknown detector key 'contamination'"):
        load_preset(write(tmp_path, VIDEO + "  contamination: 0.1\n", "bad.yaml"))
    detector = VideoDetector.from_preset(path, epochs=2)
    assert (detector.config.size, detector.config.epochs, detector.config.random_state) == \
        ((24, 32), 2, 1)
    with pytest.raises(ValueError, match="kind 'video'.*tabular or images.*--kind video"):
        MemAEDetector.from_preset(path)
