"""One self-contained HTML page: PNGs embedded as base64, no external files or scripts."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Panel", "Section", "figure_png", "render_html"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; background: #fff; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
"""


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """``fig`` rendered as PNG bytes (Agg)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@dataclass
class Panel:
    """A figure of the report: its PNG file name, bytes and caption."""

    name: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    """A heading with optional text, a key/value table and panels."""

    title: str
    text: str = ""
    table: dict[str, Any] = field(default_factory=dict)
    panels: list[Panel] = field(default_factory=list)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value))


def render_html(title: str, sections: list[Section]) -> str:
    """The page as a string; every image is a ``data:image/png;base64`` URI."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{html.escape(section.text)}</p>")
        if section.table:
            rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>"
                           for k, v in section.table.items())
            parts.append(f"<table>{rows}</table>")
        for panel in section.panels:
            data = base64.b64encode(panel.png).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(panel.name)}" '
                         f'src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(panel.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
