"""render_html: one self-contained page; every PNG embedded, every text escaped."""

from __future__ import annotations

import base64
import re

import pytest

from memae.report.html import Panel, Section, figure_png, render_html


def test_panels_are_embedded_byte_for_byte_and_text_is_escaped() -> None:
    png = b"\x89PNG\r\n\x1a\n not really an image"
    page = render_html("run <1>", [
        Section("Scores & more", text="a < b", table={"roc_auc": 0.123456789, "n": 7},
                panels=[Panel("roc.png", png, caption='"quoted"')]),
        Section("Empty"),
    ])
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</body></html>")
    assert "<title>run &lt;1&gt;</title>" in page and "<h1>run &lt;1&gt;</h1>" in page
    assert re.findall(r"<h2>(.*?)</h2>", page) == ["Scores &amp; more", "Empty"]
    assert "<p>a &lt; b</p>" in page
    # floats to 6 significant digits, other values as text
    assert "<tr><th>roc_auc</th><td>0.123457</td></tr><tr><th>n</th><td>7</td></tr>" in page
    (data,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(data) == png
    assert "<figcaption>&quot;quoted&quot;</figcaption>" in page
    assert "http" not in page  # nothing to fetch


def test_figure_png_renders_a_png() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    data = figure_png(fig, dpi=50)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 200
