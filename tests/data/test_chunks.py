"""Numeric tables read in row chunks: every format in equal chunks, clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae.data.chunks import read_chunks


def test_every_format_is_sniffed_and_read_in_whole_chunks(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(10, 3))
    np.save(tmp_path / "a.npy", X)
    with (tmp_path / "b.bin").open("wb") as handle:  # the content decides, not the suffix
        np.savez(handle, X=X)
    np.savetxt(tmp_path / "c.csv", X, delimiter=",", header="x,y,z", comments="", fmt="%.17g")
    for name, kind, n_rows in (("a.npy", "npy", 10), ("b.bin", "npz", 10),
                               ("c.csv", "csv", None)):
        table = read_chunks(tmp_path / name, chunk_rows=4)
        assert (table.kind, table.n_rows) == (kind, n_rows)
        chunks = list(table.chunks)
        assert [len(c) for c in chunks] == [4, 4, 2]
        assert all(c.dtype == np.float32 for c in chunks)
        np.testing.assert_array_equal(np.concatenate(chunks), X.astype(np.float32))
    picked = np.concatenate(list(read_chunks(tmp_path / "c.csv", columns=["z", "x"]).chunks))
    np.testing.assert_array_equal(picked, X[:, [2, 0]].astype(np.float32))
    with pytest.raises(ValueError, match="columns applies to Parquet and CSV"):
        read_chunks(tmp_path / "a.npy", columns=["x"])
    with pytest.raises(ValueError, match="chunk_rows must be an int >= 1, got 0"):
        read_chunks(tmp_path / "a.npy", chunk_rows=0)


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
