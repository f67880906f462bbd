"""Video data for MemAE: clip discovery, labels, frame preprocessing, 16-frame cuboids."""

from memae.video.clips import ClipDataset, ClipSample, clip_starts
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
from memae.video.synthetic import SyntheticVideos, make_synthetic_videos, write_frame_folders
from memae.video.transforms import FrameTransform, load_frame, to_signed_unit

__all__ = [
    "ClipDataset",
    "ClipSample",
    "FrameTransform",
    "SyntheticVideos",
    "VideoClip",
    "clip_starts",
    "count_video_frames",
    "discover_clips",
    "frame_folder_clips",
    "frame_labels",
    "load_frame",
    "load_npy_frame_labels",
    "load_pixel_masks",
    "make_synthetic_videos",
    "parse_ucsd_m",
    "ranges_to_labels",
    "read_m_ranges",
    "read_mat_ranges",
    "to_signed_unit",
    "video_file_clips",
    "with_labels",
    "write_frame_folders",
]
