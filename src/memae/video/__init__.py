"""Video MemAE's parts: clip discovery, labels, preprocessing, frame scores, evaluation.

The estimator that trains and scores, :class:`memae.VideoDetector`, lives in
:mod:`memae.video.detector` and builds on these.
"""

from memae.video.clips import ClipDataset, ClipSample, clip_starts
from memae.video.config import VideoConfig
from memae.video.decode import iter_frames, iter_images, open_clip
from memae.video.evaluate import (
    ModeResult,
    evaluate_mode,
    frame_auc,
    minmax_normalize,
    pixel_auc,
    resize_masks,
)
from memae.video.frames import (
    VideoClip,
    count_video_frames,
    discover_clips,
    frame_folder_clips,
    video_file_clips,
    with_labels,
)
from memae.video.labels import (
    frame_labels,
    load_npy_frame_labels,
    load_pixel_masks,
    parse_ucsd_m,
    ranges_to_labels,
    read_m_ranges,
    read_mat_ranges,
)
from memae.video.score import FrameScore, score_frames, smooth_map
from memae.video.signal import frame_differences, model_inputs
from memae.video.synthetic import SyntheticVideos, make_synthetic_videos, write_frame_folders
from memae.video.transforms import FrameTransform, load_frame, to_signed_unit

__all__ = [
    "ClipDataset",
    "ClipSample",
    "FrameScore",
    "FrameTransform",
    "ModeResult",
    "SyntheticVideos",
    "VideoClip",
    "VideoConfig",
    "clip_starts",
    "count_video_frames",
    "discover_clips",
    "evaluate_mode",
    "frame_auc",
    "frame_differences",
    "frame_folder_clips",
    "frame_labels",
    "iter_frames",
    "iter_images",
    "load_frame",
    "load_npy_frame_labels",
    "load_pixel_masks",
    "make_synthetic_videos",
    "minmax_normalize",
    "model_inputs",
    "open_clip",
    "parse_ucsd_m",
    "pixel_auc",
    "ranges_to_labels",
    "read_m_ranges",
    "read_mat_ranges",
    "resize_masks",
    "score_frames",
    "smooth_map",
    "to_signed_unit",
    "video_file_clips",
    "with_labels",
    "write_frame_folders",
]
