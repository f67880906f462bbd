"""Outputs are written whole or not at all, and never onto something that is not a file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from memae.atomic import atomic_dir, atomic_path, write_text_atomic
from memae.cli import main
from memae.run_dir import RunDir
from tests.video.conftest import tiny_video_model


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("memae: error:") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


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


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("outputs")
    rng = np.random.default_rng(0)
    data = root / "X.csv"
    np.savetxt(data, rng.normal(size=(80, 3)), delimiter=",", header="a,b,c", comments="")
    assert main(["train", "--data", str(data), "--out", str(root / "run"), "--epochs", "1",
                 "--quiet"]) == 0
    return root / "run", data


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_score_refuses_targets_that_are_not_files(run: tuple[Path, Path], tmp_path: Path,
                                                  capsys, kind: str) -> None:
    target = tmp_path / "x.csv"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    assert main(["score", str(run[0]), str(run[1]), "--out", str(target), "--quiet"]) == 2
    assert "not a regular file" in _one_line_error(capsys)
    assert target.is_dir() if kind == "directory" else target.is_fifo()
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_score_of_an_empty_table_keeps_the_previous_scores(run: tuple[Path, Path],
                                                           tmp_path: Path, capsys) -> None:
    out = tmp_path / "scores.csv"
    out.write_text("previous")
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,c\n")
    assert main(["score", str(run[0]), str(empty), "--out", str(out), "--quiet"]) == 2
    assert "no rows" in _one_line_error(capsys)
    assert out.read_text() == "previous"


def test_report_with_missing_data_keeps_the_previous_report(run: tuple[Path, Path],
                                                            tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main(["report", str(run[0]), "--out", str(out), "--quiet"]) == 0
    before = sorted(p.name for p in out.iterdir())
    page = (out / "report.html").read_bytes()
    assert main(["report", str(run[0]), "--out", str(out), "--data",
                 str(tmp_path / "missing.csv"), "--quiet"]) == 2
    assert "--data" in _one_line_error(capsys)
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "report.html").read_bytes() == page


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[Path, Path]:
    pytest.importorskip("av")
    model, root = tiny_video_model(tmp_path_factory.mktemp("video"), size=(32, 32),
                                   n_frames=20, seed=3, file_name="m.safetensors")
    return model, root / "testing" / "frames" / "01"


@pytest.mark.parametrize("damage", ["corrupt frame", "one frame", "bad overlay"])
def test_a_failed_score_video_keeps_the_previous_outputs(video: tuple[Path, Path],
                                                         tmp_path: Path, capsys,
                                                         damage: str) -> None:
    model, frames = video
    folder = tmp_path / "frames"
    shutil.copytree(frames, folder)
    names = sorted(p.name for p in folder.iterdir())
    overlay = tmp_path / "overlay.mp4"
    if damage == "corrupt frame":
        (folder / names[len(names) // 2]).write_bytes(b"\x89PNG\r\n\x1a\n broken")
    elif damage == "one frame":
        for name in names[1:]:
            (folder / name).unlink()
    else:
        overlay.mkdir()
    out = tmp_path / "scores.csv"
    out.write_text("previous")
    args = ["score-video", str(folder), "--model", str(model), "--out", str(out)]
    assert main(args + ["--overlay", str(overlay)]) == 2
    err = _one_line_error(capsys)
    assert {"corrupt frame": "is not a readable image", "one frame": "at least 8 frames",
            "bad overlay": "--overlay"}[damage] in err
    assert out.read_text() == "previous"
    assert overlay.is_dir() if damage == "bad overlay" else not overlay.exists()
    leftovers = {p.name for p in tmp_path.iterdir()} - {"frames", "scores.csv", "overlay.mp4"}
    assert not leftovers


def test_run_files_are_complete_after_training(run: tuple[Path, Path]) -> None:
    names = {p.name for p in run[0].iterdir()}
    assert {RunDir.CONFIG, RunDir.MODEL, RunDir.INPUT, RunDir.HISTORY, RunDir.METRICS,
            RunDir.CHECKPOINTS} <= names
    assert not [n for n in names if n.startswith(".")]


def test_score_video_refuses_a_batch_that_cannot_fit(video: tuple[Path, Path], tmp_path: Path,
                                                     capsys) -> None:
    model, frames = video
    out = tmp_path / "scores.csv"
    assert main(["score-video", str(frames), "--model", str(model), "--out", str(out),
                 "--batch-size", str(10**12)]) == 2
    assert "use a smaller --batch-size" in _one_line_error(capsys)
    assert not out.exists()
