"""Planted events: anomalies pasted into normal footage, for selection without test labels.

A video benchmark's labelled anomalies are all in its test split, so configurations are
compared on held-out *training* clips instead, each with one event of ``EVENT_FRAMES``
frames planted at a random time (the frames labelled abnormal), of a kind the training
never produced. Frames are preprocessed ones: float32 ``(T, H, W)`` in [-1, 1].

Kinds (:data:`EVENT_KINDS`):

- ``fast_object``, ``faint_object``, ``slow_object``: a patch of about a pedestrian's size
  (a fifth of the frame high, a fifteenth wide), cut around the strongest motion of a frame
  of *another* clip (a walker), pasted with a smooth border and sliding sideways: at 0.75
  px per frame of a 120 px wide frame (about twice walking pace in Ped2) at full
  contrast, the same at 30% contrast, or at walking pace (0.33 px) at 50% contrast.
  The last two are about as hard for the motion energy of the input as Ped2's anomalies
  (a frame AUC near 0.7 on its held-out clips, where ``fast_object`` gets 0.99).
- ``fast_band``: a horizontal band a fifth of the frame high, where the most moves,
  plays twice as fast as the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import uniform_filter

from memae.video.evaluate import PROTOCOLS, frame_auc, mode_scores

if TYPE_CHECKING:  # scoring needs only the detector's methods
    from memae.video.detector import VideoDetector

EVENT_FRAMES = 40
# Object kinds: (speed in px per frame at 120 px of width, contrast).
OBJECTS = {"fast_object": (0.75, 1.0), "faint_object": (0.75, 0.3), "slow_object": (0.33, 0.5)}
EVENT_KINDS = (*OBJECTS, "fast_band")
BAND_SPEEDUP = 2
# The events the video validation protocol plants by default.
VALIDATION_KINDS = ("faint_object", "slow_object")
REFERENCE_WIDTH = 120


def _patch_shape(height: int, width: int) -> tuple[int, int]:
    return max(2, round(height / 5)), max(2, round(width / 15))


def _smooth_mask(height: int, width: int, ramp: int = 2) -> np.ndarray:
    """1 inside, a linear ramp of ``ramp`` px down towards 0 at the border."""
    def profile(n: int) -> np.ndarray:
        edge = np.minimum(np.arange(n), np.arange(n)[::-1]) + 1
        return np.clip(edge / (ramp + 1), 0, 1)
    return np.outer(profile(height), profile(width)).astype(np.float32)


def _walker_patch(frames: np.ndarray, shape: tuple[int, int],
                  rng: np.random.Generator) -> np.ndarray:
    """A patch around the strongest motion of a random frame of ``frames``."""
    t = int(rng.integers(1, len(frames)))
    motion = uniform_filter(np.abs(frames[t] - frames[t - 1]), size=shape)
    row, col = np.unravel_index(int(np.argmax(motion)), motion.shape)
    h, w = shape
    top = int(np.clip(row - h // 2, 0, frames.shape[1] - h))
    left = int(np.clip(col - w // 2, 0, frames.shape[2] - w))
    return frames[t, top:top + h, left:left + w].copy()


def plant_event(frames: np.ndarray, other: np.ndarray, kind: str,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``frames`` ``(T, H, W)`` with one event of ``kind``, and the boolean frame labels.

    ``other`` is a clip the object kinds cut their patch from. The event's start, place
    and direction are drawn from ``seed``.

    Raises
    ------
    ValueError
        For an unknown ``kind``, or a clip too short or too small for the event.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"kind: got {kind!r}; expected one of {EVENT_KINDS}")
    n, height, width = frames.shape
    needed = BAND_SPEEDUP * EVENT_FRAMES + 5 if kind == "fast_band" else EVENT_FRAMES + 40
    if n < needed or height < 10 or width < 30:
        raise ValueError(f"frames: a clip of {n} frames of {height} x {width} px is too short "
                         f"or too small for a {kind} event (needs {needed} frames, 10 x 30 "
                         "px); hold out longer clips")
    rng = np.random.default_rng(seed)
    out = frames.copy()
    if kind in OBJECTS:
        speed, contrast = OBJECTS[kind]
        speed *= width / REFERENCE_WIDTH
        start = int(rng.integers(20, n - EVENT_FRAMES - 20))
        shape = _patch_shape(height, width)
        patch, mask = _walker_patch(other, shape, rng), _smooth_mask(*shape)
        h, w = shape
        top = int(rng.integers(height // 4, height - h - 2))
        direction = 1 if rng.random() < 0.5 else -1
        left0 = 5 if direction == 1 else width - w - 5
        for k in range(EVENT_FRAMES):
            left = int(np.clip(round(left0 + direction * speed * k), 0, width - w))
            region = out[start + k, top:top + h, left:left + w]
            out[start + k, top:top + h, left:left + w] = \
                region + contrast * mask * (patch - region)
    else:
        start = int(rng.integers(5, n - BAND_SPEEDUP * EVENT_FRAMES))
        band = height // 5
        # The band where the most moves during the frames it is sped through.
        energy = np.abs(np.diff(frames[start:start + BAND_SPEEDUP * EVENT_FRAMES], axis=0))
        top = int(np.argmax(np.convolve(energy.sum(axis=(0, 2)), np.ones(band), "valid")))
        for k in range(EVENT_FRAMES):
            out[start + k, top:top + band] = frames[start + BAND_SPEEDUP * k, top:top + band]
    labels = np.zeros(n, dtype=bool)
    labels[start:start + EVENT_FRAMES] = True
    return out, labels


def planted_videos(clips: Sequence[np.ndarray], kinds: Sequence[str] = VALIDATION_KINDS,
                   seeds: Sequence[int] = (0, 1, 2)
                   ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(kind, frames, labels)`` for every kind, clip and seed.

    Each clip's object patch comes from the next clip (the first, for the last); seeds
    are offset by 100 per clip so no two videos share a draw.
    """
    if len(clips) < 2:
        raise ValueError(f"clips: got {len(clips)}; planting objects needs at least two "
                         "held-out clips (the patch comes from another one)")
    videos = []
    for kind in kinds:
        for k, frames in enumerate(clips):
            for seed in seeds:
                video, labels = plant_event(frames, clips[(k + 1) % len(clips)], kind,
                                            seed + 100 * (k + 1))
                videos.append((kind, video, labels))
    return videos


def evaluate_planted(detector: VideoDetector,
                     videos: Sequence[tuple[str, np.ndarray, np.ndarray]]
                     ) -> dict[str, dict[str, float]]:
    """Frame AUC per protocol and event kind of a detector on planted videos.

    ``videos`` as :func:`planted_videos` returns them. ``per-frame``: every frame, the
    sliding mode after the config's temporal smoothing; ``gong2019``: one score per
    stride-1 window at its middle frame. Both min-max normalise each video and pool the
    frames of a kind (:func:`memae.video.frame_auc`). Returns ``{protocol: {kind: AUC}}``.
    """
    pooled: dict[str, dict[str, tuple[list[np.ndarray], list[np.ndarray]]]] = {
        protocol: {} for protocol in PROTOCOLS}
    for kind, frames, labels in videos:
        for protocol in PROTOCOLS:
            results, _, scores = mode_scores(
                detector, iter(frames), "gong2019" if protocol == "gong2019" else "sliding")
            entry = pooled[protocol].setdefault(kind, ([], []))
            entry[0].append(scores)
            entry[1].append(labels[[r.index for r in results]])
    return {protocol: {kind: frame_auc(s, y) for kind, (s, y) in kinds.items()}
            for protocol, kinds in pooled.items()}
