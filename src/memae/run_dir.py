"""The layout of a run directory, the unit that train, score, report and export share.

::

    RUN_DIR/
      config.yaml          the resolved RunConfig (defaults < file < flags)
      model.safetensors    weights + JSON metadata (MemAEDetector.save)
      input.json           how to read data for this model (memae.data.inputs.InputSpec)
      history.json         per-epoch losses and memory health, best epoch, early stopping
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

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memae.atomic import make_folders, remove_folders, write_json_atomic, write_text_atomic

__all__ = ["RunDir", "claim_run", "locate_model"]


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
        """``config.yaml``: the resolved run configuration."""
        return self.root / self.CONFIG

    @property
    def model(self) -> Path:
        """``model.safetensors``: the trained model, weights and JSON metadata."""
        return self.root / self.MODEL

    @property
    def input_spec(self) -> Path:
        """``input.json``: how to read data for this model, as it was read for training."""
        return self.root / self.INPUT

    @property
    def history(self) -> Path:
        """``history.json``: per-epoch losses, the best epoch and early stopping."""
        return self.root / self.HISTORY

    @property
    def metrics(self) -> Path:
        """``metrics.json``: threshold, fit time and in-sample metrics when labels exist."""
        return self.root / self.METRICS

    @property
    def checkpoints(self) -> Path:
        """``checkpoints/``: the per-epoch training checkpoint that ``--resume`` reads."""
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

    RUN_FILES = (CONFIG, MODEL, CHECKPOINTS)

    def check_new(self, overwrite: bool) -> None:
        """Refuse a path that is a file, or that holds a run, unless ``overwrite``."""
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(f"run directory {str(self.root)!r} is a file; "
                                     "choose another --out.")
        held = [name for name in self.RUN_FILES if (self.root / name).exists()]
        if held and not overwrite:
            raise ValueError(
                f"run directory {str(self.root)!r} already holds a run ({', '.join(held)}); "
                "pass --overwrite to replace it, --resume to continue an interrupted one, "
                "or choose another --out.")

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


@contextmanager
def claim_run(root: str | Path, *, overwrite: bool = False, resume: bool = False
              ) -> Iterator[RunDir]:
    """Hold the run directory ``root`` for one training run.

    The directory is created if needed and locked (``flock``) for the whole
    block, so a second ``memae train`` into it is refused while this one runs
    and two runs can never both write it. A new run (not ``resume``) that ends
    in an exception leaves nothing behind: the directory is removed if this
    call created it, else the files the run wrote are removed (a replaced
    ``config.yaml`` is put back). An interrupted run (Ctrl-C, a kill) keeps its
    ``config.yaml`` and checkpoint for ``--resume``.
    """
    run = RunDir(Path(root))
    if resume and not run.root.is_dir():
        raise FileNotFoundError(f"run directory {str(run.root)!r} does not exist; "
                                "--resume takes the --out folder of `memae train`.")
    run.check_new(overwrite or resume)
    made = make_folders(run.root.parent)
    try:
        run.root.mkdir()
        created = True
    except FileExistsError:
        created = False
    descriptor = os.open(run.root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"run directory {str(run.root)!r} is in use by another "
                             "`memae train`; wait for it to finish or choose another "
                             "--out.") from None
        if not run.root.is_dir() or os.stat(run.root).st_ino != os.fstat(descriptor).st_ino:
            raise ValueError(f"run directory {str(run.root)!r} was removed or replaced by "
                             "another process; run the command again.")
        run.check_new(overwrite or resume)  # another run may have finished meanwhile
        previous = run.config.read_bytes() if run.config.is_file() and not resume else None
        try:
            yield run
        except Exception:
            if not resume:
                _undo_new_run(run, created, previous)
                remove_folders(made)
            raise
    finally:
        os.close(descriptor)  # releases the lock


def _undo_new_run(run: RunDir, created: bool, previous_config: bytes | None) -> None:
    if created:
        shutil.rmtree(run.root, ignore_errors=True)
        return
    shutil.rmtree(run.checkpoints, ignore_errors=True)
    if previous_config is None:
        run.config.unlink(missing_ok=True)
    else:
        write_text_atomic(run.config, previous_config.decode("utf-8"), "config file")


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
