"""Find the clips of a video anomaly dataset on disk and read their frames.

A clip is either a folder of numbered frame images or one video file. Layouts that
:func:`discover_clips` resolves, tried in this order for ``split`` in
``{"training", "testing"}``:

1. ``<root>/<split>/frames/<clip>/*.jpg`` -- the MNAD-style export distributed for UCSD
   Ped2, CUHK Avenue and ShanghaiTech (frames ``000.jpg, 001.jpg, ...``; clip ``01``).
   For ShanghaiTech only ``testing/frames`` exists in the official release.
2. ``<root>/<split>/videos/*.avi`` -- ShanghaiTech ``training/videos/01_001.avi``.
3. ``<root>/Train/Train001/*.tif`` and ``<root>/Test/Test001/*.tif`` -- the original UCSD
   Ped1/Ped2 release (``training`` -> ``Train``, ``testing`` -> ``Test``); the pixel-mask
   folders ``Test001_gt`` are skipped.
4. ``<root>/<split>_videos/*.avi`` -- the original CUHK Avenue release
   (``training_videos/01.avi``, ``testing_videos/01.avi``).

Frame-level labels per layout (see :mod:`memae.video.labels`):

- Ped2 / Avenue MNAD export: ``<root>/ped2.mat`` or ``avenue.mat``, key ``gt``.
- UCSD original: ``Test/UCSDped2.m``.
- ShanghaiTech: ``<root>/testing/test_frame_mask/<clip>.npy`` (one 0/1 entry per frame).
- Avenue original: ``ground_truth_demo/testing_label_mask/<n>_label.mat`` holds pixel masks
  (``volLabel``); it is not read here, use the MNAD ``avenue.mat`` export instead.

Names and frames are sorted numerically (``2.jpg`` before ``10.jpg``). Video files are read
through PyAV (``pip install av``), imported only when a video clip is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from memae.data import images
from memae.data.image_guard import open_image
from memae.video.labels import frame_labels, load_npy_frame_labels

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
SPLITS = ("training", "testing")
_UCSD_SPLIT = {"training": "Train", "testing": "Test"}


def natural_key(text: str) -> list[int | str]:
    """Sort key ordering embedded numbers numerically: ``"2.jpg" < "10.jpg"``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _import_av() -> Any:
    try:
        import av
    except ImportError as error:
        raise ImportError(
            "Reading video files needs PyAV: pip install av (or convert the videos to frame "
            "folders)"
        ) from error
    return av


@dataclass(frozen=True, eq=False)
class VideoClip:
    """One clip of a video dataset.

    Parameters
    ----------
    name : str
        Clip name: the frame folder name (``"01"``, ``"Test001"``) or the video file stem.
    source : Path or tuple of Path
        A video file, or the clip's frame image files in temporal order.
    n_frames : int
        Number of frames.
    labels : numpy.ndarray, optional
        Boolean frame labels of shape ``(n_frames,)``, ``True`` = abnormal.
    """

    name: str
    source: Path | tuple[Path, ...]
    n_frames: int
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.labels is not None and np.shape(self.labels) != (self.n_frames,):
            raise ValueError(
                f"labels: clip {self.name!r} has {self.n_frames} frames but labels of shape "
                f"{np.shape(self.labels)}; pass one boolean per frame"
            )

    @property
    def is_video_file(self) -> bool:
        """Whether the clip is read from a video file rather than a folder of frame images."""
        return isinstance(self.source, Path)

    def read(self, indices: Sequence[int]) -> list[Image.Image]:
        """Decode the frames at ``indices`` (0-based, increasing) as PIL images.

        Image files are opened lazily, so a later ``Image.draft`` can still speed up JPEG
        decoding; video frames are decoded seeking near the first index.
        """
        if not indices:
            return []
        if min(indices) < 0 or max(indices) >= self.n_frames:
            raise IndexError(
                f"indices: clip {self.name!r} has frames 0..{self.n_frames - 1}, "
                f"got {min(indices)}..{max(indices)}"
            )
        if isinstance(self.source, Path):
            return _read_video_frames(self.source, indices)
        return [open_image(self.source[i]) for i in indices]


def _frame_index(frame: Any, origin: int, time_base: Fraction, rate: Fraction) -> int:
    return round((frame.pts - origin) * time_base * rate)


def _video_stream(container: Any, path: str | Path) -> Any:
    if not container.streams.video:
        raise ValueError(f"{path} has no video stream; is it a video file?")
    return container.streams.video[0]


def _read_video_frames(path: Path, indices: Sequence[int]) -> list[Image.Image]:
    av = _import_av()
    try:
        return _decode_video_frames(av, path, indices)
    except av.FFmpegError as error:
        raise ValueError(f"{path} is not a readable video ({error})") from error


def _decode_video_frames(av: Any, path: Path, indices: Sequence[int]) -> list[Image.Image]:
    wanted = set(indices)
    found: dict[int, Image.Image] = {}
    with av.open(str(path)) as container:
        stream = _video_stream(container, path)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > images.MAX_PIXELS:
            raise ValueError(f"{path}: frames of {width} x {height} pixels exceed the "
                             f"{images.MAX_PIXELS} allowed (memae.data.images.MAX_PIXELS)")
        origin, time_base, rate = stream.start_time or 0, stream.time_base, stream.average_rate
        seekable = None not in (time_base, rate) and min(indices) > 0
        if seekable:
            # Seek to the keyframe at or before the first wanted frame, then decode forward.
            container.seek(origin + int(min(indices) / rate / time_base), stream=stream)
        for position, frame in enumerate(container.decode(stream)):
            index = position
            if seekable:
                if frame.pts is None:
                    break
                index = _frame_index(frame, origin, time_base, rate)
                if position == 0 and index > min(indices):
                    break  # the seek overshot; fall back to decoding from the start
            if index in wanted:
                found[index] = Image.fromarray(frame.to_ndarray(format="gray"))
            if index >= max(indices):
                break
    if len(found) < len(wanted):
        if seekable:
            return _read_video_frames_from_start(path, indices)
        raise ValueError(
            f"{path}: decoded frames {sorted(found)[:3]}... but frames "
            f"{sorted(wanted - found.keys())[:5]} are missing; the file may be truncated"
        )
    return [found[i] for i in indices]


