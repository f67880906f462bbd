"""``memae export MODEL --format onnx``: a scoring graph for onnxruntime."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memae.atomic import atomic_path, check_file_target
from memae.cli.common import add_common_options, set_threads, show_progress
from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble
from memae.export import EXPORTERS, check_onnx, export_onnx, input_shape
from memae.loading import load
from memae.run_dir import RunDir, locate_model
from memae.video.detector import VideoDetector

PARITY_TOLERANCE = 1e-4


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae export MODEL`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "export", help="export a trained model (ONNX)",
        description="The ONNX graph takes raw samples (batch axis dynamic), standardises them "
                    "as the detector does and outputs the anomaly score per sample; the "
                    "threshold is in its metadata; a video model's graph takes windows of "
                    "frames and outputs each frame's error. See docs/export.md.")
    parser.add_argument("model", help="run directory or model .safetensors file")
    parser.add_argument("--format", choices=("onnx",), default="onnx")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (default: model.onnx beside the model)")
    parser.add_argument("--reconstruction", action="store_true",
                        help="also output the reconstruction")
    parser.add_argument("--exporter", choices=EXPORTERS, default="dynamo")
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="skip the onnxruntime vs PyTorch parity check")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def probe_inputs(detector: MemAEDetector | MemAEEnsemble | VideoDetector, n: int = 16,
                 seed: int = 0) -> np.ndarray:
    """Random samples in the range the model was trained on, for the parity check."""
    rng = np.random.default_rng(seed)
    if isinstance(detector, VideoDetector):  # windows of preprocessed frames, in [-1, 1]
        return rng.uniform(-1, 1, (4, *input_shape(detector))).astype(np.float32)
    X = rng.standard_normal((n, *detector.input_shape_)).astype(np.float32)
    scaled = getattr(detector, "estimators_", [detector])[0]  # an ensemble: its first member
    if scaled.scale_mean_ is not None:
        return X * scaled.scale_std_ + scaled.scale_mean_
    return np.clip(0.5 + 0.25 * X, 0.0, 1.0)


def handle(args: argparse.Namespace) -> int:
    """Write the model's ONNX graph, checked against PyTorch's scores with ``--check``."""
    set_threads(args.threads)
    model_path, run = locate_model(args.model)
    out = check_file_target(args.out if args.out is not None
                            else model_path.with_suffix(".onnx"), "--out")
    detector = load(model_path)
    spec = run.read_json(RunDir.INPUT) if run.input_spec.is_file() else None
    # Exported and checked under a temporary name: a failed parity check leaves no file.
    with atomic_path(out, "--out") as tmp:
        export_onnx(detector, tmp, with_reconstruction=args.reconstruction,
                    exporter=args.exporter, input_spec=spec)
        message = f"wrote {out}"
        if args.check:
            difference = check_onnx(detector, tmp, probe_inputs(detector))
            if difference > PARITY_TOLERANCE:
                raise ValueError(f"the exported scores differ from PyTorch's by "
                                 f"{difference:.3g} (> {PARITY_TOLERANCE}); try --exporter "
                                 f"{'legacy' if args.exporter == 'dynamo' else 'dynamo'}.")
            message += f" (max |score difference| vs PyTorch: {difference:.2g})"
    if show_progress(args):
        print(message)
    return 0
