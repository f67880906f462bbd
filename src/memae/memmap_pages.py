"""Give back the pages of a read-only memory map once a chunk has been scored.

Pages of a file mapped with ``np.load(path, mmap_mode="r")`` stay resident
after they are read, so scoring a file larger than RAM chunk by chunk still
grows the process's resident set to the whole file. Advising the kernel that
the rows already scored are not needed (``MADV_DONTNEED``) drops them; a
later read of those rows simply faults them in again from the file.
"""

from __future__ import annotations

import mmap

import numpy as np


def _mapping(X: np.ndarray) -> tuple[mmap.mmap, int] | None:
    """The ``mmap`` behind ``X`` and where ``X``'s data starts in it, if any."""
    if not isinstance(X, np.memmap) or not X.flags.c_contiguous:
        return None
    mm = getattr(X, "_mmap", None)
    if not isinstance(mm, mmap.mmap) or not hasattr(mm, "madvise"):
        return None
    # np.memmap maps from the allocation-granularity boundary below its offset.
    return mm, int(X.offset) % mmap.ALLOCATIONGRANULARITY


def release_rows(X: np.ndarray, start: int, stop: int) -> None:
    """Drop the resident pages that hold only rows ``[start, stop)`` of ``X``.

    A no-op for anything but a C-contiguous, read-only ``np.memmap`` (a
    writable map keeps its pages: they may hold changes not yet written).
    """
    found = _mapping(X)
    if found is None or X.flags.writeable:
        return
    mm, data_start = found
    row_bytes = X.strides[0]
    first = data_start + start * row_bytes
    last = data_start + stop * row_bytes
    page = mmap.PAGESIZE
    # Whole pages only: a page shared with the next chunk is kept.
    aligned = -(-first // page) * page
    length = (last // page) * page - aligned
    if length > 0:
        mm.madvise(mmap.MADV_DONTNEED, aligned, length)