def _read_video_frames_from_start(path: Path, indices: Sequence[int]) -> list[Image.Image]:
    av = _import_av()
    wanted, found = set(indices), {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = Image.fromarray(frame.to_ndarray(format="gray"))
            if index >= max(indices):
                break
    missing = sorted(wanted - found.keys())
    if missing:
        raise ValueError(f"{path}: frames {missing[:5]} could not be decoded")
    return [found[i] for i in indices]


def count_video_frames(path: str | Path) -> int:
    """Number of frames of a video file: the container's count, else by demuxing packets."""
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container, path)
            if stream.frames:
                return int(stream.frames)
            return sum(1 for packet in container.demux(stream) if packet.size)
    except av.FFmpegError as error:
        raise ValueError(f"{path} is not a readable video ({error})") from error


def frame_folder_clips(directory: str | Path) -> list[VideoClip]:
    """One clip per sub-folder of frame images; ``*_gt`` mask folders are skipped."""
    directory = Path(directory)
    clips = []
    for folder in sorted(directory.iterdir(), key=lambda p: natural_key(p.name)):
        if not folder.is_dir() or folder.name.endswith("_gt"):
            continue
        files = sorted(
            (f for f in folder.iterdir() if f.suffix.lower() in FRAME_SUFFIXES),
            key=lambda f: natural_key(f.name),
        )
        if files:
            clips.append(VideoClip(folder.name, tuple(files), len(files)))
    if not clips:
        raise FileNotFoundError(
            f"directory: no sub-folder of {directory} holds frames ({', '.join(FRAME_SUFFIXES)})"
        )
    return clips


def video_file_clips(directory: str | Path) -> list[VideoClip]:
    """One clip per video file (``.mp4``, ``.avi``, ...) in ``directory``, read with PyAV."""
    directory = Path(directory)
    files = sorted(
        (f for f in directory.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES),
        key=lambda f: natural_key(f.name),
    )
    if not files:
        raise FileNotFoundError(
            f"directory: no video file ({', '.join(VIDEO_SUFFIXES)}) in {directory}"
        )
    return [VideoClip(f.stem, f, count_video_frames(f)) for f in files]


def with_labels(
    clips: Sequence[VideoClip], labels: Sequence[np.ndarray] | Mapping[str, np.ndarray]
) -> list[VideoClip]:
    """Attach frame labels to clips, by position (sequence) or by clip name (mapping)."""
    if isinstance(labels, Mapping):
        missing = [c.name for c in clips if c.name not in labels]
        if missing:
            raise ValueError(
                f"labels: no frame labels for clips {missing[:5]}; labelled clips are "
                f"{sorted(labels, key=natural_key)[:5]}..."
            )
        return [replace(c, labels=np.asarray(labels[c.name], dtype=bool)) for c in clips]
    if len(labels) != len(clips):
        raise ValueError(
            f"labels: {len(labels)} label arrays for {len(clips)} clips; pass one per clip"
        )
    pairs = zip(clips, labels, strict=True)
    return [replace(c, labels=np.asarray(y, dtype=bool)) for c, y in pairs]


def _split_directory(root: Path, split: str) -> tuple[Path, bool]:
    """The folder holding ``split``'s clips and whether its clips are video files."""
    candidates = [
        (root / split / "frames", False),
        (root / split / "videos", True),
        (root / _UCSD_SPLIT[split], False),
        (root / f"{split}_videos", True),
    ]
    for directory, videos in candidates:
        if directory.is_dir():
            return directory, videos
    tried = ", ".join(str(d) for d, _ in candidates)
    raise FileNotFoundError(
        f"root: no {split} clips under {str(root)!r}; looked for {tried}. Point root at the "
        "dataset folder (e.g. .../ped2) or use frame_folder_clips / video_file_clips"
    )


def discover_clips(
    root: str | Path, split: str = "training", labels: str | Path | None = None
) -> list[VideoClip]:
    """Find the clips of one split of a dataset laid out as in the module docstring.

    Parameters
    ----------
    root : str or Path
        Dataset folder, e.g. ``.../ped2``.
    split : {"training", "testing"}, default "training"
        Which split to list.
    labels : str or Path, optional
        Frame labels to attach: a ``.mat`` (key ``gt``) or UCSD ``.m`` file, matched to the
        clips in order, or a folder of ``<clip>.npy`` masks, matched by clip name.

    Returns
    -------
    list of VideoClip
        Clips in natural order of their names.
    """
    if split not in SPLITS:
        raise ValueError(f"split: got {split!r}; expected one of {SPLITS}")
    directory, videos = _split_directory(Path(root), split)
    clips = video_file_clips(directory) if videos else frame_folder_clips(directory)
    if labels is None:
        return clips
    labels = Path(labels)
    if labels.is_dir():
        return with_labels(clips, load_npy_frame_labels(labels))
    return with_labels(clips, frame_labels(labels, [c.n_frames for c in clips]))

