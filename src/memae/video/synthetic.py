"""Synthetic surveillance-like videos for fast end-to-end tests.

Normal clips show a few grey squares gliding at constant speed and bouncing off the frame
borders. Test clips contain one abnormal event in a labelled frame range, drawn on top of
the same normal scene: either a bright disk (an unseen *appearance*) or an extra square
moving several times faster (an unseen *motion*), the two kinds of anomaly of UCSD Ped2
(carts, cyclists). Outside the labelled range a test frame is exactly the frame the clip
would show without the anomaly. Everything is deterministic given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

BACKGROUND, OBJECT, ANOMALY = 32, 160, 255
AnomalyKind = Literal["shape", "speed", "none"]


@dataclass(frozen=True)
class SyntheticVideos:
    """Generated clips: uint8 arrays of shape ``(T, H, W)`` and boolean test frame labels."""

    train: list[np.ndarray]
    test: list[np.ndarray]
    test_labels: list[np.ndarray]


def _bounce(x: np.ndarray, upper: float) -> np.ndarray:
    """Fold free motion into [0, upper], i.e. elastic reflection at both walls."""
    folded = np.mod(x, 2 * upper)
    return np.where(folded <= upper, folded, 2 * upper - folded)


def _trajectory(
    rng: np.random.Generator, n_frames: int, frame: tuple[int, int], extent: int, speed: float
) -> np.ndarray:
    """Top-left corners ``(n_frames, 2)`` of an object moving at ``speed`` px/frame."""
    upper = np.array(frame, dtype=float) - extent
    start = rng.uniform(0, upper)
    angle = rng.uniform(0, 2 * np.pi)
    velocity = speed * np.array([np.sin(angle), np.cos(angle)])
    free = start + np.arange(n_frames)[:, None] * velocity
    return np.rint(np.stack([_bounce(free[:, d], upper[d]) for d in (0, 1)], axis=1)).astype(int)


def _draw_square(canvas: np.ndarray, corner: np.ndarray, extent: int, value: int) -> None:
    row, col = corner
    canvas[row : row + extent, col : col + extent] = value


def _draw_disk(canvas: np.ndarray, corner: np.ndarray, extent: int, value: int) -> None:
    radius = extent / 2
    rows, cols = np.ogrid[: canvas.shape[0], : canvas.shape[1]]
    centre = corner + radius - 0.5
    canvas[(rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2] = value


def _normal_clip(
    rng: np.random.Generator,
    n_frames: int,
    size: tuple[int, int],
    n_objects: int,
    object_size: int,
    speed: float,
) -> np.ndarray:
    paths = [_trajectory(rng, n_frames, size, object_size, speed) for _ in range(n_objects)]
    video = np.full((n_frames, *size), BACKGROUND, dtype=np.uint8)
    for t in range(n_frames):
        for path in paths:
            _draw_square(video[t], path[t], object_size, OBJECT)
    return video


def make_synthetic_videos(
    n_train: int = 4,
    n_test: int = 4,
    n_frames: int = 48,
    size: tuple[int, int] = (32, 32),
    n_objects: int = 2,
    object_size: int = 6,
    speed: float = 1.0,
    anomaly: AnomalyKind = "shape",
    anomaly_speed: float = 4.0,
    seed: int = 0,
) -> SyntheticVideos:
    """Generate normal training clips and test clips with one labelled abnormal event each.

    Parameters
    ----------
    n_train, n_test : int, default 4
        Number of training (all normal) and test clips.
    n_frames : int, default 48
        Frames per clip.
    size : (int, int), default (32, 32)
        Frame ``(height, width)``.
    n_objects : int, default 2
        Normal squares per clip.
    object_size : int, default 6
        Side of the squares and diameter of the abnormal disk, in pixels.
    speed : float, default 1.0
        Speed of normal objects, pixels per frame.
    anomaly : {"shape", "speed", "none"}, default "shape"
        ``"shape"``: a bright disk moving at normal speed; ``"speed"``: an extra square
        moving at ``anomaly_speed``; ``"none"``: test clips without anomalies (all labels
        ``False``) and otherwise identical frames, for controls.
    anomaly_speed : float, default 4.0
        Speed of the abnormal square when ``anomaly="speed"``.
    seed : int, default 0
        Seed; equal arguments give identical videos.

    Returns
    -------
    SyntheticVideos
        ``train`` and ``test`` uint8 ``(n_frames, H, W)`` arrays; ``test_labels`` boolean
        ``(n_frames,)`` arrays marking the event frames.
    """
    if anomaly not in ("shape", "speed", "none"):
        raise ValueError(f"anomaly: got {anomaly!r}; expected 'shape', 'speed' or 'none'")
    if n_frames < 4:
        raise ValueError(f"n_frames: got {n_frames}; expected at least 4")
    if not 0 < object_size < min(size):
        raise ValueError(
            f"object_size: got {object_size} for frames of size {size}; expected a size in "
            f"1..{min(size) - 1}"
        )
    # One independent stream per clip for the normal scene and one for the event, so the
    # normal scene of a test clip is the same whatever the anomaly kind.
    seeds = np.random.SeedSequence(seed).spawn(n_train + 2 * n_test)
    rngs = [np.random.default_rng(s) for s in seeds]
    scene = (n_frames, size, n_objects, object_size, speed)
    train = [_normal_clip(rngs[k], *scene) for k in range(n_train)]
    test, labels = [], []
    for k in range(n_test):
        video = _normal_clip(rngs[n_train + k], *scene)
        event = rngs[n_train + n_test + k]
        first = int(event.integers(n_frames // 4, n_frames // 2 + 1))
        last = min(n_frames, first + int(event.integers(n_frames // 4, n_frames // 2 + 1)))
        fast = anomaly == "speed"
        path = _trajectory(event, n_frames, size, object_size, anomaly_speed if fast else speed)
        label = np.zeros(n_frames, dtype=bool)
        if anomaly != "none":
            label[first:last] = True
            draw = _draw_square if fast else _draw_disk
            for t in range(first, last):
                draw(video[t], path[t], object_size, OBJECT if fast else ANOMALY)
        test.append(video)
        labels.append(label)
    return SyntheticVideos(train, test, labels)


def write_frame_folders(videos: SyntheticVideos, root: str | Path) -> Path:
    """Write the clips in the MNAD frame-folder layout with ShanghaiTech-style labels.

    Creates ``<root>/training/frames/01/000.png, ...``, ``<root>/testing/frames/01/...`` and
    ``<root>/testing/test_frame_mask/01.npy``, readable by
    ``discover_clips(root, "testing", labels=root / "testing" / "test_frame_mask")``.

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    for split, clips in (("training", videos.train), ("testing", videos.test)):
        for k, video in enumerate(clips, start=1):
            folder = root / split / "frames" / f"{k:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for t, frame in enumerate(video):
                Image.fromarray(frame).save(folder / f"{t:03d}.png")
    masks = root / "testing" / "test_frame_mask"
    masks.mkdir(parents=True, exist_ok=True)
    for k, label in enumerate(videos.test_labels, start=1):
        np.save(masks / f"{k:02d}.npy", label.astype(np.uint8))
    return root
