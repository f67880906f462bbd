"""``memae score MODEL DATA``: anomaly scores and thresholded labels as a CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from memae.atomic import check_file_target
from memae.cli.common import (
    add_common_options,
    input_spec,
    run_config,
    score_batches,
    set_threads,
    show_progress,
)
from memae.data.inputs import load_inputs
from memae.loading import load
from memae.run_dir import locate_model
from memae.scores_file import write_scores
from memae.video.detector import VideoDetector


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae score MODEL DATA`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "score", help="score a table or image folder with a trained model",
        description="Writes id,score,anomaly[,label] per sample (anomaly: score above the "
                    "model's threshold) and a JSON sidecar naming the model and data.")
    parser.add_argument("model", help="run directory or model .safetensors file")
    parser.add_argument("data", help="table file or image folder, read like the training data")
    parser.add_argument("--out", type=Path, default=None,
                        help="scores CSV (default: output.scores inside the run directory)")
    parser.add_argument("--classes", nargs="+", default=(), metavar="CLASS",
                        help="image class folders to score (default all)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Score a table or image folder with a trained model and write the scores file."""
    set_threads(args.threads)
    progress = show_progress(args)
    model_path, run = locate_model(args.model)
    detector = load(model_path, device=args.device)
    if isinstance(detector, VideoDetector):
        raise ValueError(f"{str(model_path)!r} holds a video model; score a video with "
                         f"memae score-video VIDEO --model {args.model} --out scores.csv")
    spec = input_spec(run, detector)
    config = run_config(run)
    out = args.out
    if out is None:
        out = run.inside(config.output.scores if config else "scores.csv", "output.scores")
    check_file_target(out, "--out")
    inputs = load_inputs(args.data, spec, classes=args.classes, progress=progress)
    if len(inputs.X) == 0:
        raise ValueError(f"data {str(args.data)!r} has no rows to score; pass a file with at "
                         "least one sample.")
    scores = score_batches(detector, inputs.X, progress)
    anomaly = (scores > detector.threshold_).astype(int)
    meta = {"model": str(Path(model_path).resolve()), "data": str(Path(args.data).resolve()),
            "classes": list(args.classes), "threshold": float(detector.threshold_),
            "n": len(scores), "n_flagged": int(anomaly.sum())}
    write_scores(out, inputs.ids, scores, anomaly, inputs.y, meta)
    if progress:
        print(f"scored {len(scores)} samples; {int(anomaly.sum())} above the threshold "
              f"{detector.threshold_:.6g}; wrote {out}")
    return 0
