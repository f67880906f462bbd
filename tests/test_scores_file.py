"""The scores CSV and its JSON sidecar: written whole, read back exactly, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memae.scores_file import column, read_scores, read_sidecar, sidecar_path, write_scores


def test_written_scores_read_back_exactly_with_their_sidecar(tmp_path: Path) -> None:
    scores = np.array([0.1, 1 / 3, 2.5e-9])
    path = write_scores(tmp_path / "scores.csv", ["a", "b", "c"], scores,
                        np.array([0, 1, 1]), labels=np.array([0, 1, 0]),
                        meta={"data": "x.csv"})
    assert path.read_text().splitlines()[0] == "id,score,anomaly,label"
    columns = read_scores(path, required=("id", "score", "anomaly", "label"))
    assert columns["id"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(column(columns, "score", float, "s"), scores)  # repr: exact
    assert column(columns, "anomaly", int, "s").tolist() == [0, 1, 1]
    assert column(columns, "label", int, "s").tolist() == [0, 1, 0]
    assert sidecar_path(path) == tmp_path / "scores.json"
    assert read_sidecar(path) == {"data": "x.csv"}
    bare = write_scores(tmp_path / "bare.csv", ["a"], np.array([1.0]), np.array([0]))
    assert list(read_scores(bare)) == ["id", "score", "anomaly"] and read_sidecar(bare) == {}


def test_missing_empty_and_incomplete_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; write one with `memae score`"):
        read_scores(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty; it needs a header row"):
        read_scores(empty)
    header = tmp_path / "header.csv"
    header.write_text("id,score\n")
    with pytest.raises(ValueError, match="has a header but no rows"):
        read_scores(header)
    with pytest.raises(ValueError, match=r"has columns \['id', 'score'\]; it needs \['label'\]"):
        read_scores(header, required=("score", "label"))


def test_bad_values_and_sidecars_are_named(tmp_path: Path) -> None:
    columns = {"score": np.array(["0.1", "high"]), "frame": np.array(["1", "nan"])}
    with pytest.raises(ValueError, match="column 'score' of scores.csv must hold numbers"):
        column(columns, "score", float, "scores.csv")
    with pytest.raises(ValueError, match="column 'frame' of f.csv holds NaN or infinite"):
        column(columns, "frame", float, "f.csv")
    path = tmp_path / "scores.csv"
    sidecar_path(path).write_text("{broken")
    with pytest.raises(ValueError, match="scores sidecar .* is not JSON"):
        read_sidecar(path)
    sidecar_path(path).write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="holds list, not a JSON object"):
        read_sidecar(path)
