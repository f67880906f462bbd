"""ODDS outlier-detection benchmarks (Rayana 2016) stored as MATLAB ``.mat`` files.

Each file holds ``X`` (n, d) and ``y`` (n, 1) with 1 = outlier. Files saved with
``-v7.3`` are HDF5 containers that SciPy cannot read; those are read with h5py, where
MATLAB's column-major arrays appear transposed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["list_odds", "load_odds"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# MATLAB v7.3 puts a 512-byte header (an HDF5 user block) before the HDF5 superblock.
_HDF5_OFFSETS = (0, 512)


def _is_hdf5(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(512 + len(_HDF5_SIGNATURE))
    return any(head[o : o + len(_HDF5_SIGNATURE)] == _HDF5_SIGNATURE for o in _HDF5_OFFSETS)


def _read_hdf5(path: Path) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            f"{str(path)!r} is a MATLAB v7.3 (HDF5) file, which needs h5py: pip install h5py"
        ) from exc
    with h5py.File(path, "r") as handle:
        # Column-major MATLAB arrays are stored as their transpose.
        return {key: np.asarray(handle[key]).T for key in ("X", "y") if key in handle}


def _read_v5(path: Path) -> dict[str, np.ndarray]:
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        return loadmat(path, variable_names=["X", "y"])
    except (MatReadError, ValueError, TypeError, OSError) as exc:
        raise ValueError(
            f"path={str(path)!r} is not a readable MATLAB file ({exc}); pass an ODDS .mat file"
        ) from exc


def load_odds(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Load one ODDS benchmark from a MATLAB ``.mat`` file (v5 or v7.3).

    Parameters
    ----------
    path : str or PathLike
        The ``.mat`` file, e.g. ``odds/cardio.mat``. MATLAB v7.3 files need h5py.

    Returns
    -------
    X : numpy.ndarray
        float64, shape (n, d).
    y : numpy.ndarray
        int64, shape (n,); 1 = outlier, 0 = inlier.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is unreadable, lacks ``X`` or ``y``, or their shapes or labels are wrong.
    ImportError
        If the file is v7.3 and h5py is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file; pass an ODDS .mat file")
    arrays = _read_hdf5(path) if _is_hdf5(path) else _read_v5(path)
    missing = [key for key in ("X", "y") if key not in arrays]
    if missing:
        raise ValueError(
            f"path={str(path)!r} lacks the variables {missing}; an ODDS file stores X (n, d) "
            "and y (n, 1)"
        )
    X, y = np.asarray(arrays["X"]), np.asarray(arrays["y"])
    if X.ndim != 2 or y.size != X.shape[0]:
        raise ValueError(
            f"path={str(path)!r} has X of shape {X.shape} and y of shape {y.shape}; expected "
            "X (n, d) and y (n, 1) with the same n"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError(
            f"path={str(path)!r}: y must hold 0 (inlier) and 1 (outlier), found values "
            f"{np.unique(y)[:5].tolist()}"
        )
    return X.astype(np.float64), y.reshape(-1).astype(np.int64)


def list_odds(root: str | os.PathLike[str]) -> list[str]:
    """Names of the ODDS benchmarks in a folder (the ``.mat`` file stems, sorted).

    Parameters
    ----------
    root : str or PathLike
        A folder of ODDS ``.mat`` files. Load one with ``load_odds(root / f"{name}.mat")``.

    Returns
    -------
    list of str
        For example ``["arrhythmia", "cardio", ...]``.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a directory.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"root={str(root)!r} is not a directory; pass the folder holding the ODDS .mat files"
        )
    return sorted(path.stem for path in root.glob("*.mat") if path.is_file())
