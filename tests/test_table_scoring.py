"""Chunked scoring: same scores as one pass, bounded memory, no partial outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae import MemAEDetector
from memae.data.chunks import read_chunks
from memae.table_scoring import score_file
from tests.conftest import FAST


@pytest.fixture(scope="module")
def fitted() -> MemAEDetector:
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 3}, score_batch_size=16).fit(X)


@pytest.fixture
def table() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(301, 6)).astype(np.float32)


def _write(kind: str, path: Path, X: np.ndarray) -> Path:
    if kind in ("npy", "npz", "fortran"):
        with path.open("wb") as handle:  # a handle: numpy adds no suffix
            if kind == "npz":
                np.savez_compressed(handle, X=X)
            else:
                np.save(handle, np.asfortranarray(X) if kind == "fortran" else X)
    elif kind == "csv":
        header = ",".join(f"x{j}" for j in range(X.shape[1]))
        np.savetxt(path, X, delimiter=",", header=header, comments="", fmt="%.9g")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({f"x{j}": X[:, j] for j in range(X.shape[1])})
        pq.write_table(table, path, row_group_size=70)
    return path


@pytest.mark.parametrize("kind", ["npy", "npz", "fortran", "parquet", "csv"])
@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_score_file_equals_decision_function(fitted, table, tmp_path, kind, suffix) -> None:
    data = _write(kind, tmp_path / f"X.{kind}", table)
    chunks = list(read_chunks(data, chunk_rows=64).chunks)
    assert [len(c) for c in chunks] == [64, 64, 64, 64, 45]
    summary = score_file(fitted, data, tmp_path / f"scores{suffix}", chunk_rows=64)
    assert summary.n_rows == 301
    written = (np.load(summary.output) if suffix == ".npy"
               else np.loadtxt(summary.output, skiprows=1))
    # 64-row chunks are whole 16-row scoring batches: the same arithmetic as one pass.
    np.testing.assert_array_equal(written, fitted.decision_function(table))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([data.name, f"scores{suffix}"])


def test_bad_rows_leave_no_partial_output(fitted, table, tmp_path) -> None:
    table[200, 1] = np.inf
    data = _write("npy", tmp_path / "X.npy", table)
    out = tmp_path / "scores.npy"
    out.write_bytes(b"previous result")
    with pytest.raises(ValueError, match=r"rows 192-255: X: .*infinity"):
        score_file(fitted, data, out, chunk_rows=64)
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy", "scores.npy"]


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"\x93NUMPY\x01\x00garbage", "not a readable NPY"),
    (b"PK\x03\x04 not really a zip", "not a readable NPZ"),
    (b"PAR1 truncated parquet", "not a readable Parquet"),
    (b"a,b\n1,x\n", "column 'b'.*numeric"),
])
def test_corrupt_inputs_are_clear_errors(fitted, tmp_path, content, match) -> None:
    data = tmp_path / "broken"
    data.write_bytes(content)
    with pytest.raises((ValueError, TypeError), match=match):
        score_file(fitted, data, tmp_path / "scores.npy")
    assert not (tmp_path / "scores.npy").exists()


def test_output_must_be_npy_or_csv(fitted, table, tmp_path) -> None:
    data = _write("npy", tmp_path / "X.npy", table)
    with pytest.raises(ValueError, match="output must end in"):
        score_file(fitted, data, tmp_path / "scores.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy"]
