"""Untrusted image files: decompression bombs refused before a pixel is decoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from memae.data.image_guard import open_image
from memae.video.transforms import load_frame
from tests.conftest import png_header


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(100_000, 100_000))
    with pytest.raises(ValueError, match="(?i)decompression bomb"):
        load_frame(bomb)  # Pillow's own limit (179 M pixels)
    with pytest.raises(ValueError, match="(?i)decompression bomb"):
        open_image(png_header(10_000, 9_000))  # Pillow's warning (89 M), made an error
    with pytest.raises(ValueError, match="7000 x 7000.*decompression bomb"):
        open_image(png_header(7_000, 7_000))  # memae's limit (40 M)
