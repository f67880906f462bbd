"""Where the benchmark data lives: an explicit path, else the ``MEMAE_DATA`` variable."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATASET_DIRS", "ENV_VAR", "find_dataset", "resolve_data_dir"]

ENV_VAR = "MEMAE_DATA"

DATASET_DIRS: dict[str, str] = {
    "mnist": "mnist",
    "cifar10": "cifar10",
    "kdd99": "kddcup99",
    "odds": "odds",
    "ped2": "ped2",
}
"""Dataset name -> subfolder of the data directory."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$MEMAE_DATA``.

    Parameters
    ----------
    data_dir : str or PathLike, optional
        An explicit directory (e.g. from ``--data-dir``); it wins over the environment.

    Returns
    -------
    pathlib.Path
        The existing directory, with ``~`` expanded.

    Raises
    ------
    ValueError
        If neither ``data_dir`` nor ``MEMAE_DATA`` is set.
    FileNotFoundError
        If the chosen path is not a directory.
    """
    if data_dir is not None and not isinstance(data_dir, str | os.PathLike):
        raise TypeError(f"data_dir={data_dir!r} must be a path (str or Path) or None")
    env = os.environ.get(ENV_VAR, "")
    if data_dir is not None and str(data_dir) != "":
        path, source = Path(data_dir).expanduser(), "data_dir"
    elif env:
        path, source = Path(env).expanduser(), f"${ENV_VAR}"
    else:
        raise ValueError(
            f"no data directory given: pass --data-dir DIR (data_dir=...) or set {ENV_VAR}=DIR "
            "to the folder holding mnist/, cifar10/, kddcup99/, odds/, ped2/"
        )
    if not path.is_dir():
        raise FileNotFoundError(
            f"{source}={str(path)!r} is not a directory; point it at the folder holding the "
            "datasets"
        )
    return path


def find_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of one dataset inside the data directory.

    Parameters
    ----------
    name : {"mnist", "cifar10", "kdd99", "odds", "ped2"}
        The dataset.
    data_dir : str or PathLike, optional
        Passed to :func:`resolve_data_dir`.

    Returns
    -------
    pathlib.Path
        For example ``<data_dir>/kddcup99`` for ``"kdd99"``.

    Raises
    ------
    ValueError
        If ``name`` is unknown or no data directory is set.
    FileNotFoundError
        If the data directory or the dataset's subfolder is missing.
    """
    if name not in DATASET_DIRS:
        raise ValueError(f"name={name!r} is not a known dataset; choose from {list(DATASET_DIRS)}")
    root = resolve_data_dir(data_dir)
    folder = root / DATASET_DIRS[name]
    if not folder.is_dir():
        raise FileNotFoundError(
            f"dataset {name!r} not found: {str(folder)!r} is missing. Put the {name} files "
            f"there or pass the data directory that holds {DATASET_DIRS[name]}/"
        )
    return folder
