"""``memae benchmark cifar10``: channel-first unit images, the classes it loads, and the quick
run on the real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae.benchmarks import BenchmarkOptions
from memae.benchmarks.cifar10 import load_splits
from tests.benchmarks.conftest import quick, require
from tests.data.test_cifar import fake_images, png_bytes


@pytest.fixture
def cifar_tree(tmp_path: Path) -> dict[tuple[str, str], np.ndarray]:
    """``<data>/cifar10/{train,test}/<class>/*.png``: 2 cats and 1 ship per split."""
    pixels = {}
    for split, seed in (("train", 0), ("test", 1)):
        for name, count in (("cat", 2), ("ship", 1)):
            folder = tmp_path / "cifar10" / split / name
            folder.mkdir(parents=True)
            pixels[split, name] = fake_images(count, seed + 10 * count)
            for i, image in enumerate(pixels[split, name]):
                (folder / f"{i:04d}.png").write_bytes(png_bytes(image))
    return pixels


def test_load_splits_gives_channel_first_images_in_the_unit_range(
        tmp_path: Path, cifar_tree: dict[tuple[str, str], np.ndarray]) -> None:
    options = BenchmarkOptions(out_dir=tmp_path / "out", data_dir=tmp_path)
    splits = load_splits(options)
    assert splits.train_x.shape == (3, 3, 32, 32) and splits.train_x.dtype == np.float32
    train = np.concatenate([cifar_tree["train", "cat"], cifar_tree["train", "ship"]])
    # (n, H, W, C) uint8 -> (n, C, H, W) in [0, 1]
    np.testing.assert_allclose(splits.train_x, train.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    assert splits.train_y.tolist() == [3, 3, 8] and splits.eval_y.tolist() == [3, 3, 8]
    assert splits.class_names[3] == "cat" and splits.class_names[8] == "ship"
    # Only the classes asked for are read from the training split; the test split is whole.
    ships = load_splits(options, train_classes=["ship"])
    assert ships.train_y.tolist() == [8] and len(ships.eval_y) == 3
    np.testing.assert_allclose(ships.train_x[0], train[2].transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)


@pytest.mark.slow
@pytest.mark.real_data
def test_cifar10_quick_airplane(data_root: Path, tmp_path: Path) -> None:
    require(data_root, "cifar10")
    result = quick("cifar10", data_root, tmp_path)
    assert [(r["class"], r["variant"]) for r in result["rows"]] == [("airplane", "MemAE")]
    # 0.6635 measured; the previous configuration (4x4 codes, raw pixels) gave 0.5968.
    assert result["rows"][0]["roc_auc"] >= 0.6, result["rows"]
    assert "JPEG q75 copy" in result["markdown"]
