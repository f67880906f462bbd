"""``memae report``: the HTML page, its embedded images, and a look at it in Chromium."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.cli import main
from memae.report.figures import label_spans
from tests.cli.conftest import one_line_error, write_table

IMAGE_RUN = ["--model", "conv2d", "--set", "detector.model_params={channels: [8, 16], "
             "kernel_sizes: [3, 3], strides: [2, 2], decoder_kernel_sizes: [3, 3]}",
             "--memory-size", "16", "--epochs", "25", "--batch-size", "16",
             "--learning-rate", "0.005", "--normal-labels", "normal"]
PNG_DATA = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def image_report(image_folders: tuple[Path, Path], tmp_path_factory) -> Path:
    """Train on stripes, score the test folder, report; returns the run directory."""
    run = tmp_path_factory.mktemp("report") / "run"
    train, test = image_folders
    assert main(["-q", "train", "--data", str(train), "--out", str(run), *IMAGE_RUN]) == 0
    assert main(["-q", "score", str(run), str(test)]) == 0
    video = run.parent / "video.csv"
    frames = np.arange(40)
    rows = [f"{clip},{f},{s:.4f},{int(20 <= f < 30)}"
            for clip in ("01", "02") for f, s in zip(frames, np.sin(frames / 5) + 1, strict=True)]
    video.write_text("clip,frame,score,label\n" + "\n".join(rows) + "\n")
    assert main(["-q", "report", str(run), "--video-scores", str(video)]) == 0
    return run


def test_report_has_every_section_and_png(image_report: Path) -> None:
    report = image_report / "report"
    expected = {"loss.png", "memory_health.png", "roc_pr.png", "score_histogram.png",
                "most_anomalous.png", "least_anomalous.png", "memory_usage.png",
                "memory_prototypes.png", "video_scores.png", "report.html"}
    assert {p.name for p in report.iterdir()} == expected
    page = (report / "report.html").read_text()
    for heading in ("Training", "Scores", "Most and least anomalous images", "Memory", "Video"):
        assert f"<h2>{heading}</h2>" in page
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched


def test_every_embedded_image_decodes_and_matches_its_png(image_report: Path) -> None:
    page = (image_report / "report" / "report.html").read_text()
    blobs = [base64.b64decode(b) for b in PNG_DATA.findall(page)]
    assert len(blobs) == 9
    files = {p.read_bytes() for p in (image_report / "report").glob("*.png")}
    for blob in blobs:
        image = Image.open(io.BytesIO(blob))
        image.load()
        assert image.format == "PNG" and min(image.size) > 100
        assert np.asarray(image.convert("L")).std() > 5  # drawn, not a blank canvas
        assert blob in files


def test_stripes_are_separated(image_report: Path) -> None:
    metrics = {}
    page = (image_report / "report" / "report.html").read_text()
    for key in ("roc_auc", "average_precision"):
        match = re.search(rf"<th>{key}</th><td>([0-9.]+)</td>", page)
        metrics[key] = float(match.group(1))
    # Vertical stripes never appear in training; the memory can only rebuild horizontal ones.
    assert metrics["roc_auc"] > 0.9, metrics


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (embedded images are checked "
                           "by the test above)")
def test_chromium_renders_a_non_blank_page(image_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    page = (image_report / "report" / "report.html").resolve()
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,2000", page.as_uri()],
        check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (2000, 1200)
    # A blank page is all white; figures and text darken a good share of it.
    assert (pixels < 200).mean() > 0.02 and pixels.std() > 20


def test_table_report_without_images(tables: tuple[Path, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    # Training on the labelled test table: metrics.json gains in-sample metrics.
    assert main(["-q", "train", "--data", str(tables[1]), "--out", str(run), "--ignore-cols",
                 "id", "--label-col", "label", "--normal-labels", "normal", "--epochs", "3",
                 "--memory-size", "10"]) == 0
    in_sample = json.loads((run / "metrics.json").read_text())["in_sample"]
    assert in_sample["n"] == 200 and 0 < in_sample["n_anomalies"] < 200
    assert in_sample["roc_auc"] > 0.8  # measured 0.94 after 3 epochs (seed 0)
    assert main(["-q", "report", str(run), "--out", str(tmp_path / "rep")]) == 0
    names = {p.name for p in (tmp_path / "rep").iterdir()}
    # No scores file yet and no images: training curves, memory health and usage only.
    assert names == {"loss.png", "memory_health.png", "memory_usage.png", "report.html"}
    page = (tmp_path / "rep" / "report.html").read_text()
    used = json.loads((run / "history.json").read_text())["memory_items_used"][-1]
    assert f"{used} of 10 ({10 * used:.1f}%)" in page


def test_video_only_report_and_label_spans(tmp_path: Path) -> None:
    assert label_spans(np.array([0, 1, 1, 0, 0, 1, 0, 1])) == [(1, 2), (5, 5), (7, 7)]
    assert label_spans(np.zeros(4)) == []
    (tmp_path / "v.csv").write_text("clip,frame,score\na,0,1\na,1,2\nb,0,3\n")
    assert main(["-q", "report", str(tmp_path), "--video-scores", str(tmp_path / "v.csv")]) == 0
    assert (tmp_path / "report" / "video_scores.png").is_file()


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    write_table(tmp_path / "x.csv", 5, 0.0, seed=0)
    assert main(["report", str(tmp_path)]) == 2
    assert "nothing to report" in capsys.readouterr().err


@pytest.mark.slow
def test_without_matplotlib_the_cli_loads_and_report_names_the_extra(tmp_path: Path) -> None:
    # None in sys.modules makes every import of matplotlib fail, as when it is not installed.
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from memae.cli import build_parser, main\n"
            "build_parser()\n"
            f"sys.exit(main(['report', {str(tmp_path)!r}]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "needs matplotlib" in result.stderr
    assert "pip install 'memae[report]'" in result.stderr


def test_report_of_an_empty_scores_file_names_it(trained_run: Path, tmp_path: Path,
                                                 capsys) -> None:
    pytest.importorskip("matplotlib")
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score,anomaly\n")
    assert main(["report", str(trained_run), "--scores", str(scores), "--out",
                 str(tmp_path / "report"), "--quiet"]) == 2
    assert "has a header but no rows" in one_line_error(capsys)
    assert not (tmp_path / "report").exists()


def test_report_with_missing_data_keeps_the_previous_report(small_run: tuple[Path, Path],
                                                            tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    assert main(["report", str(small_run[0]), "--out", str(out), "--quiet"]) == 0
    before = sorted(p.name for p in out.iterdir())
    page = (out / "report.html").read_bytes()
    assert main(["report", str(small_run[0]), "--out", str(out), "--data",
                 str(tmp_path / "missing.csv"), "--quiet"]) == 2
    assert "--data" in one_line_error(capsys)
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "report.html").read_bytes() == page


def test_report_reads_a_video_run(video_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert main(["-q", "report", str(video_run), "--out", str(tmp_path / "report")]) == 0
    html = (tmp_path / "report" / "report.html").read_text()
    assert "training windows" in html and "clip length" in html
    assert "memory items used (last epoch)" in html and "mean addressing entropy" in html
