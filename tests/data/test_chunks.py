"""Numeric tables read in row chunks: every format in equal chunks, clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae.data.chunks import read_chunks


def test_truncated_npy_and_wrong_shape(tmp_path: Path) -> None:
    data = tmp_path / "X.npy"
    np.save(data, np.random.default_rng(1).normal(size=(301, 6)).astype(np.float32))
    data.write_bytes(data.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        read_chunks(data)
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"shape \(2, 3, 4\).*2-D"):
        read_chunks(tmp_path / "cube.npy")
    np.save(tmp_path / "objects.npy", np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="object"):
        read_chunks(tmp_path / "objects.npy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_chunks(tmp_path / "missing.npy")
