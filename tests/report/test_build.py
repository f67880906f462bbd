"""build_report: the sections a run's files give, written as one folder; clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from memae.report.build import ReportOptions, build_report

pytest.importorskip("matplotlib")


def test_video_scores_alone_give_the_video_section_with_pooled_auc(tmp_path: Path) -> None:
    scores = tmp_path / "video.csv"
    # clip a: frames 2-3 abnormal and scored highest; clip b: unlabelled frames of its own.
    scores.write_text("clip,frame,score,label\n" + "\n".join(
        [f"a,{f},{s},{int(f in (2, 3))}" for f, s in enumerate([0.1, 0.2, 0.9, 0.8, 0.3])]
        + [f"b,{f},{s},0" for f, s in enumerate([0.15, 0.25])]) + "\n")
    (tmp_path / "run_like").mkdir()
    page = build_report(tmp_path / "run_like", ReportOptions(video_scores=scores))
    assert page == tmp_path / "run_like" / "report" / "report.html"
    assert sorted(p.name for p in page.parent.iterdir()) == ["report.html", "video_scores.png"]
    html = page.read_text()
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["Video"]
    assert "2 clips from video scores" in html
    # 7 frames, 2 abnormal, ranked above every normal frame: pooled ROC-AUC 1.
    assert "<th>frames</th><td>7</td>" in html and "<th>abnormal frames</th><td>2</td>" in html
    assert "scores as given)</th><td>1</td>" in html


def test_missing_inputs_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="does not exist"):
        build_report(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="--video-scores .*does not exist"):
        build_report(tmp_path, ReportOptions(video_scores=tmp_path / "none.csv"))
    with pytest.raises(ValueError, match="nothing to report"):
        build_report(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_second_report_replaces_the_first_whole(tmp_path: Path) -> None:
    scores = tmp_path / "v.csv"
    scores.write_text("clip,frame,score\na,0,1\na,1,2\n")
    out = tmp_path / "out"
    build_report(tmp_path, ReportOptions(video_scores=scores, out=out))
    (out / "stale.png").write_bytes(np.zeros(4, np.uint8).tobytes())
    build_report(tmp_path, ReportOptions(video_scores=scores, out=out))
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "video_scores.png"]
