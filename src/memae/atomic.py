"""Outputs written whole or not at all: a temporary name beside the target, then a rename.

Every file memae writes (models, checkpoints, run files, scores, reports,
exports, overlays) goes through :func:`atomic_path` or :func:`atomic_dir`. A
reader never sees a half-written file; a failure (an exception, a full disk)
leaves any previous file at the target untouched and no temporary file or
newly made parent folder behind. Targets that are not regular files (a
directory where a file is expected, a device node, a FIFO) are refused before
anything is written, since renaming over them would destroy them.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_dir", "atomic_path", "check_file_target", "make_folders", "remove_folders",
           "write_json_atomic", "write_text_atomic"]

# Errors of the disk rather than of the data: reported against the target.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file_target(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a ``Path``, or a ``ValueError`` when something other than a file is there."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError as error:
        raise ValueError(f"{what} {str(path)!r} lies under a file, not a folder; "
                         "choose another path.") from error
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"{what} {str(path)!r} is {_kind(mode)}, not a regular file; give "
                         "a file path (an existing file there is replaced).")
    return path


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing ancestors; the ones made, deepest first."""
    made = []
    probe = folder
    while not probe.exists():
        made.append(probe)
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise NotADirectoryError(f"{str(probe)!r} is a file, so {str(folder)!r} cannot be "
                                 "made; choose another output path.")
    folder.mkdir(parents=True, exist_ok=True)
    return made


def remove_folders(made: list[Path]) -> None:
    """Remove the folders :func:`make_folders` made, deepest first, while they are empty."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty: something else put a file there


def _disk_error(error: OSError, what: str, path: Path) -> OSError:
    disk = OSError(f"{what} {str(path)!r} could not be written "
                   f"({os.strerror(error.errno or 0)}); free space on that disk or choose "
                   "another path. Nothing was written.")
    disk.errno = error.errno
    return disk


@contextmanager
def atomic_path(path: str | os.PathLike[str], what: str = "output") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    The temporary name keeps ``path``'s suffix, so writers that choose a format
    by extension (PyAV, onnx) behave the same. The file gets the permissions a
    plain ``open()`` would give. ``what`` names the target in errors
    (``"--out"``, ``"model file"``).
    """
    path = check_file_target(path, what)
    made = make_folders(path.parent)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                    suffix=f".tmp{path.suffix}")
    os.close(handle)
    tmp = Path(name)
    done = False
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        check_file_target(path, what)  # something may have appeared there meanwhile
        os.replace(tmp, path)
        done = True
    except OSError as error:
        if error.errno in _DISK_ERRNOS:
            raise _disk_error(error, what, path) from error
        raise
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
            remove_folders(made)


def write_text_atomic(path: str | os.PathLike[str], text: str, what: str = "output") -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path, what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike[str], data: Any, what: str = "output") -> Path:
    """Write ``data`` as indented JSON to ``path`` through :func:`atomic_path`."""
    return write_text_atomic(path, json.dumps(data, indent=2), what)


@contextmanager
def atomic_dir(path: str | os.PathLike[str], what: str = "output folder") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it replaces ``path`` on success.

    The previous folder at ``path`` (if any) is removed only after the new one
    is in place, so a failure leaves it as it was.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a file, not a folder; choose another path.")
    made = make_folders(path.parent)
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    old: Path | None = None
    try:
        yield work
        os.chmod(work, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.",
                                        suffix=".old")) / path.name
            os.replace(path, old)
        os.replace(work, path)
    except BaseException as error:
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)  # put the previous folder back
        shutil.rmtree(work, ignore_errors=True)
        remove_folders(made)
        if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
            raise _disk_error(error, what, path) from error
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old.parent, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
