"""The one CSV reader: the delimiter sniffed from the head of the file, pyarrow for the rest.

Both the whole-table loader (:func:`memae.data.tabular.load_table`) and the
chunked one (:mod:`memae.data.chunks`) read CSV through :func:`csv_options`
and :func:`read_csv_text`, so a file reads the same way everywhere: a UTF-8
BOM is dropped (pyarrow does so), ``,``, ``;``, tab or ``|`` separate fields
(sniffed from the first 64 KB), duplicate column names are refused (a dict of
columns would silently keep one), and text that is not UTF-8 is an error
naming the file.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DELIMITERS", "check_decimal_commas", "csv_header", "csv_options", "read_csv_text"]

DELIMITERS = ",;\t|"
_SAMPLE_BYTES = 1 << 16
# A number written with a decimal comma ("0,189", "-12,5"), as some locales export.
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


def _import_pyarrow(path: Path) -> Any:
    try:
        from pyarrow import csv as pa_csv
    except ImportError as error:
        raise ImportError(f"reading {str(path)!r} needs pyarrow: pip install pyarrow (or "
                          "save the table as NPY or NPZ)") from error
    return pa_csv


def _sample(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if not head.strip():
        raise ValueError(f"path={str(path)!r} is empty; a CSV needs a header row of column "
                         "names")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:  # a character cut by the sample's end
            return head[:error.start].decode("utf-8-sig")
        raise ValueError(f"path={str(path)!r} is not UTF-8 text (byte {error.start}: "
                         f"{error.reason}); save it as UTF-8.") from error


def sniff_delimiter(path: Path) -> str:
    """The field separator of a CSV file, from its first 64 KB (``,`` when unclear)."""
    sample = _sample(path)
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        sample = "\n".join(lines[:-1])  # the last line may be cut
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # a single column, or no consistent separator
        return ","


def csv_options(path: Path) -> tuple[Any, str]:
    """``(pyarrow ParseOptions, delimiter)`` for ``path``."""
    pa_csv = _import_pyarrow(path)
    delimiter = sniff_delimiter(path)
    return pa_csv.ParseOptions(delimiter=delimiter), delimiter


def check_header(names: list[str], path: Path) -> None:
    """Refuse empty or duplicate column names."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"path={str(path)!r} has two columns named {name!r}; rename one "
                             "so every column has its own name.")
        seen.add(name)


def csv_error(path: Path, error: Exception) -> ValueError:
    """A pyarrow CSV error as one line naming the file."""
    detail = " ".join(str(error).split())
    if "UTF8" in detail or "UTF-8" in detail:
        return ValueError(f"path={str(path)!r} is not UTF-8 text ({detail}); save it as UTF-8.")
    return ValueError(f"path={str(path)!r} is not a readable CSV ({detail}); check the row "
                      "and quote fields that contain the separator.")


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, from its first block (duplicates refused)."""
    import pyarrow as pa

    pa_csv = _import_pyarrow(path)
    parse, _ = csv_options(path)
    try:
        with pa_csv.open_csv(path, parse_options=parse) as reader:
            names = reader.schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise csv_error(path, error) from error
    check_header(names, path)
    return names


def read_csv_text(path: Path) -> dict[str, np.ndarray]:
    """Every column of a CSV file as text (``str`` arrays), keyed by the header."""
    import pyarrow as pa

    pa_csv = _import_pyarrow(path)
    names = csv_header(path)
    parse, _ = csv_options(path)
    try:
        convert = pa_csv.ConvertOptions(column_types={name: pa.string() for name in names})
        table = pa_csv.read_csv(path, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise csv_error(path, error) from error
    return {name: np.asarray(column.to_numpy(zero_copy_only=False), dtype=str)
            .reshape(table.num_rows)
            for name, column in zip(table.column_names, table.columns, strict=True)}


def check_decimal_commas(name: str, values: np.ndarray, path: Path) -> None:
    """Refuse a text column whose values are numbers written with decimal commas."""
    filled = [v for v in values[:1000].tolist() if v.strip()]
    if filled and all(_DECIMAL_COMMA.match(v) for v in filled):
        raise ValueError(
            f"path={str(path)!r}: column {name!r} looks like numbers written with decimal "
            f"commas (values like {filled[0]!r}), not text; write them with a decimal point "
            "(e.g. 0.189), or list the column in categorical_cols (--categorical-cols) if it "
            "is a code.")
