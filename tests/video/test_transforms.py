"""Frame preprocessing: gray, resized, in [-1, 1]; truncated and oversized frames refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from memae.video import FrameTransform, discover_clips, load_frame, to_signed_unit
from tests.conftest import QUICK, png_header


def test_to_signed_unit_maps_0_255_onto_minus_one_one() -> None:
    out = to_signed_unit(np.array([0, 51, 255], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-1.0, -0.6, 1.0], atol=1e-6)


def test_transform_takes_height_then_width_and_converts_colour_to_gray() -> None:
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red: luma 0.299 * 255 = 76
    out = FrameTransform(size=(20, 30))(Image.fromarray(rgb))
    assert out.shape == (20, 30) and out.dtype == np.float32
    np.testing.assert_allclose(out, 76 / 127.5 - 1, atol=1e-6)
    native = FrameTransform(size=None)(Image.fromarray(rgb))
    assert native.shape == (40, 60)


def test_transform_refuses_a_bad_size() -> None:
    with pytest.raises(ValueError, match=r"size: got \(256, 0\); expected \(height, width\)"):
        FrameTransform(size=(256, 0))


@pytest.mark.real_data
def test_ped2_frame_loads_at_paper_size_in_signed_unit_range(ped2_root: Path) -> None:
    clip = discover_clips(ped2_root, "testing")[0]
    frame = load_frame(clip.source[0])
    assert frame.shape == (256, 256) and frame.dtype == np.float32
    assert -1.0 <= frame.min() < -0.5 and 0.5 < frame.max() <= 1.0
    native = load_frame(clip.source[0], size=None)
    assert native.shape == (240, 360)
    # Resizing keeps the mean brightness of the scene.
    assert abs(float(frame.mean()) - float(native.mean())) < 0.01


@pytest.fixture(scope="module")
def frame_files() -> dict[str, bytes]:
    pixels = (np.arange(48 * 64) % 251).astype(np.uint8).reshape(48, 64)
    files = {}
    for fmt in ("PNG", "JPEG", "BMP"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        files[fmt] = buffer.getvalue()
    return files


@QUICK
@given(fmt=st.sampled_from(["PNG", "JPEG", "BMP"]), cut=st.floats(0, 0.99))
def test_truncated_frames_fail_clearly(frame_files, tmp_path, fmt: str, cut: float) -> None:
    data = frame_files[fmt]
    path = tmp_path / f"frame.{fmt.lower()}"
    path.write_bytes(data[:int(cut * len(data))])
    try:
        frame = load_frame(path, size=(32, 32))
    except ValueError as error:
        assert str(path) in str(error) or "image" in str(error)
        return
    # Pillow may pad a JPEG that lost only its tail; the result is still a frame.
    assert frame.shape == (32, 32) and np.isfinite(frame).all()


def test_missing_frame_and_transform_of_an_oversized_image() -> None:
    with pytest.raises(FileNotFoundError):
        load_frame("no/such/frame.png")
    with pytest.raises(ValueError, match="decompression bomb"):
        FrameTransform((8, 8))(Image.open(io.BytesIO(png_header(7_000, 7_000))))
