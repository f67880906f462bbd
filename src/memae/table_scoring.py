"""Score a table file chunk by chunk, with memory bounded by the chunk size.

:func:`score_file` reads NPY, NPZ, Parquet or CSV in chunks
(:mod:`memae.data.chunks`), scores each chunk with a fitted detector and
appends the scores to a temporary file beside the output; only a complete run
renames it into place, so an error (bad rows, a corrupt file, Ctrl-C) never
leaves a partial output file.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm.auto import tqdm

from memae.atomic import atomic_path, check_file_target
from memae.data.chunks import DEFAULT_CHUNK_ROWS, read_chunks

logger = logging.getLogger(__name__)
OUTPUT_SUFFIXES = (".npy", ".csv")


@dataclass(frozen=True)
class ScoringSummary:
    """What :func:`score_file` did: rows scored, seconds taken, the file written."""

    n_rows: int
    seconds: float
    output: Path

    @property
    def rows_per_second(self) -> float:
        """Rows scored per second of wall time (``inf`` for a run too short to time)."""
        return self.n_rows / self.seconds if self.seconds > 0 else float("inf")


def _write_npy(raw: IO[bytes], n_rows: int, out: Path) -> None:
    """``raw`` float64 scores -> an NPY file at ``out`` (header + the same bytes)."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f8")),
              "fortran_order": False, "shape": (n_rows,)}
    raw.seek(0)
    with out.open("wb") as target:
        np.lib.format.write_array_header_1_0(target, header)
        shutil.copyfileobj(raw, target, length=1 << 20)


def score_file(detector: Any, path: str | Path, output: str | Path, *,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: Sequence[str] | None = None,
               verbose: bool = False) -> ScoringSummary:
    """Write ``detector.decision_function`` of every row of ``path`` to ``output``.

    Parameters
    ----------
    detector:
        A fitted :class:`memae.MemAEDetector` (tabular).
    path:
        NPY, NPZ (key ``X``), Parquet or CSV with a header row.
    output:
        ``.npy`` (float64 scores, one per row) or ``.csv`` (a ``score`` column).
    chunk_rows:
        Rows read and scored at once; memory grows with it, not with the file.
    columns:
        Parquet/CSV feature columns, in the order used in ``fit``.
    verbose:
        Show a progress bar over rows.

    Raises
    ------
    ValueError, TypeError, FileNotFoundError
        Unreadable files and rows the detector refuses (the message names the
        rows); ``output`` is then left as it was.
    """
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"output must end in {' or '.join(OUTPUT_SUFFIXES)}, got "
                         f"{str(output)!r}.")
    check_file_target(output, "output")
    started = time.perf_counter()
    table = read_chunks(path, chunk_rows, columns)
    csv_out = output.suffix.lower() == ".csv"
    n_rows = 0
    with atomic_path(output, "output") as final, \
            (final.open("wb") if csv_out else tempfile.TemporaryFile(dir=final.parent)) as sink, \
            tqdm(total=table.n_rows, unit="row", disable=not verbose, desc="scoring") as bar:
        if csv_out:
            sink.write(b"score\n")
        for chunk in table.chunks:
            try:
                scores = detector.decision_function(chunk)
            except (ValueError, TypeError) as error:
                raise type(error)(f"{str(table.path)!r} rows {n_rows}-"
                                  f"{n_rows + len(chunk) - 1}: {error}") from error
            if csv_out:
                np.savetxt(sink, scores, fmt="%.17g")
            else:
                sink.write(np.ascontiguousarray(scores, dtype="<f8").tobytes())
            n_rows += len(chunk)
            bar.update(len(chunk))
        if n_rows == 0:
            raise ValueError(f"{str(table.path)!r} has no rows to score.")
        if not csv_out:
            _write_npy(sink, n_rows, final)
    summary = ScoringSummary(n_rows, time.perf_counter() - started, output)
    logger.info("scored %d rows in %.1f s (%.0f rows/s)", n_rows, summary.seconds,
                summary.rows_per_second)
    return summary
