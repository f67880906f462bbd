"""``memae report RUN_DIR``: one self-contained HTML page plus the PNGs of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

from memae.cli.common import add_common_options, set_threads, show_progress
from memae.report import ReportOptions, build_report


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae report RUN_DIR`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "report", help="HTML report of a run (loss, ROC/PR, images, memory, video)",
        description="Writes report.html (images embedded) and the PNGs into the run's report "
                    "folder. Sections appear when their inputs exist.")
    parser.add_argument("run_dir", type=Path, help="run directory of `memae train`")
    parser.add_argument("--scores", type=Path, default=None,
                        help="scores CSV (default: the run's scores file, if any)")
    parser.add_argument("--data", type=Path, default=None,
                        help="data for image grids and memory usage (default: the scored "
                             "data, else the training data)")
    parser.add_argument("--video-scores", type=Path, default=None,
                        help="CSV with clip,frame,score[,label] columns")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--max-samples", type=int, default=5000,
                        help="samples loaded for grids and memory usage (default 5000)")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Build the run's HTML report and its figures; 0 on success."""
    set_threads(args.threads)
    if args.max_samples < 1:
        raise ValueError(f"--max-samples must be >= 1, got {args.max_samples}.")
    options = ReportOptions(scores=args.scores, data=args.data, video_scores=args.video_scores,
                            out=args.out, max_samples=args.max_samples,
                            progress=show_progress(args))
    page = build_report(args.run_dir, options)
    if show_progress(args):
        print(f"wrote {page}")
    return 0
