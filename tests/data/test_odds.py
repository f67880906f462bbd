from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat
from scipy.io.matlab import matfile_version

from memae.data import list_odds, load_odds

# (rows, features, outliers) as published by ODDS (odds.cs.stonybrook.edu).
ODDS_TABLE = {
    "arrhythmia": (452, 274, 66),
    "cardio": (1831, 21, 176),
    "glass": (214, 9, 9),
    "ionosphere": (351, 33, 126),
    "letter": (1600, 32, 100),
    "lympho": (148, 18, 6),
    "mnist": (7603, 100, 700),
    "musk": (3062, 166, 97),
    "optdigits": (5216, 64, 150),
    "pendigits": (6870, 16, 156),
    "pima": (768, 8, 268),
    "satellite": (6435, 36, 2036),
    "satimage-2": (5803, 36, 71),
    "shuttle": (49097, 9, 3511),
    "vertebral": (240, 6, 30),
    "vowels": (1456, 12, 50),
    "wbc": (378, 30, 21),
}


@pytest.mark.real_data
def test_list_odds_real(shared_data: Path) -> None:
    assert list_odds(shared_data / "odds") == sorted(ODDS_TABLE)


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(ODDS_TABLE))
def test_load_odds_matches_published_sizes(shared_data: Path, name: str) -> None:
    X, y = load_odds(shared_data / "odds" / f"{name}.mat")
    rows, features, outliers = ODDS_TABLE[name]
    assert X.shape == (rows, features)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert y.shape == (rows,)
    assert int(y.sum()) == outliers
    assert np.isfinite(X).all()


def test_load_odds_v5_round_trip(tmp_path: Path) -> None:
    X = np.arange(12, dtype=np.int16).reshape(4, 3)
    savemat(tmp_path / "toy.mat", {"X": X, "y": np.array([[0], [1], [0], [0]], np.uint8)})
    got_X, got_y = load_odds(tmp_path / "toy.mat")
    np.testing.assert_array_equal(got_X, X.astype(np.float64))
    assert got_y.tolist() == [0, 1, 0, 0]
    assert list_odds(tmp_path) == ["toy"]


def write_v73(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write a file laid out like MATLAB's ``save -v7.3``: a 512-byte header, then HDF5."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w", userblock_size=512) as handle:
        for key, value in arrays.items():
            handle[key] = value.T  # MATLAB is column-major: HDF5 sees the transpose
    header = b"MATLAB 7.3 MAT-file, created by a test".ljust(116) + b"\x00" * 8 + b"\x00\x02IM"
    with path.open("r+b") as handle:
        handle.write(header)
    return path


def test_load_odds_v73_is_transposed_back(tmp_path: Path) -> None:
    X = np.arange(10, dtype=np.float64).reshape(5, 2)
    y = np.array([[1], [0], [0], [0], [1]], dtype=np.float64)
    path = write_v73(tmp_path / "toy73.mat", {"X": X, "y": y})
    assert matfile_version(path)[0] == 2  # SciPy sees a v7.3 file, which it cannot load
    got_X, got_y = load_odds(path)
    np.testing.assert_array_equal(got_X, X)
    assert got_y.tolist() == [1, 0, 0, 0, 1]


def test_load_odds_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.mat"):
        load_odds(tmp_path / "absent.mat")
    savemat(tmp_path / "no_y.mat", {"X": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"lacks the variables \['y'\]"):
        load_odds(tmp_path / "no_y.mat")
    savemat(tmp_path / "short_y.mat", {"X": np.zeros((3, 2)), "y": np.zeros((2, 1))})
    with pytest.raises(ValueError, match=r"X of shape \(3, 2\) and y of shape \(2, 1\)"):
        load_odds(tmp_path / "short_y.mat")
    savemat(tmp_path / "labels.mat", {"X": np.zeros((2, 2)), "y": np.array([[0], [2]])})
    with pytest.raises(ValueError, match=r"found values \[0, 2\]"):
        load_odds(tmp_path / "labels.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match="not a readable MATLAB file"):
        load_odds(tmp_path / "junk.mat")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        list_odds(tmp_path / "junk.mat")


def test_v73_without_h5py_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_v73(tmp_path / "toy73.mat", {"X": np.zeros((2, 2)), "y": np.zeros((2, 1))})
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` fail
    with pytest.raises(ImportError, match="pip install h5py"):
        load_odds(path)
