"""``memae evaluate-video MODEL``: Ped2 frame (and pixel) AUC of a trained video model.

A saved model is rescored on the UCSD Ped2 test set under either protocol of
:mod:`memae.video.evaluate` (``per-frame``, ``gong2019``) without retraining.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from memae.atomic import check_file_target, write_json_atomic
from memae.benchmarks.ped2 import load_test_set
from memae.cli.common import add_video_model_options, load_video_model
from memae.video.evaluate import PROTOCOL_MODES, PROTOCOLS, evaluate_mode

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae evaluate-video MODEL`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "evaluate-video", help="Ped2 frame AUC of a trained video model, by protocol",
        description="Scores the UCSD Ped2 test clips with a video model (a run directory of "
                    "`memae train --kind video`, or its model file) and prints the pooled "
                    "frame AUC, and the pixel AUC where the masks are in the data folder. "
                    "per-frame: every frame, sliding and fast modes, the model's temporal "
                    "smoothing; gong2019: the authors' test script (one score per "
                    "stride-1 clip at its 9th frame, gt[8:-7]).")
    parser.add_argument("model", type=Path,
                        help="run directory of `memae train --kind video`, or a video model "
                             ".safetensors")
    parser.add_argument("--protocol", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS),
                        help="protocols to evaluate (default: both)")
    parser.add_argument("--data-dir", default=None,
                        help="data folder with ped2/ (default: $MEMAE_DATA)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    add_video_model_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print (and with ``--out`` write) the model's Ped2 AUCs under each protocol asked."""
    if args.out is not None:
        check_file_target(args.out, "--out")
    detector = load_video_model(args, args.model)
    clips, masks = load_test_set(args.data_dir)
    rows = []
    print("| protocol | mode | frames | frame AUC | pixel AUC | frames/s |")
    print("|---|---|---|---|---|---|")
    for protocol in dict.fromkeys(args.protocol):
        for mode in PROTOCOL_MODES[protocol]:
            result = evaluate_mode(detector, clips, mode, masks)
            row = {"protocol": protocol, "mode": mode, "stride": result.stride,
                   "n_frames": sum(len(f) for f in result.frames),
                   "frame_auc": result.frame_auc, "pixel_auc": result.pixel_auc,
                   "frames_per_second": result.frames_per_second}
            rows.append(row)
            pixel = "n/a" if result.pixel_auc is None else f"{result.pixel_auc:.4f}"
            print(f"| {protocol} | {mode} | {row['n_frames']} | {result.frame_auc:.4f} | "
                  f"{pixel} | {result.frames_per_second:.1f} |")
    if args.out is not None:
        write_json_atomic(args.out, {"model": str(args.model), "rows": rows}, "--out")
        print(f"wrote {args.out}")
    return 0
