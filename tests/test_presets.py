"""Presets: every packaged file builds its estimator; schema errors; `memae presets`, --preset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from memae import MemAEDetector, VideoDetector
from memae.cli import main
from memae.config import DetectorConfig
from memae.detector import AUTO_MODELS
from memae.presets import PRESET_DIR, BenchmarkSettings, Preset, list_presets, load_preset
from memae.video.config import VideoConfig
from tests.cli.conftest import write_table

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
    defaults = dataclasses.asdict(DetectorConfig())
    # model: the one model="auto" picks for this kind of data; nothing else changes.
    assert {**defaults, **preset.detector} == {**defaults, "model": AUTO_MODELS[ndim]}
    assert preset.benchmark == {}
    assert MemAEDetector.from_preset(name).get_params() == \
        MemAEDetector(model=AUTO_MODELS[ndim]).get_params()


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
    (GOOD.replace("epochs: 3", "epochs: 0"), r"epochs must be an int >= 1, got 0"),
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


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table(tmp_path_factory.mktemp("presets") / "train.csv", 200, 0.0, seed=0)


COMMON = ["--ignore-cols", "id", "--categorical-cols", "proto", "--label-col", "label",
          "--normal-labels", "normal"]


def saved(run: Path) -> dict:
    return yaml.safe_load((run / "config.yaml").read_text())


def test_train_layers_preset_config_flags_and_set(table: Path, tmp_path: Path) -> None:
    preset = write(tmp_path, "kind: tabular\ndescription: small\ndetector:\n"
                   "  model_params: {hidden: [8], latent_dim: 2}\n  memory_size: 12\n"
                   "  epochs: 7\n  batch_size: 16\n  learning_rate: 0.02\n")
    config = write(tmp_path, "detector:\n  batch_size: 32\n  learning_rate: 0.01\n",
                   "run.yaml")
    run = tmp_path / "run"
    assert main(["-q", "train", "--preset", str(preset), "--config", str(config),
                 "--data", str(table), "--out", str(run), *COMMON, "--epochs", "2",
                 "--set", "detector.learning_rate=0.005"]) == 0
    detector = saved(run)["detector"]
    assert saved(run)["preset"] == str(preset)
    assert detector["model_params"] == {"hidden": [8], "latent_dim": 2}  # the preset's
    assert detector["memory_size"] == 12                  # the preset beat the default
    assert detector["batch_size"] == 32                   # the file beat the preset
    assert detector["epochs"] == 2                        # the flag beat the preset
    assert detector["learning_rate"] == 0.005             # --set beat them all
    assert detector["patience"] == 10                     # a default neither set
    # config.yaml alone retrains the same detector: the preset's values are in it.
    again = tmp_path / "again"
    assert main(["-q", "train", "--config", str(run / "config.yaml"), "--out",
                 str(again)]) == 0
    assert saved(again)["detector"] == detector


def test_train_takes_a_packaged_preset_from_the_config_file(table: Path, tmp_path: Path) -> None:
    config = write(tmp_path, "preset: tabular\ndetector: {epochs: 1}\n", "run.yaml")
    run = tmp_path / "run"
    assert main(["-q", "train", "--config", str(config), "--data", str(table), "--out",
                 str(run), *COMMON]) == 0
    assert saved(run)["preset"] == "tabular"
    assert saved(run)["detector"]["model"] == "mlp" and saved(run)["detector"]["epochs"] == 1


def test_train_says_it_leaves_a_benchmark_section_out(table: Path, tmp_path: Path,
                                                      caplog) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "odds", "--data", str(table), "--out", str(run),
                 *COMMON, "--epochs", "1", "--set", "detector.memory_size=20"]) == 0
    assert "benchmark section (max_steps, n_estimators, max_samples) applies to `memae " \
           "benchmark` only" in caplog.text
    assert saved(run)["detector"]["model_params"]["latent_dim"] == 32


def test_train_refuses_a_preset_for_another_kind(table: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "mnist", "--data", str(table), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "preset 'mnist' is for images data" in err and "is tabular data" in err
    assert "--preset tabular" in err
    video = write(tmp_path, VIDEO)
    assert main(["train", "--preset", str(video), "--data", str(table), "--out",
                 str(run)]) == 2
    # A video preset makes a video run, which reads clips: a table is not one.
    assert "expected a video file" in capsys.readouterr().err
    assert main(["train", "--preset", str(video), "--kind", "tabular", "--data", str(table),
                 "--out", str(run)]) == 2
    assert "is for video data, but this run has kind 'tabular'" in capsys.readouterr().err
    assert not run.exists()
    folder = tmp_path / "digits" / "normal"
    folder.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.full((12, 12), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    assert main(["train", "--preset", "kdd99", "--data", str(folder.parent), "--out",
                 str(run)]) == 2
    assert "preset 'kdd99' is for tabular data" in capsys.readouterr().err


def test_train_takes_the_images_preset_for_an_image_folder(tmp_path: Path) -> None:
    folder = tmp_path / "stripes" / "normal"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (12, 12), dtype=np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    assert main(["-q", "train", "--preset", "images", "--data", str(folder.parent), "--out",
                 str(run), "--epochs", "1"]) == 0
    assert saved(run)["preset"] == "images" and saved(run)["detector"]["model"] == "conv2d"
