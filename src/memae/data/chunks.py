"""Read numeric tables in row chunks, so files larger than memory can be scored.

Each reader yields float32 arrays ``(rows, n_features)`` of at most
``chunk_rows`` rows and holds only one chunk at a time:

- NPY: each chunk is memory-mapped on its own (``np.memmap`` with an offset),
  copied, and unmapped, so mapped pages never pile up in resident memory;
- NPZ: the ``X`` member is decompressed as a stream, never whole;
- Parquet: pyarrow record batches, one row group at a time (memory follows the
  row-group size: write large tables with row groups of ~100k-250k rows);
- CSV (header row, numeric columns): pyarrow's streaming CSV reader.

Nothing is ever unpickled (``allow_pickle`` is never on).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from memae.data.csvfile import csv_error, csv_header, csv_options

DEFAULT_CHUNK_ROWS = 65_536
_MAGIC = {b"\x93NUMPY": "npy", b"PK\x03\x04": "npz", b"PAR1": "parquet"}


@dataclass(frozen=True)
class ChunkedTable:
    """A table read chunk by chunk.

    Attributes
    ----------
    path:
        The file.
    kind:
        ``"npy"``, ``"npz"``, ``"parquet"`` or ``"csv"``.
    n_rows:
        Rows in the file, ``None`` for CSV (unknown until read).
    chunks:
        The float32 chunks, in file order.
    """

    path: Path
    kind: str
    n_rows: int | None
    chunks: Iterator[np.ndarray]


def _kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(6)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "csv")


def _npy_header(handle: IO[bytes], source: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(handle)
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise ValueError(f"{source} is not a readable NPY array ({error})") from error
    if dtype.hasobject or dtype.kind not in "fiub" or len(shape) != 2:
        raise ValueError(f"{source} holds a {dtype} array of shape {shape}; expected a 2-D "
                         "numeric array (rows, features)")
    return shape, fortran, dtype


def _npy_chunks(path: Path, chunk_rows: int) -> tuple[int, Iterator[np.ndarray]]:
    with path.open("rb") as handle:
        (n, d), fortran, dtype = _npy_header(handle, repr(str(path)))
        offset = handle.tell()
    if path.stat().st_size < offset + n * d * dtype.itemsize:
        raise ValueError(f"{str(path)!r} is truncated: its header promises {n} x {d} "
                         f"{dtype} values; re-create the file")

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            if fortran:  # columns are contiguous: map the whole file, read a row slice
                view = np.memmap(path, dtype, "r", offset, shape=(n, d), order="F")
                chunk = np.array(view[start:start + rows], dtype=np.float32)
            else:
                view = np.memmap(path, dtype, "r", offset + start * d * dtype.itemsize,
                                 shape=(rows, d))
                chunk = np.array(view, dtype=np.float32)
            del view  # unmap: resident memory stays one chunk
            yield chunk

    return n, chunks()


def _npz_chunks(path: Path, chunk_rows: int) -> tuple[int, Iterator[np.ndarray]]:
    try:
        archive = zipfile.ZipFile(path)
        member = archive.open("X.npy")
    except KeyError as error:
        raise ValueError(f"{str(path)!r} has no 'X' array; save it with "
                         "np.savez(path, X=X)") from error
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{str(path)!r} is not a readable NPZ archive ({error})") from error
    (n, d), fortran, dtype = _npy_header(member, f"{str(path)!r} member X.npy")
    if fortran:
        raise ValueError(f"{str(path)!r} stores X in Fortran order, which cannot be streamed; "
                         "save np.ascontiguousarray(X)")

    def chunks() -> Iterator[np.ndarray]:
        with archive, member:
            for start in range(0, n, chunk_rows):
                rows = min(chunk_rows, n - start)
                try:
                    data = member.read(rows * d * dtype.itemsize)
                except (zipfile.BadZipFile, OSError, EOFError) as error:
                    raise ValueError(f"{str(path)!r} is corrupt ({error})") from error
                if len(data) != rows * d * dtype.itemsize:
                    raise ValueError(f"{str(path)!r} is truncated after row {start}")
                yield np.frombuffer(data, dtype).reshape(rows, d).astype(np.float32)

    return n, chunks()


def _arrow_to_numpy(batch: Any, source: str) -> np.ndarray:
    import pyarrow as pa

    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_null(kind)):
            raise TypeError(f"column {name!r} of {source} has type {kind}; scoring needs "
                            "numeric columns. Select them with columns=[...]")
        columns.append(column.cast(pa.float32()).to_numpy(zero_copy_only=False))
    return np.column_stack(columns) if columns else np.empty((batch.num_rows, 0), np.float32)


def _rechunk(blocks: Iterator[np.ndarray], chunk_rows: int) -> Iterator[np.ndarray]:
    """Regroup blocks of any length (row groups, CSV blocks) into ``chunk_rows`` rows."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= chunk_rows:
            joined = np.concatenate(pending)
            yield joined[:chunk_rows]
            pending, held = [joined[chunk_rows:]], len(joined) - chunk_rows
    if held:
        yield np.concatenate(pending)


