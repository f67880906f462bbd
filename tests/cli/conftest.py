"""Small data sets written as files, for the command-line tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


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
