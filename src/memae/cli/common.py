"""Helpers shared by the run-directory subcommands (train, score, evaluate, report, export)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from memae.config import RunConfig, load_config_file, resolve_config
from memae.data.inputs import InputSpec, spec_for_model
from memae.detector import MemAEDetector, resolve_device
from memae.ensemble import MemAEEnsemble
from memae.run_dir import RunDir, locate_model
from memae.video.config import FRAME_SCORES
from memae.video.detector import VideoDetector

logger = logging.getLogger("memae.cli")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` and ``--debug`` after the subcommand too (``memae train ... --quiet``).

    ``SUPPRESS`` keeps the value given before the subcommand when the flag is
    not repeated after it.
    """
    parser.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or logs")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default 1: fastest for these small models)")


def set_threads(threads: int | None) -> None:
    """Set torch's CPU thread count (``None``: 1); refuses a count below 1."""
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}.")
    torch.set_num_threads(threads or 1)


def show_progress(args: argparse.Namespace) -> bool:
    """Whether progress bars and messages are shown: ``False`` under ``--quiet``."""
    return not getattr(args, "quiet", False)


def run_config(run: RunDir) -> RunConfig | None:
    """The run's saved ``config.yaml``, or ``None`` for a model saved from Python."""
    return resolve_config(load_config_file(run.config)) if run.config.is_file() else None


def input_spec(run: RunDir, model: MemAEDetector | MemAEEnsemble) -> InputSpec:
    """``input.json`` beside the model, else a spec derived from the model's input shape."""
    if run.input_spec.is_file():
        return InputSpec.from_dict(run.read_json(RunDir.INPUT))
    logger.info("no %s in %s: reading data by the model's input shape", RunDir.INPUT,
                run.root)
    return spec_for_model(model.input_shape_)


def score_batches(detector: MemAEDetector | MemAEEnsemble, X: np.ndarray, progress: bool
                  ) -> np.ndarray:
    """``detector.decision_function`` in batches, with a progress bar."""
    step = detector.score_batch_size
    parts = []
    with tqdm(total=len(X), desc="scoring", unit="sample", disable=not progress,
              leave=False) as bar:
        for start in range(0, len(X), step):
            parts.append(detector.decision_function(X[start:start + step]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts) if parts else np.empty(0)


def add_video_model_options(parser: argparse.ArgumentParser) -> None:
    """``--batch-size``, ``--device``, ``--threads`` and ``--frame-score`` of video scoring."""
    parser.add_argument("--batch-size", type=int, default=16, help="clips per forward pass")
    parser.add_argument("--frame-score", choices=FRAME_SCORES, default=None,
                        help="how frames are scored (default: the model's frame_score); "
                             "reconstruction+memory adds the codes' distance to the memory")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")


def load_video_model(args: argparse.Namespace, model: Path) -> VideoDetector:
    """The video detector of a run directory or model file, set up as the options ask.

    Checks ``--threads``, ``--batch-size`` and ``--device`` (of
    :func:`add_video_model_options`) first, naming the option at fault.
    """
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}.")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}.")
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        raise ValueError(f"--device: {error}") from error
    torch.set_num_threads(args.threads)
    model_path, _ = locate_model(model)
    detector = VideoDetector.load(model_path, device=str(device))
    detector.score_batch_size = args.batch_size
    if args.frame_score is not None:
        try:
            detector.config = detector.config.replace(frame_score=args.frame_score)
            detector.score_reference()
        except ValueError as error:
            raise ValueError(f"--frame-score {args.frame_score}: {error}") from error
    return detector
