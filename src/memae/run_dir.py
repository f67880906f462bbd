"""The layout of a run directory, the unit that train, score, report and export share.

::

    RUN_DIR/
      config.yaml          the resolved RunConfig (defaults < file < flags)
      model.safetensors    weights + JSON metadata (MemAEDetector.save)
      input.json           how to read data for this model (memae.data.inputs.InputSpec)
      history.json         per-epoch losses, best epoch, early stopping
      metrics.json         threshold, fit time, and in-sample metrics when labels exist
      scores.csv (+.json)  written by ``memae score`` by default (OutputConfig.scores)
      report/              written by ``memae report`` (OutputConfig.report)
      checkpoints/         the per-epoch training checkpoint (``memae train --resume``)

Every file is data (YAML, JSON, CSV, safetensors, PNG, HTML); nothing is
pickled. Names that come from a configuration file are resolved with
:meth:`RunDir.inside`, which refuses absolute paths and ``..`` escapes, so a
config file cannot make a run write outside its directory.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunDir", "locate_model", "write_json_atomic"]


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON through a temporary file and a rename."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; these are shareable records
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory; see the module docstring for the layout."""

    root: Path

    CONFIG = "config.yaml"
    MODEL = "model.safetensors"
    INPUT = "input.json"
    HISTORY = "history.json"
    METRICS = "metrics.json"
    CHECKPOINTS = "checkpoints"

    @property
    def config(self) -> Path:
        return self.root / self.CONFIG

    @property
    def model(self) -> Path:
        return self.root / self.MODEL

    @property
    def input_spec(self) -> Path:
        return self.root / self.INPUT

    @property
    def history(self) -> Path:
        return self.root / self.HISTORY

    @property
    def metrics(self) -> Path:
        return self.root / self.METRICS

    @property
    def checkpoints(self) -> Path:
        return self.root / self.CHECKPOINTS

    def inside(self, name: str, what: str) -> Path:
        """``root / name``, refusing names that leave the run directory.

        Parameters
        ----------
        name:
            A relative path such as ``"scores.csv"`` or ``"report"``.
        what:
            The configuration key it came from, for the error message.
        """
        if not name or Path(name).is_absolute():
            raise ValueError(f"{what}={name!r} must be a relative path inside the run "
                             f"directory {str(self.root)!r}, e.g. 'report'.")
        root = self.root.resolve()
        target = (root / name).resolve()
        if target != root and root not in target.parents:
            raise ValueError(f"{what}={name!r} points outside the run directory "
                             f"{str(self.root)!r}; use a name inside it such as 'report'.")
        return target

    @classmethod
    def create(cls, root: str | Path, overwrite: bool = False) -> RunDir:
        """Make the directory for a new run; an existing run needs ``overwrite``."""
        run = cls(Path(root))
        if run.root.exists() and not run.root.is_dir():
            raise NotADirectoryError(f"run directory {str(run.root)!r} is a file; "
                                     "choose another --out.")
        if run.model.exists() and not overwrite:
            raise ValueError(f"run directory {str(run.root)!r} already holds a model; pass "
                             "--overwrite to replace it or choose another --out.")
        run.root.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, root: str | Path) -> RunDir:
        """An existing run directory (it must hold a model file)."""
        run = cls(Path(root))
        if not run.root.is_dir():
            raise FileNotFoundError(f"run directory {str(run.root)!r} does not exist; give "
                                    "the --out folder of a `memae train` run.")
        if not run.model.is_file():
            raise FileNotFoundError(f"{str(run.root)!r} has no {cls.MODEL}; is it the "
                                    "output folder of `memae train`?")
        return run

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON to ``root / name`` atomically."""
        return write_json_atomic(self.inside(name, "file name"), data)

    def read_json(self, name: str) -> Any:
        """The JSON document ``root / name``."""
        path = self.inside(name, "file name")
        if not path.is_file():
            raise FileNotFoundError(f"{str(path)!r} is missing from the run directory.")
        return json.loads(path.read_text(encoding="utf-8"))


def locate_model(model: str | Path) -> tuple[Path, RunDir]:
    """The model file and its run directory, from either of them.

    ``memae score``, ``report`` and ``export`` accept a run directory or a model
    file; the files describing the model (``input.json``, ``config.yaml``) are
    looked up beside the model file.
    """
    path = Path(model)
    if path.is_dir():
        run = RunDir.open(path)
        return run.model, run
    if not path.is_file():
        raise FileNotFoundError(f"model {str(path)!r} does not exist; give a run "
                                f"directory or its {RunDir.MODEL}.")
    return path, RunDir(path.parent)
