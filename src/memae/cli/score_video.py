"""``memae score-video IN --model M --out scores.csv``: per-frame scores of any video.

Frames are decoded, scored and written one after another (see
:func:`memae.video.score.score_frames`), so memory stays constant for any video length.
The CSV holds the model's frame scores (``frame,score``: after its temporal
smoothing, if its config has one, before any per-video rescaling); per-video min-max
normalisation, as in the paper's evaluation, needs the whole video and is left to the
reader of the file.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
from tqdm.auto import tqdm

from memae.atomic import atomic_path, check_file_target
from memae.cli.common import add_video_model_options, load_video_model
from memae.machine import physical_memory
from memae.video.decode import iter_images, open_clip
from memae.video.overlay import OverlayWriter
from memae.video.transforms import FrameTransform

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae score-video INPUT`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "score-video", help="per-frame anomaly scores of a video file or frame folder",
        description="Scores every frame with a video model (a run directory of `memae train "
                    "--kind video`, or its model file) and writes frame,score rows to a CSV.")
    parser.add_argument("input", type=Path, help="video file (.mp4, .avi, ...) or frame folder")
    parser.add_argument("--model", type=Path, required=True,
                        help="run directory of `memae train --kind video`, or a video model "
                             ".safetensors")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--overlay", type=Path, default=None,
                        help="also write a video with the anomaly maps in red (.mp4)")
    parser.add_argument("--fast", action="store_true",
                        help="non-overlapping clips (the fast mode) instead of sliding ones")
    parser.add_argument("--fps", type=float, default=10.0,
                        help="frame rate of the overlay video (default 10, as UCSD)")
    add_video_model_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the per-frame scores of a video (and, with ``--overlay``, an annotated copy)."""
    if not args.fps > 0:
        raise ValueError(f"--fps must be a positive frame rate, got {args.fps}.")
    check_file_target(args.out, "--out")
    if args.overlay is not None:
        check_file_target(args.overlay, "--overlay")
    detector = load_video_model(args, args.model)
    config = detector.config
    # One batch holds batch_size clips of clip_length frames, and their error maps.
    needed, total = 2 * 4 * args.batch_size * config.span * config.size[0] * config.size[1], \
        physical_memory()
    if total is not None and needed > total:
        raise ValueError(f"--batch-size {args.batch_size} needs about {needed / 2**30:.1f} GiB "
                         f"for clips of {config.span} frames at {config.size[0]} x "
                         f"{config.size[1]}, more than this machine's {total / 2**30:.1f} GiB; "
                         "use a smaller --batch-size.")
    clip = open_clip(args.input)
    transform = FrameTransform(config.size)
    originals: deque[np.ndarray] = deque()  # frames read but not yet scored, for overlays

    def frames() -> Iterator[np.ndarray]:
        for image in iter_images(clip):
            if args.overlay is not None:
                originals.append(np.asarray(image.convert("L")))
            yield transform(image)

    scores = detector.score_stream(frames(), fast=args.fast, keep_maps=args.overlay is not None)
    scale = float(detector.training_.get("map_scale") or 1.0)
    # Both outputs are written under temporary names and renamed only when every
    # frame was scored: a failure leaves any previous files at those paths as they were.
    with contextlib.ExitStack() as stack:
        csv_tmp = stack.enter_context(atomic_path(args.out, "--out"))
        writer = None
        if args.overlay is not None:
            overlay_tmp = stack.enter_context(atomic_path(args.overlay, "--overlay"))
            writer = stack.enter_context(OverlayWriter(overlay_tmp, args.fps))
        handle_out = stack.enter_context(csv_tmp.open("w", newline=""))
        rows = csv.writer(handle_out)
        rows.writerow(["frame", "score"])
        for result in tqdm(scores, total=clip.n_frames, unit="frame", leave=False,
                           disable=logger.getEffectiveLevel() > logging.INFO):
            rows.writerow([result.index, f"{result.score:.6g}"])
            if writer is not None:  # scored with keep_maps=True: every result has its map
                writer.write(originals.popleft(), cast(np.ndarray, result.map), scale)
    print(f"scored {clip.n_frames} frames of {clip.name!r}; wrote {args.out}"
          + (f" and {args.overlay}" if args.overlay is not None else ""))
    return 0
