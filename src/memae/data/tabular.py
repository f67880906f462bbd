"""Generic tables (CSV, Parquet, NPY, NPZ) and a one-hot encoder fitted on training tables.

Column types are decided once, at load time: a CSV or Parquet column whose values are
all numbers (empty cells become NaN) is numeric; any column holding text is categorical;
``categorical_cols`` forces numeric-looking codes (zip codes, port numbers) to be
categorical. Numeric columns form ``Table.X``; categorical ones stay as strings in
``Table.categorical`` until a :class:`CategoricalEncoder`, fitted on the training table,
turns them into one-hot columns.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import OneHotEncoder

from memae.data.csvfile import check_decimal_commas, csv_header, read_csv_text

__all__ = ["CategoricalEncoder", "Table", "load_table", "table_columns"]

_MAGIC = {b"PAR1": "parquet", b"\x93NUMPY": "npy", b"PK\x03\x04": "npz"}


@dataclass(frozen=True)
class Table:
    """Columns of one table, split by type.

    Attributes
    ----------
    X : numpy.ndarray
        Numeric features, shape (n, d). float64, except that a ``.npy`` file loaded whole
        stays a read-only memory map with its own floating dtype (no copy).
    feature_names : tuple of str
        Names of the columns of ``X`` (``x0, x1, ...`` for NPY/NPZ files).
    categorical : numpy.ndarray
        Text features as a fixed-width string array, shape (n, k); (n, 0) if none.
    categorical_names : tuple of str
        Names of the columns of ``categorical``.
    y : numpy.ndarray or None
        The label column: int64 if its values are integers, float64 if other numbers,
        else strings. None when no label was requested or stored.
    """

    X: np.ndarray
    feature_names: tuple[str, ...]
    categorical: np.ndarray
    categorical_names: tuple[str, ...]
    y: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.X.shape[0] if self.X.ndim == 2 else -1
        if self.X.ndim != 2 or len(self.feature_names) != self.X.shape[1]:
            raise ValueError(
                f"X has shape {self.X.shape} for {len(self.feature_names)} feature_names; "
                "pass a 2-D X with one name per column"
            )
        if self.categorical.shape != (n, len(self.categorical_names)):
            raise ValueError(
                f"categorical has shape {self.categorical.shape}; expected "
                f"({n}, {len(self.categorical_names)}) to match X and categorical_names"
            )
        if self.y is not None and self.y.shape != (n,):
            raise ValueError(f"y has shape {self.y.shape}; expected ({n},) to match X")


def _sniff(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(6)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "csv")


def _read_csv(path: Path, keep_text: Sequence[str]) -> dict[str, np.ndarray]:
    columns = {}
    for name, column in read_csv_text(path).items():
        if name in keep_text:  # as written, so codes such as "007" keep their zeros
            columns[name] = column
            continue
        try:
            columns[name] = np.where(column == "", "nan", column).astype(np.float64)
        except ValueError:
            check_decimal_commas(name, column, path)
            columns[name] = column
    return columns


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(
            f"reading {str(path)!r} needs pyarrow: pip install pyarrow (or save the table "
            "as CSV or NPZ)"
        ) from exc
    table = pq.read_table(path)
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            integral = pa.types.is_integer(kind) and column.null_count == 0
            columns[name] = values.astype(np.int64) if integral else values
        elif (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_dictionary(kind)
        ):
            text = column.cast(pa.string()).to_pylist()
            columns[name] = np.array(["" if v is None else v for v in text], dtype=str)
        else:
            raise TypeError(
                f"column {name!r} of {str(path)!r} has Parquet type {kind}; only numbers, "
                "booleans and strings are supported. Convert or drop it (ignore_cols)"
            )
    return columns


def _read_arrays(path: Path, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if kind == "npy":
            return np.load(path, mmap_mode="r", allow_pickle=False), None
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise ValueError(
                    f"path={str(path)!r} has keys {archive.files}; expected 'X' and optionally "
                    "'y' (the ADBench layout)"
                )
            return archive["X"], archive["y"] if "y" in archive.files else None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(
            f"path={str(path)!r} looks like {kind.upper()} but cannot be read ({exc}); "
            "the file is truncated or corrupt: write it again with numpy.save/savez"
        ) from exc
    except ValueError as exc:
        if str(exc).startswith("path="):
            raise
        if "allow_pickle" not in str(exc) and "Python objects" not in str(exc):
            raise ValueError(
                f"path={str(path)!r} is not a valid {kind.upper()} file ({exc}); it is "
                "truncated or corrupt: write it again with numpy.save/savez"
            ) from exc
        raise ValueError(
            f"path={str(path)!r} stores Python objects, which are not loaded for safety; "
            "save numeric arrays instead"
        ) from exc


def table_columns(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a table file without reading its rows.

    CSV: the header row; Parquet: the schema; NPY/NPZ: ``x0, x1, ...`` (and no
    label column: an NPZ label is stored under the key ``y``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file; pass a CSV/Parquet/NPY/NPZ")
    kind = _sniff(path)
    if kind == "csv":
        return csv_header(path)
    if kind == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ImportError(f"reading {str(path)!r} needs pyarrow: pip install pyarrow") from exc
        return list(pq.read_schema(path).names)
    matrix, _ = _read_arrays(path, kind)
    width = matrix.shape[1] if matrix.ndim == 2 else 0
    return [f"x{j}" for j in range(width)]


def _as_label(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "fiub":
        values = np.asarray(values, dtype=np.float64)
        if np.isfinite(values).all() and (values == np.round(values)).all():
            return values.astype(np.int64)
    return values


def _require(path: Path, argument: str, names: Sequence[str], available: Sequence[str]) -> None:
    missing = [name for name in names if name not in available]
    if missing:
        raise ValueError(
            f"{argument} names {missing}, which {str(path)!r} does not have; choose from "
            f"{list(available)}"
        )


def load_table(
    path: str | os.PathLike[str],
    label_col: str | None = None,
    ignore_cols: Sequence[str] = (),
    categorical_cols: Sequence[str] = (),
) -> Table:
    """Load a table from CSV (with a header row), Parquet, NPY or NPZ.

    Parameters
    ----------
    path : str or PathLike
        The file; its format is detected from the content (Parquet, NPY and NPZ magic
        bytes), and anything else is read as UTF-8 CSV with its delimiter (``,``, ``;``,
        tab or ``|``) sniffed (see :mod:`memae.data.csvfile`). NPZ files hold ``X`` and
        optionally ``y`` (the ADBench layout). NPY files are memory-mapped read-only.
    label_col : str, optional
        Column to return as ``Table.y``. NPY/NPZ columns are named ``x0, x1, ...``.
    ignore_cols : sequence of str
        Columns to drop, e.g. identifiers or timestamps.
    categorical_cols : sequence of str
        Numeric-looking columns to treat as categorical. Text columns are always
        categorical.

    Returns
    -------
    Table

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a named column does not exist, rows are ragged, or the arrays are not 2-D numbers.
    TypeError
        If a Parquet column has an unsupported type.
    ImportError
        If the file is Parquet and pyarrow is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file; pass a CSV/Parquet/NPY/NPZ")
    for argument, value in (("ignore_cols", ignore_cols), ("categorical_cols", categorical_cols)):
        if isinstance(value, str):
            raise TypeError(f"{argument}={value!r} is a string; pass a list such as [{value!r}]")
    kind = _sniff(path)
    stored_y = None
    if kind in ("npy", "npz"):
        matrix, stored_y = _read_arrays(path, kind)
        if matrix.ndim != 2 or matrix.dtype.kind not in "fiub":
            raise ValueError(
                f"path={str(path)!r} holds an array of shape {matrix.shape} and dtype "
                f"{matrix.dtype}; expected a 2-D numeric array (rows, features)"
            )
        if stored_y is not None and label_col is not None:
            raise ValueError(
                f"label_col={label_col!r} was given but {str(path)!r} already stores 'y'; "
                "pass label_col=None"
            )
        names = [f"x{j}" for j in range(matrix.shape[1])]
        untouched = label_col is None and not ignore_cols and not categorical_cols
        if untouched and matrix.dtype.kind == "f":
            y = None if stored_y is None else _as_label(stored_y.reshape(-1))
            empty = np.empty((matrix.shape[0], 0), dtype=str)
            return Table(matrix, tuple(names), empty, (), y)
        columns = {name: np.asarray(matrix[:, j]) for j, name in enumerate(names)}
    else:
        columns = _read_parquet(path) if kind == "parquet" else _read_csv(path, categorical_cols)
    _require(path, "label_col", [] if label_col is None else [label_col], list(columns))
    _require(path, "ignore_cols", ignore_cols, list(columns))
    _require(path, "categorical_cols", categorical_cols, list(columns))
    y = columns.pop(label_col) if label_col is not None else stored_y
    for name in ignore_cols:
        columns.pop(name, None)
    text = [n for n, c in columns.items() if c.dtype.kind == "U" or n in categorical_cols]
    numbers = [n for n in columns if n not in text]
    n_rows = _n_rows(columns, y)
    X = np.empty((n_rows, 0)) if not numbers else np.column_stack([columns[n] for n in numbers])
    cat = np.empty((n_rows, 0), dtype=str)
    if text:
        cat = np.column_stack([_category_text(columns[n]) for n in text])
    y = None if y is None else _as_label(y.reshape(-1))
    return Table(X.astype(np.float64), tuple(numbers), cat, tuple(text), y)


