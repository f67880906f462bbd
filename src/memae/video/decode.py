"""Sequential frame reading with bounded memory: any video file or frame folder.

Scoring reads a video once, front to back, and never holds more than a window's worth of
frames; :func:`open_clip` turns a path into a :class:`VideoClip` and :func:`iter_frames`
decodes it in order (video files through PyAV, without seeking).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from memae.data.image_guard import open_image
from memae.video.frames import (
    FRAME_SUFFIXES,
    VIDEO_SUFFIXES,
    VideoClip,
    _import_av,
    count_video_frames,
    natural_key,
)
from memae.video.transforms import FrameTransform


def open_clip(path: str | Path) -> VideoClip:
    """A :class:`VideoClip` for a video file (``.mp4``, ``.avi``, ...) or a frame folder.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, or is a folder without frame images.
    ValueError
        If ``path`` is a file with a suffix that is neither a video nor handled.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in FRAME_SUFFIXES),
                       key=lambda f: natural_key(f.name))
        if not files:
            raise FileNotFoundError(
                f"path: folder {str(path)!r} holds no frame images ({', '.join(FRAME_SUFFIXES)})"
            )
        return VideoClip(path.name, tuple(files), len(files))
    if not path.is_file():
        raise FileNotFoundError(f"path: {str(path)!r} does not exist; pass a video or a folder")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(
            f"path: {str(path)!r} has suffix {path.suffix!r}; expected a video file "
            f"({', '.join(VIDEO_SUFFIXES)}) or a folder of frames"
        )
    return VideoClip(path.stem, path, count_video_frames(path))


def iter_images(clip: VideoClip) -> Iterator[Image.Image]:
    """Decode the frames of ``clip`` in order, one at a time, as PIL images.

    Image files are yielded unloaded, so a consumer can still ask for a reduced JPEG
    decode (``Image.draft``); each image is closed once the next one is requested.
    """
    if isinstance(clip.source, tuple):
        for file in clip.source:
            with open_image(file) as image:  # refuses non-images and decompression bombs
                yield image
        return
    av = _import_av()
    with av.open(str(clip.source)) as container:
        for frame in container.decode(video=0):
            yield Image.fromarray(frame.to_ndarray(format="gray"))


def iter_frames(clip: VideoClip, size: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """Preprocessed frames of ``clip`` in order: float32 ``(H, W)`` in [-1, 1]."""
    transform = FrameTransform(size)
    for image in iter_images(clip):
        yield transform(image)
