"""Frame- and pixel-level evaluation of a video model on labelled test clips.

Two protocols (:data:`PROTOCOLS`), both normalising the scores of each test video to
[0, 1] (min-max within the video), pooling the frames of all videos and reporting the
ROC-AUC against the frame labels:

- ``per-frame``: every frame is scored, by the mean squared error of its error map
  (averaged over the windows that contain it, :func:`memae.video.score_frames`), in the
  ``sliding`` (stride 1) or ``fast`` mode, after the config's temporal smoothing.
- ``gong2019``: the authors' released test script (donggong1/memae-anomaly-detection,
  ``script_testing.py`` and ``utils/eval.py``). Each stride-1 window is scored by the mean
  of ``sqrt(sum over channels of r^2)`` over its frames and pixels; the score goes to its
  middle frame (the 9th of 16), so only frames ``8 .. n - 8`` of a video of ``n`` frames
  are evaluated (``gt[8:-7]``). No smoothing of any kind.

Pixel-level AUROC, beyond the paper, pools the per-video min-max normalised anomaly maps
of the evaluated frames against the UCSD pixel masks, at the model's input resolution
(masks are resized to it): box-smoothed frame error maps under ``per-frame``, each
window's unsmoothed ``sqrt`` error map at its middle frame under ``gong2019``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

from memae.video.frames import VideoClip
from memae.video.score import FrameScore
from memae.video.temporal import moving_average

if TYPE_CHECKING:  # evaluation needs only its scoring methods
    from memae.video.detector import VideoDetector


PROTOCOLS = ("per-frame", "gong2019")
# What each protocol reports: per-frame in both scoring modes, gong2019 in its own.
PROTOCOL_MODES = {"per-frame": ("sliding", "fast"), "gong2019": ("gong2019",)}


def minmax_normalize(scores: np.ndarray) -> np.ndarray:
    """Map the scores of one video linearly onto [0, 1]; a constant video maps to 0."""
    scores = np.asarray(scores, dtype=np.float64)
    low, high = scores.min(), scores.max()
    return np.zeros_like(scores) if high == low else (scores - low) / (high - low)


def frame_auc(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray],
              normalize: bool = True) -> float:
    """Pooled frame-level ROC-AUC over videos, with per-video min-max normalisation.

    Parameters
    ----------
    scores, labels : sequences of numpy.ndarray
        One score array and one boolean label array per video, of equal lengths.
    normalize : bool, default True
        Min-max normalise each video's scores first (the paper's protocol).
    """
    if len(scores) != len(labels):
        raise ValueError(f"scores, labels: {len(scores)} score arrays for {len(labels)} videos")
    for k, (s, y) in enumerate(zip(scores, labels, strict=True)):
        if np.shape(s) != np.shape(y):
            raise ValueError(f"scores[{k}]: shape {np.shape(s)} but labels {np.shape(y)}")
    pooled = np.concatenate([minmax_normalize(s) if normalize else s for s in scores])
    truth = np.concatenate(labels).astype(bool)
    if truth.all() or not truth.any():
        raise ValueError("labels: every pooled frame has the same label; AUC is undefined")
    return float(roc_auc_score(truth, pooled))


def resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Boolean masks ``(T, H, W)`` resized to ``size``.

    A pixel is abnormal when most of the area it covers is (box resampling, threshold 0.5).
    """
    height, width = size
    out = np.empty((len(masks), height, width), dtype=bool)
    for t, mask in enumerate(masks):
        image = Image.fromarray(mask.astype(np.uint8) * 255)
        out[t] = np.asarray(image.resize((width, height), Image.Resampling.BOX)) >= 128
    return out


