"""Outputs are written whole or not at all: a temporary name beside the target, then a rename."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from memae.atomic import (
    atomic_dir,
    atomic_path,
    check_file_target,
    write_json_atomic,
    write_text_atomic,
)


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_folders(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "previous")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("fails mid-write")
    assert target.read_text() == "previous"
    nested = tmp_path / "a" / "b" / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(nested) as tmp:
        raise RuntimeError("fails")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failed_folder_keeps_the_previous_folder(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    with atomic_dir(folder) as work:
        (work / "page.html").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(folder) as work:
        (work / "page.html").write_text("new")
        raise RuntimeError("fails")
    assert (folder / "page.html").read_text() == "old"
    with atomic_dir(folder) as work:
        (work / "other.html").write_text("new")
    assert [p.name for p in folder.iterdir()] == ["other.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_only_regular_files_are_targets(tmp_path: Path) -> None:
    assert check_file_target(tmp_path / "new.csv", "--out") == tmp_path / "new.csv"
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match=r"--out '.*folder' is a directory, not a regular file"):
        check_file_target(tmp_path / "folder", "--out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="lies under a file, not a folder"):
        check_file_target(tmp_path / "file" / "out.csv", "--out")
    with pytest.raises(ValueError, match="is a file, not a folder"), atomic_dir(tmp_path / "file"):
        pass


def test_json_is_written_whole_with_the_file_permissions_of_open(tmp_path: Path) -> None:
    path = write_json_atomic(tmp_path / "a" / "m.json", {"auc": 0.5, "n": [1, 2]})
    assert json.loads(path.read_text()) == {"auc": 0.5, "n": [1, 2]}
    assert path.stat().st_mode & 0o777 == 0o666 & ~_current_umask()
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