def _import_pyarrow(path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as error:
        raise ImportError(f"streaming {str(path)!r} needs pyarrow: pip install pyarrow "
                          "(or save the table as NPY)") from error


def _parquet_chunks(path: Path, chunk_rows: int, columns: Sequence[str] | None
                    ) -> tuple[int, Iterator[np.ndarray]]:
    _import_pyarrow(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # No pre-buffering and a 1 MB read buffer: resident memory follows one row
        # group (about 3x its raw size while decoding), not the file.
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"{str(path)!r} is not a readable Parquet file ({error})") from error
    missing = sorted(set(columns or ()) - set(parquet.schema_arrow.names))
    if missing:
        raise ValueError(f"columns {missing} are not in {str(path)!r}; it has "
                         f"{parquet.schema_arrow.names}")

    def blocks() -> Iterator[np.ndarray]:
        try:
            for group in range(parquet.num_row_groups):
                for batch in parquet.iter_batches(batch_size=chunk_rows, row_groups=[group],
                                                  columns=list(columns) if columns else None,
                                                  use_threads=False):
                    yield _arrow_to_numpy(batch, repr(str(path)))
                pa.default_memory_pool().release_unused()
        except (pa.ArrowException, OSError) as error:
            raise ValueError(f"{str(path)!r} is corrupt ({error})") from error

    return parquet.metadata.num_rows, _rechunk(blocks(), chunk_rows)


def _csv_chunks(path: Path, chunk_rows: int, columns: Sequence[str] | None
                ) -> Iterator[np.ndarray]:
    _import_pyarrow(path)
    import pyarrow as pa
    from pyarrow import csv

    # Blocks of ~1 MB keep memory bounded; rows are regrouped into chunks.
    read = csv.ReadOptions(block_size=1 << 20)
    csv_header(path)  # duplicate names are refused
    parse, _ = csv_options(path)
    convert = csv.ConvertOptions(include_columns=list(columns) if columns else None)

    def blocks() -> Iterator[np.ndarray]:
        try:
            for batch in csv.open_csv(path, read_options=read, parse_options=parse,
                                      convert_options=convert):
                yield _arrow_to_numpy(batch, repr(str(path)))
        except (pa.ArrowException, UnicodeDecodeError) as error:
            raise csv_error(path, error) from error

    return _rechunk(blocks(), chunk_rows)


def read_chunks(path: str | Path, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                columns: Sequence[str] | None = None) -> ChunkedTable:
    """Open a table for chunked reading; the format is sniffed from the content.

    Parameters
    ----------
    path:
        NPY (2-D numeric), NPZ (holding ``X``), Parquet or CSV with a header row.
    chunk_rows:
        Most rows per chunk.
    columns:
        Parquet/CSV columns to read (default: all, which must all be numeric).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Empty, truncated or corrupt files, non-numeric or non-2-D arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} does not exist; check the path.")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an int >= 1, got {chunk_rows!r}.")
    if path.stat().st_size == 0:
        raise ValueError(f"path={str(path)!r} is empty.")
    kind = _kind(path)
    if columns is not None and kind in ("npy", "npz"):
        raise ValueError(f"columns applies to Parquet and CSV; {str(path)!r} is {kind}. "
                         "Pass columns=None.")
    if kind == "npy":
        n, chunks = _npy_chunks(path, chunk_rows)
    elif kind == "npz":
        n, chunks = _npz_chunks(path, chunk_rows)
    elif kind == "parquet":
        n, chunks = _parquet_chunks(path, chunk_rows, columns)
    else:
        return ChunkedTable(path, kind, None, _csv_chunks(path, chunk_rows, columns))
    return ChunkedTable(path, kind, n, chunks)
