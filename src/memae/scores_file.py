"""The scores file: one CSV row per sample, plus a JSON sidecar saying where it came from.

``memae score`` writes ``id,score,anomaly[,label]``: the sample's name (row
number or image path), its anomaly score (higher = more anomalous), the
thresholded decision (0/1, score above the model's threshold) and the true
label when the data has one. Other tools may add columns; a video scores file
has ``clip,frame,score,label``. :func:`read_scores` reads any such CSV.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memae.atomic import atomic_path, check_file_target, write_json_atomic
from memae.data.csvfile import read_csv_text

__all__ = ["column", "read_scores", "read_sidecar", "sidecar_path", "write_scores"]


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``scores.csv`` -> ``scores.json``."""
    return Path(path).with_suffix(".json")


def write_scores(path: str | os.PathLike[str], ids: Sequence[str], scores: np.ndarray,
                 anomaly: np.ndarray, labels: np.ndarray | None = None,
                 meta: dict[str, Any] | None = None) -> Path:
    """Write the scores CSV (and ``meta`` to the JSON sidecar when given)."""
    path = Path(path)
    if meta is not None:
        check_file_target(sidecar_path(path), "scores sidecar")
    header = ["id", "score", "anomaly"] + ([] if labels is None else ["label"])
    with atomic_path(path, "scores file") as tmp, tmp.open("w", newline="",
                                                           encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i, (name, score, flag) in enumerate(zip(ids, scores, anomaly, strict=True)):
            row = [name, repr(float(score)), int(flag)]
            writer.writerow(row if labels is None else [*row, int(labels[i])])
    if meta is not None:
        write_json_atomic(sidecar_path(path), meta, "scores sidecar")
    return path


def read_scores(path: str | os.PathLike[str], required: Sequence[str] = ("score",)
                ) -> dict[str, np.ndarray]:
    """Every column of a scores CSV as a string array, keyed by the header.

    Raises ``ValueError`` naming any of ``required`` that is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"scores file {str(path)!r} does not exist; write one with "
                                "`memae score`.")
    if path.stat().st_size == 0:
        raise ValueError(f"scores file {str(path)!r} is empty; it needs a header row.")
    columns = read_csv_text(path)
    missing = [name for name in required if name not in columns]
    if missing:
        raise ValueError(f"scores file {str(path)!r} has columns {list(columns)}; it needs "
                         f"{missing} as well.")
    if not len(next(iter(columns.values()))):
        raise ValueError(f"scores file {str(path)!r} has a header but no rows; score a "
                         "non-empty file with `memae score`.")
    return columns


def column(columns: dict[str, np.ndarray], name: str, dtype: type, source: str) -> np.ndarray:
    """Column ``name`` converted to ``dtype``, with an error naming the bad value."""
    values = columns[name]
    try:
        out = values.astype(np.float64).astype(dtype) if dtype is int else values.astype(dtype)
    except ValueError as error:
        raise ValueError(f"column {name!r} of {source} must hold numbers: {error}") from error
    if dtype is float and not np.isfinite(out).all():
        raise ValueError(f"column {name!r} of {source} holds NaN or infinite values.")
    return out


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON sidecar of a scores CSV; empty when there is none."""
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"scores sidecar {str(side)!r} is not JSON ({error}); score again "
                         "or delete it.") from error
    if not isinstance(meta, dict):
        raise ValueError(f"scores sidecar {str(side)!r} holds {type(meta).__name__}, not a "
                         "JSON object; score again or delete it.")
    return meta
