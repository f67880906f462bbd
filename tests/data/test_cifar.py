from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.data import CIFAR10_CLASSES, RestrictedUnpickler, load_cifar10


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def fake_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def image_tree(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A train/<class>/*.png tree with 3 cats and 2 ships (PNG, so pixels are exact)."""
    pixels = {"cat": fake_images(3, 0), "ship": fake_images(2, 1)}
    for name, images in pixels.items():
        folder = tmp_path / "tree" / "train" / name
        folder.mkdir(parents=True)
        for i, image in enumerate(images):
            (folder / f"{i:04d}.png").write_bytes(png_bytes(image))
    return tmp_path / "tree", pixels


def test_image_folder_layout(image_tree: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, pixels = image_tree
    images, labels, names = load_cifar10(root, split="train")
    assert names == list(CIFAR10_CLASSES)
    assert labels.tolist() == [3, 3, 3, 8, 8]
    assert images.dtype == np.uint8 and images.shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(images, np.concatenate([pixels["cat"], pixels["ship"]]))


def test_tar_gz_layout_matches_folder(
    tmp_path: Path, image_tree: tuple[Path, dict[str, np.ndarray]]
) -> None:
    root, pixels = image_tree
    archive = tmp_path / "cifar.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        add_member(tar, "README.md", b"not an image")
        for path in sorted((root / "train").rglob("*.png"), reverse=True):
            add_member(tar, path.relative_to(root).as_posix(), path.read_bytes())
    images, labels, _ = load_cifar10(archive, split="train", classes=["ship"])
    assert labels.tolist() == [8, 8]
    np.testing.assert_array_equal(images, pixels["ship"])
    # A folder holding exactly one archive is read the same way.
    images_all, labels_all, _ = load_cifar10(tmp_path, split="train")
    assert labels_all.tolist() == [3, 3, 3, 8, 8]


@pytest.mark.parametrize("name", ["../train/cat/0000.png", "/train/cat/0000.png"])
def test_tar_refuses_path_traversal(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        add_member(tar, name, png_bytes(fake_images(1, 0)[0]))
    with pytest.raises(ValueError, match="unsafe member name"):
        load_cifar10(archive, split="train")


def test_tar_refuses_oversized_images(tmp_path: Path) -> None:
    archive = tmp_path / "big.tar"
    big = np.zeros((4000, 4000, 3), np.uint8)
    with tarfile.open(archive, "w") as tar:
        add_member(tar, "train/cat/0000.png", png_bytes(big))
    with pytest.raises(ValueError, match="4000x4000 pixels; CIFAR-10 images are 32x32"):
        load_cifar10(archive, split="train")


def test_unknown_class_and_bad_arguments(image_tree: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, _ = image_tree
    with pytest.raises(ValueError, match=r"classes=\['unicorn'\]"):
        load_cifar10(root, split="train", classes=["unicorn"])
    with pytest.raises(TypeError, match="list of class names"):
        load_cifar10(root, split="train", classes="cat")
    with pytest.raises(ValueError, match="classes=\\[\\] selects nothing"):
        load_cifar10(root, split="train", classes=[])
    with pytest.raises(ValueError, match="split='valid'"):
        load_cifar10(root, split="valid")
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 layout"):
        load_cifar10(root / "train" / "cat", split="train")


def write_batches(folder: Path, images: np.ndarray, labels: list[int]) -> None:
    """Write batches the way the official files are made: dicts pickled with protocol 2."""
    folder.mkdir(parents=True)
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)  # channel-planar rows
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [b"x.png"] * len(labels)}  # fmt: skip
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))


def test_python_batches_round_trip(tmp_path: Path) -> None:
    images = fake_images(4, 2)
    write_batches(tmp_path / "cifar-10-batches-py", images, [0, 9, 9, 5])
    test_images, test_labels, names = load_cifar10(tmp_path, split="test")
    np.testing.assert_array_equal(test_images, images)
    assert test_labels.tolist() == [0, 9, 9, 5]
    assert names[9] == "truck"
    train_images, train_labels, _ = load_cifar10(tmp_path, split="train", classes=["truck"])
    assert train_images.shape == (10, 32, 32, 3)  # two trucks in each of five batches
    assert set(train_labels.tolist()) == {9}


def test_restricted_unpickler_accepts_numpy1_array_pickles() -> None:
    data = np.arange(6, dtype=np.uint8).reshape(2, 3)
    payload = pickle.dumps({b"data": data}, protocol=2)
    # The official batches were written by NumPy 1, whose arrays name numpy.core.
    legacy = payload.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert legacy != payload
    loaded = RestrictedUnpickler(io.BytesIO(legacy), encoding="bytes").load()
    np.testing.assert_array_equal(loaded[b"data"], data)


class Exploit:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.target}",)


def test_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    payload = pickle.dumps({b"data": Exploit(target), b"labels": []}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="system is refused"):
        RestrictedUnpickler(io.BytesIO(payload), encoding="bytes").load()
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(payload)
    with pytest.raises(ValueError, match="not a safe, valid CIFAR-10 pickle"):
        load_cifar10(tmp_path, split="test")
    assert not target.exists()
    # The payload is live: the standard unpickler runs it and creates the file.
    pickle.loads(payload)
    assert target.exists()


@pytest.mark.real_data
def test_real_archive_two_test_classes(shared_data: Path) -> None:
    images, labels, names = load_cifar10(
        shared_data / "cifar10", split="test", classes=["cat", "ship"]
    )
    assert images.shape == (2000, 32, 32, 3)
    assert np.bincount(labels, minlength=10).tolist() == [0, 0, 0, 1000, 0, 0, 0, 0, 1000, 0]
    assert names == list(CIFAR10_CLASSES)
    # JPEG copies of real photos: mean intensity lies well inside (0, 255).
    assert 80 < images.mean() < 160
