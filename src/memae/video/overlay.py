"""Write a video with each frame's anomaly map blended over it in red, through PyAV."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from PIL import Image

from memae.video.frames import _import_av

RED = np.array([255.0, 0.0, 0.0], dtype=np.float32)


def blend(gray: np.ndarray, anomaly_map: np.ndarray, scale: float) -> np.ndarray:
    """RGB uint8 frame: ``gray`` tinted red where ``anomaly_map / scale`` is high.

    Parameters
    ----------
    gray : numpy.ndarray
        uint8 ``(H, W)`` frame at its original size.
    anomaly_map : numpy.ndarray
        float ``(h, w)`` map at the model's size, resized here to ``(H, W)``.
    scale : float
        Map value shown fully red (e.g. ``VideoModel.training["map_scale"]``).
    """
    if scale <= 0:
        raise ValueError(f"scale: got {scale!r}; expected a positive map value")
    height, width = gray.shape
    resized = Image.fromarray(anomaly_map.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BILINEAR)
    alpha = np.clip(np.asarray(resized) / scale, 0.0, 1.0)[..., None] * 0.6
    rgb = np.repeat(gray[..., None].astype(np.float32), 3, axis=2)
    return np.rint((1 - alpha) * rgb + alpha * RED).astype(np.uint8)


class OverlayWriter:
    """Encode blended frames to a video file (H.264 for ``.mp4``, MPEG-4 part 2 else).

    Frames are encoded as they arrive, so memory does not grow with the video length.
    Odd frame sizes are cropped by one pixel (yuv420p needs even sizes).
    """

    def __init__(self, path: str | Path, fps: float = 10.0) -> None:
        if fps <= 0:
            raise ValueError(f"fps: got {fps!r}; expected a positive frame rate")
        self.path, self.fps = Path(path), fps
        self._container: Any = None
        self._stream: Any = None

    def __enter__(self) -> OverlayWriter:
        av = _import_av()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), mode="w")
        return self

    def write(self, gray: np.ndarray, anomaly_map: np.ndarray, scale: float) -> None:
        """Blend and encode one frame."""
        av = _import_av()
        rgb = blend(gray, anomaly_map, scale)
        rgb = rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2]
        if self._stream is None:
            codec = "libx264" if self.path.suffix.lower() == ".mp4" else "mpeg4"
            self._stream = self._container.add_stream(codec, rate=round(self.fps))
            self._stream.height, self._stream.width = rgb.shape[:2]
            self._stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
