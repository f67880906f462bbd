"""Overlays: each frame tinted red by its anomaly map, encoded frame by frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memae.video.overlay import OverlayWriter, blend


def test_blend_tints_by_the_map_up_to_sixty_percent_red() -> None:
    gray = np.full((4, 6), 100, dtype=np.uint8)
    anomaly = np.zeros((2, 3), dtype=np.float32)
    anomaly[0, 0] = 10.0  # at the scale: fully red, which is 60% of the colour
    rgb = blend(gray, np.zeros((2, 3), np.float32), scale=10.0)
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, np.full((4, 6, 3), 100))  # no error: the frame as is
    hot = blend(gray, np.full((2, 3), 20.0, np.float32), scale=10.0)  # clipped at the scale
    np.testing.assert_array_equal(hot[0, 0], [0.4 * 100 + 0.6 * 255, 40, 40])
    half = blend(gray, np.full((2, 3), 5.0, np.float32), scale=10.0)
    np.testing.assert_array_equal(half[0, 0], [np.rint(0.7 * 100 + 0.3 * 255), 70, 70])
    with pytest.raises(ValueError, match="scale: got 0; expected a positive map value"):
        blend(gray, anomaly, scale=0)


def test_writer_encodes_every_frame_cropped_to_even_sizes(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    path = tmp_path / "sub" / "overlay.mp4"
    gray = np.full((33, 47), 80, dtype=np.uint8)
    with OverlayWriter(path, fps=10) as writer:
        for t in range(5):
            writer.write(gray, np.full((4, 4), float(t), np.float32), scale=4.0)
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 5 and frames[0].shape == (32, 46, 3)
    # More red as the map grows: frame 4 is fully tinted, frame 0 not at all.
    assert frames[4][..., 0].mean() > frames[0][..., 0].mean() + 80
    with pytest.raises(ValueError, match="fps: got 0"):
        OverlayWriter(path, fps=0)
