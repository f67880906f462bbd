"""``memae evaluate``: metrics from a scores CSV, a separate label file, and bad columns."""

from __future__ import annotations

import json
from pathlib import Path

from memae.cli import main
from memae.scores_file import read_scores
from tests.cli.conftest import one_line_error


def test_evaluate_refuses_an_anomaly_column_that_is_not_0_1(tmp_path: Path, capsys) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score,anomaly,label\n0,0.1,0.5,0\n1,0.9,1.7,1\n2,0.2,0,0\n")
    assert main(["evaluate", str(scores)]) == 2
    err = one_line_error(capsys)
    assert "column 'anomaly'" in err and "0/1" in err and "multiclass" not in err


def test_evaluate_reads_scores_files_like_any_csv(tmp_path: Path, capsys) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("\ufeffid;score;label\n0;0.1;0\n1;0.9;1\n2;0.2;0\n3;0.8;1\n",
                      encoding="utf-8")
    assert main(["evaluate", str(scores)]) == 0
    assert "roc_auc  1.0000" in capsys.readouterr().out
    (tmp_path / "scores.json").write_text("{broken")
    assert main(["report", str(tmp_path), "--scores", str(scores), "--quiet"]) == 2
    assert "scores sidecar" in one_line_error(capsys)


def test_evaluate_with_a_separate_label_file(tabular_run: Path, tables: tuple[Path, Path],
                                             tmp_path: Path, capsys) -> None:
    assert main(["-q", "score", str(tabular_run), str(tables[1]), "--out",
                 str(tmp_path / "scores.csv")]) == 0
    scores = tmp_path / "plain.csv"
    columns = read_scores(tmp_path / "scores.csv")
    scores.write_text("score\n" + "\n".join(columns["score"]) + "\n")
    assert main(["evaluate", str(scores), "--labels", str(tables[1]),
                 "--normal-labels", "normal", "--out", str(tmp_path / "m.json")]) == 0
    plain = json.loads((tmp_path / "m.json").read_text())
    assert "f1" not in plain and plain["roc_auc"] > 0.95
    assert main(["evaluate", str(scores), "--labels", str(tables[1])]) == 2
    assert "--normal-labels" in capsys.readouterr().err
