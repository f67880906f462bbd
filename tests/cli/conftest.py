"""Data files and trained run directories shared by the command-line tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from memae.cli import main
from memae.video import make_synthetic_videos, write_frame_folders


def write_table(path: Path, n: int, anomaly_share: float, seed: int) -> Path:
    """Rows near a 2-D plane in 6-D (normal) or far off it (anomalies), with a text column."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(1).normal(size=(2, 6))
    X = rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))
    y = (rng.random(n) < anomaly_share).astype(int)
    X[y == 1] = rng.normal(size=(int(y.sum()), 6)) * 2
    proto = np.where(X[:, 0] > 0, "tcp", "udp")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *(f"f{j}" for j in range(6)), "proto", "label"])
        for i in range(n):
            writer.writerow([f"r{i}", *(f"{v:.5f}" for v in X[i]), proto[i],
                             "attack" if y[i] else "normal"])
    return path


@pytest.fixture(scope="session")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(clean training table, test table with about 30% anomalies)."""
    root = tmp_path_factory.mktemp("tables")
    return (write_table(root / "train.csv", 300, 0.0, seed=0),
            write_table(root / "test.csv", 200, 0.3, seed=2))


def stripes(vertical: bool, rng: np.random.Generator, size: int = 12) -> np.ndarray:
    """A gray image of stripes with a random phase; normal = horizontal."""
    phase = rng.integers(0, 4)
    line = ((np.arange(size) + phase) % 4 < 2).astype(np.uint8) * 200 + 30
    image = np.repeat(line[:, None], size, axis=1)
    return image.T if vertical else image


@pytest.fixture(scope="session")
def image_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(train/normal/*.png, test/{normal,anomaly}/*.png) of horizontal / vertical stripes."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for split, counts in (("train", {"normal": 48}), ("test", {"normal": 12, "anomaly": 12})):
        for cls, count in counts.items():
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(stripes(cls == "anomaly", rng)).save(folder / f"{i:03d}.png")
    return root / "train", root / "test"


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The captured stderr, checked to be one ``memae: error:`` line without a traceback."""
    err = capsys.readouterr().err
    assert err.startswith("memae: error:") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


# Property tests that run a command per example: few examples, fixtures shared across them.
CLI_SETTINGS = settings(max_examples=20, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = st.sampled_from([".csv", ".npy", ".npz", ".parquet", ".png", ""])

# How the `tables` CSVs are read: an id column, a label column whose normal rows say "normal".
TABLE_COLUMNS = ["--ignore-cols", "id", "--label-col", "label", "--normal-labels", "normal"]


@pytest.fixture(scope="session")
def numeric_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 rows of 8 numeric columns on a 3-D subspace, no labels."""
    rng = np.random.default_rng(7)
    X = (rng.normal(size=(600, 3)) @ rng.normal(size=(3, 8))).astype(np.float32)
    path = tmp_path_factory.mktemp("data") / "X.csv"
    np.savetxt(path, X, delimiter=",", header=",".join(f"f{j}" for j in range(8)),
               comments="", fmt="%.9g")
    return path


@pytest.fixture(scope="session")
def trained_run(numeric_table: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained for one epoch on ``numeric_table``."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--data", str(numeric_table), "--out", str(run), "--epochs", "1",
                 "--quiet"]) == 0
    return run


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(run directory, its training CSV)``: one epoch on 80 rows of columns a, b, c."""
    root = tmp_path_factory.mktemp("outputs")
    rng = np.random.default_rng(0)
    data = root / "X.csv"
    np.savetxt(data, rng.normal(size=(80, 3)), delimiter=",", header="a,b,c", comments="")
    assert main(["train", "--data", str(data), "--out", str(root / "run"), "--epochs", "1",
                 "--quiet"]) == 0
    return root / "run", data


TABULAR_CONFIG = """
data:
  label_col: label
  ignore_cols: [id]
  normal_labels: [normal]
detector:
  model: mlp
  model_params: {hidden: [16, 8], latent_dim: 3}
  memory_size: 20
  epochs: 60
  batch_size: 32
  learning_rate: 0.01
"""


@pytest.fixture(scope="session")
def tabular_run(tables: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``memae train --config`` on the clean training table (30 epochs, patience 5)."""
    root = tmp_path_factory.mktemp("cli")
    (root / "run.yaml").write_text(TABULAR_CONFIG)
    code = main(["--quiet", "train", "--config", str(root / "run.yaml"), "--data",
                 str(tables[0]), "--out", str(root / "run"), "--epochs", "30",
                 "--set", "detector.patience=5"])
    assert code == 0
    return root / "run"


ENSEMBLE_MEMBER = ["--model", "mlp",
                   "--set", "detector.model_params={hidden: [16, 8], latent_dim: 3}",
                   "--memory-size", "20", "--epochs", "30", "--batch-size", "32",
                   "--learning-rate", "0.01"]


@pytest.fixture(scope="session")
def ensemble_run(tables: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``memae train --n-estimators 3 --max-samples 0.5`` on the clean training table."""
    root = tmp_path_factory.mktemp("ensemble") / "run"
    assert main(["-q", "train", "--data", str(tables[0]), "--out", str(root), *TABLE_COLUMNS,
                 *ENSEMBLE_MEMBER, "--n-estimators", "3", "--max-samples", "0.5",
                 "--seed", "4"]) == 0
    return root


# The ped2-cpu preset's net and scoring at a size that trains in about a second.
VIDEO_RUN_FLAGS = [
    "--kind", "video", "--set", "detector.size=[32, 32]",
    "--set", "detector.clip_length=8", "--set", "detector.smoothing=3",
    "--set", "detector.temporal_smoothing=3", "--set", "detector.input_signal=difference",
    "--set", "detector.model_params={channels: [4, 8, 8, 8], "
             "strides: [[1, 2, 2], 2, 2, [2, 1, 1]]}",
    "--memory-size", "20", "--epochs", "2", "--batch-size", "8",
    "--learning-rate", "0.001", "--device", "cpu"]


@pytest.fixture(scope="session")
def video_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic frame folders: 2 training clips, 1 test clip, 24 frames each."""
    videos = make_synthetic_videos(n_train=2, n_test=1, n_frames=24, seed=3)
    return write_frame_folders(videos, tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="session")
def video_run(video_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``memae train --kind video`` with :data:`VIDEO_RUN_FLAGS` on ``video_root``."""
    run = tmp_path_factory.mktemp("run") / "run"
    assert main(["-q", "train", "--data", str(video_root), "--out", str(run),
                 *VIDEO_RUN_FLAGS]) == 0
    return run
