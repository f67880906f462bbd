"""Scoring a read-only memory map gives its pages back chunk by chunk."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from memae import MemAEDetector
from memae.memmap_pages import release_rows


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


@pytest.fixture
def mapped(tmp_path: Path) -> np.ndarray:
    path = tmp_path / "rows.npy"
    data = np.random.default_rng(0).standard_normal((100_000, 120), dtype=np.float32)
    np.save(path, data)
    return np.load(path, mmap_mode="r")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_rows_drops_resident_pages(mapped: np.ndarray) -> None:
    before = _rss_mb()
    assert float(mapped.sum(dtype=np.float64)) != 0.0   # fault every page in (48 MB)
    loaded = _rss_mb()
    assert loaded - before > 40
    release_rows(mapped, 0, len(mapped))
    assert loaded - _rss_mb() > 40
    # The data is still there: pages fault back in from the file.
    np.testing.assert_array_equal(mapped[-3:], np.load(mapped.filename)[-3:])


def test_memmap_scores_equal_in_memory_scores(mapped: np.ndarray, monkeypatch) -> None:
    monkeypatch.setattr("memae.detector.VALIDATION_CHUNK_ROWS", 8192)  # several chunks
    detector = MemAEDetector(epochs=1, random_state=0, device="cpu",
                             score_batch_size=1024).fit(np.asarray(mapped[:500]))
    fresh = np.load(mapped.filename, mmap_mode="r")
    np.testing.assert_array_equal(detector.decision_function(fresh),
                                  detector.decision_function(np.array(fresh)))


def test_arrays_and_writable_maps_are_left_alone(tmp_path: Path) -> None:
    plain = np.ones((10, 4), np.float32)
    release_rows(plain, 0, 10)
    writable = np.lib.format.open_memmap(tmp_path / "w.npy", "w+", np.float32, (4096, 4))
    writable[:] = 7.0
    release_rows(writable, 0, 4096)     # may hold unwritten changes: kept
    assert float(writable.sum()) == 7.0 * 4096 * 4
