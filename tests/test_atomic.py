"""Outputs are written whole or not at all: a temporary name beside the target, then a rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from memae.atomic import atomic_dir, atomic_path, write_text_atomic


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