def pixel_auc(maps: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> float:
    """Pooled pixel-level ROC-AUC of per-video min-max normalised maps against masks.

    ``maps[k]`` and ``masks[k]`` are ``(T, H, W)`` of equal shape (see :func:`resize_masks`).
    """
    for k, (m, y) in enumerate(zip(maps, masks, strict=True)):
        if m.shape != y.shape:
            raise ValueError(f"maps[{k}]: shape {m.shape} but masks[{k}] {y.shape}")
    pooled = np.concatenate([minmax_normalize(m).astype(np.float32).ravel() for m in maps])
    truth = np.concatenate([y.ravel() for y in masks])
    return float(roc_auc_score(truth, pooled))


@dataclass
class ModeResult:
    """Evaluation of one scoring mode: ``sliding`` or ``fast`` (per-frame), ``gong2019``.

    Per test video, ``frames`` are the indices of the evaluated frames (every frame
    under ``per-frame``), ``scores`` their scores as evaluated (after the config's
    ``temporal_smoothing`` under ``per-frame``, before min-max normalisation) and
    ``raw_scores`` the same scores before temporal smoothing.
    """

    mode: str
    stride: int
    frame_auc: float
    pixel_auc: float | None
    frames_per_second: float
    scores: list[np.ndarray]
    raw_scores: list[np.ndarray]
    frames: list[np.ndarray]

    @property
    def protocol(self) -> str:
        """``"gong2019"`` or ``"per-frame"``."""
        return "gong2019" if self.mode == "gong2019" else "per-frame"


def mode_scores(detector: VideoDetector, frames: VideoClip | Iterator[np.ndarray], mode: str,
                keep_maps: bool = False) -> tuple[list[FrameScore], np.ndarray, np.ndarray]:
    """One video scored in ``mode``: the frame results, their scores, the evaluated scores.

    The evaluated scores are the scores after the config's ``temporal_smoothing`` under
    ``per-frame`` (``"sliding"``, ``"fast"``) and the scores themselves under
    ``"gong2019"``. ``frames`` as :meth:`VideoDetector.raw_scores` takes them.
    """
    results = list(detector.clip_scores(frames, keep_maps=keep_maps) if mode == "gong2019"
                   else detector.raw_scores(frames, fast=mode == "fast", keep_maps=keep_maps))
    raw = np.array([r.score for r in results])
    smoothing = 1 if mode == "gong2019" else detector.config.temporal_smoothing
    return results, raw, moving_average(raw, smoothing)


def evaluate_mode(
    detector: VideoDetector,
    clips: Sequence[VideoClip],
    mode: str,
    masks: Mapping[str, np.ndarray] | None = None,
) -> ModeResult:
    """Score labelled test ``clips`` in ``mode`` and evaluate.

    ``mode`` is ``"sliding"`` or ``"fast"`` (the ``per-frame`` protocol) or
    ``"gong2019"``. Frames per second count decoding, preprocessing and the model, over
    all test frames. ``masks`` holds boolean ``(T, H, W)`` pixel masks keyed by UCSD clip
    name (``"Test001"``), as :func:`memae.video.load_pixel_masks` returns them; a clip
    named ``"01"`` is looked up as ``"Test001"`` (:func:`ped2_mask_name`). Without masks
    the pixel AUROC is ``None``.
    """
    config = detector.config
    if mode not in ("sliding", "fast", "gong2019"):
        raise ValueError(f"mode: got {mode!r}; expected 'sliding', 'fast' or 'gong2019'")
    unlabelled = [c.name for c in clips if c.labels is None]
    if unlabelled:
        raise ValueError(f"clips: {unlabelled[:5]} have no frame labels; attach them first")
    keep_maps = masks is not None
    scores, raw_scores, maps, frames, n_frames = [], [], [], [], 0
    began = time.perf_counter()
    for clip in clips:
        results, raw, smoothed = mode_scores(detector, clip, mode, keep_maps)
        frames.append(np.array([r.index for r in results]))
        raw_scores.append(raw)
        scores.append(smoothed)
        if keep_maps:
            maps.append(np.stack([cast(np.ndarray, r.map) for r in results]))
        n_frames += clip.n_frames
    seconds = time.perf_counter() - began
    labels = [np.asarray(c.labels)[f] for c, f in zip(clips, frames, strict=True)]
    pixel = None
    if masks is not None:
        truth = [resize_masks(masks[ped2_mask_name(c.name)][f], config.size)
                 for c, f in zip(clips, frames, strict=True)]
        pixel = pixel_auc(maps, truth)
    stride = 1 if mode == "gong2019" else detector.stride(fast=mode == "fast")
    return ModeResult(mode, stride, frame_auc(scores, labels), pixel, n_frames / seconds,
                      scores, raw_scores, frames)


def ped2_mask_name(clip_name: str) -> str:
    """UCSD mask folder name of a clip: ``"01"`` -> ``"Test001"``; ``"Test001"`` unchanged."""
    return f"Test{int(clip_name):03d}" if clip_name.isdigit() else clip_name