def _n_rows(columns: dict[str, np.ndarray], y: np.ndarray | None) -> int:
    if columns:
        return len(next(iter(columns.values())))
    return 0 if y is None else len(y)


def _category_text(column: np.ndarray) -> np.ndarray:
    if column.dtype.kind == "U":
        return column
    # Integer codes read as floats print as "3", not "3.0".
    integral = np.isfinite(column).all() and (column == np.round(column)).all()
    return (column.astype(np.int64) if integral else column).astype(str)


class CategoricalEncoder:
    """One-hot encode a table's categorical columns, learning the categories on training data.

    ``transform`` returns the numeric columns followed by one 0/1 column per category
    seen in ``fit`` (sklearn's ``OneHotEncoder`` with ``handle_unknown="ignore"``, so an
    unseen category encodes as all zeros). The fitted state is a JSON-friendly dict
    (:meth:`to_dict`, :meth:`from_dict`) so it can be saved beside a model checkpoint.

    Attributes
    ----------
    feature_names_in_ : tuple of str
        Numeric columns seen in ``fit``, in order.
    categories_ : dict of str to list of str
        For each categorical column, its sorted categories.
    """

    def fit(self, table: Table) -> CategoricalEncoder:
        """Learn the numeric column names and each categorical column's categories."""
        if table.X.shape[0] == 0:
            raise ValueError("table has 0 rows; fit the encoder on a non-empty training table")
        self.feature_names_in_ = tuple(table.feature_names)
        self.categories_ = {
            name: sorted(set(table.categorical[:, j].tolist()))
            for j, name in enumerate(table.categorical_names)
        }
        self._build()
        return self

    def _build(self) -> None:
        self._onehot = None
        if self.categories_:
            categories = [np.array(values, dtype=str) for values in self.categories_.values()]
            first = np.array([[values[0] for values in categories]])
            self._onehot = OneHotEncoder(
                categories=categories, handle_unknown="ignore", sparse_output=False
            ).fit(first)

    def transform(self, table: Table) -> np.ndarray:
        """Numeric columns then one-hot columns, float64 of shape (n, n_features_out)."""
        if not hasattr(self, "categories_"):
            raise NotFittedError("this CategoricalEncoder is not fitted; call fit(train_table)")
        _match("numeric", self.feature_names_in_, table.feature_names)
        _match("categorical", tuple(self.categories_), table.categorical_names)
        X = np.asarray(table.X, dtype=np.float64)
        if self._onehot is None:
            return X
        return np.hstack([X, self._onehot.transform(table.categorical)])

    def fit_transform(self, table: Table) -> np.ndarray:
        """Fit on ``table`` and return its encoding."""
        return self.fit(table).transform(table)

    def get_feature_names_out(self) -> list[str]:
        """Output column names: numeric names, then ``"column=category"``."""
        onehot = [
            f"{name}={value}" for name, values in self.categories_.items() for value in values
        ]
        return [*self.feature_names_in_, *onehot]

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain lists and dicts (``json.dumps``-able)."""
        return {"numeric": list(self.feature_names_in_), "categories": dict(self.categories_)}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> CategoricalEncoder:
        """Rebuild a fitted encoder from :meth:`to_dict` output."""
        if not isinstance(state, dict) or set(state) != {"numeric", "categories"}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"state has keys {got}; expected exactly ['categories', 'numeric'] as "
                "written by CategoricalEncoder.to_dict()"
            )
        categories = state["categories"]
        if not all(isinstance(v, list) and v for v in categories.values()):
            raise ValueError("state['categories'] must map each column to a non-empty list")
        encoder = cls()
        encoder.feature_names_in_ = tuple(state["numeric"])
        encoder.categories_ = {str(k): [str(v) for v in vs] for k, vs in categories.items()}
        encoder._build()
        return encoder


def _match(kind: str, expected: tuple[str, ...], got: tuple[str, ...]) -> None:
    if tuple(got) == expected:
        return
    missing = [name for name in expected if name not in got]
    unexpected = [name for name in got if name not in expected]
    detail = (
        f"missing {missing}, unexpected {unexpected}"
        if missing or unexpected
        else (f"order {list(got)} instead of {list(expected)}")
    )
    raise ValueError(
        f"the table's {kind} columns differ from those seen in fit: {detail}. Load the table "
        "with the same columns (and ignore_cols/categorical_cols) as the training table"
    )
