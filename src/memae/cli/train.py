"""``memae train``: fit a detector on a table, an image folder or videos into a run directory.

With ``--n-estimators K`` (K > 1) the run holds a :class:`memae.MemAEEnsemble`
of K detectors, each trained on ``--max-samples`` rows. With ``--kind video`` it
holds a :class:`memae.VideoDetector` trained on the clips of ``--data`` (a video
file, a frame folder, a folder of them, or a dataset folder with a training split).

Configuration flows one way: :class:`memae.config.RunConfig` defaults, then the
``detector`` section of ``--preset`` (:mod:`memae.presets`), then ``--config FILE``
(YAML or JSON), then the flags below, then ``--set KEY=VALUE``.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from memae.cli.common import add_common_options, set_threads, show_progress
from memae.config import KINDS, RunConfig, load_config_file, parse_assignment, resolve_config
from memae.data.inputs import Inputs, detect_kind, fit_inputs
from memae.detector import MemAEDetector
from memae.distributed import end_process_group, init_from_env, launched_by_torchrun
from memae.ensemble import MemAEEnsemble
from memae.metrics import anomaly_metrics
from memae.presets import Preset, load_preset
from memae.run_dir import RunDir, claim_run
from memae.video.config import VideoConfig
from memae.video.detector import VideoDetector, resolve_clips
from memae.video.frames import VideoClip

logger = logging.getLogger("memae.cli")

# flag destination -> (section, key) of RunConfig
FLAG_KEYS: dict[str, tuple[str | None, str]] = {
    "data": ("data", "path"), "format": ("data", "format"), "label_col": ("data", "label_col"),
    "ignore_cols": ("data", "ignore_cols"), "categorical_cols": ("data", "categorical_cols"),
    "image_size": ("data", "image_size"), "color": ("data", "color"),
    "classes": ("data", "classes"), "normal_labels": ("data", "normal_labels"),
    "fit_on": ("data", "fit_on"),
    "model": ("detector", "model"), "memory": ("detector", "memory"),
    "memory_size": ("detector", "memory_size"),
    "shrink_threshold": ("detector", "shrink_threshold"), "epochs": ("detector", "epochs"),
    "batch_size": ("detector", "batch_size"), "learning_rate": ("detector", "learning_rate"),
    "contamination": ("detector", "contamination"), "target_fpr": ("detector", "target_fpr"),
    "seed": ("detector", "random_state"), "device": ("detector", "device"),
    "n_estimators": ("ensemble", "n_estimators"), "max_samples": ("ensemble", "max_samples"),
    "out": ("output", "run_dir"), "threads": (None, "threads"), "kind": (None, "kind"),
    "preset": (None, "preset"),
}
# memae.data.inputs.detect_kind's data kinds -> the preset kind that configures them
PRESET_KINDS: dict[str, str] = {"table": "tabular", "images": "images"}


def int_or_float(text: str) -> int | float:
    """``--max-samples``: ``512`` is a row count, ``0.5`` a share of the rows."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a row count (e.g. 512) or a share of the rows (e.g. 0.5), "
                f"got {text!r}") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae train`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "train", help="train a detector into a run directory",
        description="Train MemAE on a table (CSV, Parquet, NPY, NPZ) or an image folder. "
                    "Precedence: defaults < --preset < --config file < flags < --set.")
    parser.add_argument("--preset", default=None, metavar="NAME_OR_FILE",
                        help="a named preset (see `memae presets`) or a preset YAML file; "
                             "its detector section comes under --config")
    parser.add_argument("--config", type=Path, default=None, help="YAML or JSON run config")
    parser.add_argument("--data", default=None,
                        help="table file or image folder; with --kind video, a video file, "
                             "frame folder, a folder of them or a dataset folder")
    parser.add_argument("--kind", choices=KINDS, default=None,
                        help="what to train: auto (a file is a table, a folder images), "
                             "tabular, images or video")
    parser.add_argument("--format", choices=("auto", "table", "images"), default=None)
    parser.add_argument("--label-col", default=None, help="label column (kept out of X)")
    parser.add_argument("--ignore-cols", nargs="+", default=None, metavar="COL")
    parser.add_argument("--categorical-cols", nargs="+", default=None, metavar="COL",
                        help="numeric-looking columns to one-hot encode")
    parser.add_argument("--image-size", type=int, nargs=2, default=None, metavar=("H", "W"))
    parser.add_argument("--color", choices=("gray", "rgb"), default=None)
    parser.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                        help="image class folders to use")
    parser.add_argument("--normal-labels", nargs="+", default=None, metavar="VALUE",
                        help="label values / class folders that are normal")
    parser.add_argument("--fit-on", choices=("normal", "all"), default=None,
                        help="with labels: train on the rows labelled normal (default, the "
                             "paper's protocol) or on all rows")
    parser.add_argument("--model", default=None, help="registered model name or 'auto'")
    parser.add_argument("--no-memory", dest="memory", action="store_const", const=False,
                        default=None, help="the plain autoencoder baseline")
    parser.add_argument("--memory-size", type=int, default=None)
    parser.add_argument("--shrink-threshold", type=float, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--contamination", type=float, default=None)
    parser.add_argument("--target-fpr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--n-estimators", type=int, default=None, metavar="K",
                        help="train an ensemble of K detectors (default 1: one detector)")
    parser.add_argument("--max-samples", type=int_or_float, default=None, metavar="ROWS",
                        help="rows per ensemble member: a count or a share in (0, 1] "
                             "(default 256)")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--out", default=None, help="run directory to create")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any config key, e.g. --set detector.model_params.latent_dim=4")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR",
                        help="continue an interrupted run from its config.yaml and its last "
                             "per-epoch checkpoint (no other training options)")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that were given, as a nested mapping over RunConfig."""
    nested: dict[str, Any] = {}
    for dest, (section, key) in FLAG_KEYS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        target = nested if section is None else nested.setdefault(section, {})
        target[key] = list(value) if isinstance(value, tuple | list) else value
    return nested


def build_config(args: argparse.Namespace) -> RunConfig:
    """Defaults < ``--preset`` < ``--config`` < flags < ``--set``, with paths made absolute.

    The preset named by the merged ``preset`` key (``--preset``, or ``preset:`` in
    the file) goes under the file; ``config.preset`` records which it was.
    """
    file_values = load_config_file(args.config) if args.config is not None else None
    layers = [file_values or {}, *(flag_overrides(args), *(parse_assignment(text)
                                                          for text in args.set))]
    name = _last(layers, "preset")
    if name is None:
        config = resolve_config(layers[0], layers[1:])
    else:
        preset = load_preset(name)
        given = _last(layers, "kind")
        # A video preset makes a video run, so its settings (detector.size, ...) are
        # read as video settings from the first layer on.
        first = "video" if preset.kind == "video" and given in (None, "auto", "video") \
            else given or "auto"
        probe = resolve_config({"kind": first}, layers)
        _required_paths(probe)
        kind = check_preset_kind(preset, probe)
        # quick and protocol concern only `memae benchmark`; the other settings change
        # what a benchmark trains, which a user should know train leaves out.
        ignored = [key for key in preset.benchmark if key not in ("quick", "protocol")]
        if ignored:
            logger.warning("preset %r: its benchmark section (%s) applies to `memae "
                           "benchmark` only; memae train uses its detector section",
                           preset.source, ", ".join(ignored))
        config = resolve_config({"kind": kind, "detector": preset.detector},
                                [*layers, {"preset": preset.source}])
    data_path, run_dir = _required_paths(config)
    config.data.path = str(Path(data_path).expanduser().resolve())
    config.output.run_dir = str(Path(run_dir).expanduser().resolve())
    return config


def _last(layers: list[dict[str, Any]], key: str) -> Any:
    """The value of top-level ``key`` in the last layer that sets it (``None``: none)."""
    values = [layer[key] for layer in layers if isinstance(layer, dict) and key in layer]
    return values[-1] if values else None


def _required_paths(config: RunConfig) -> tuple[str, str]:
    """``(data.path, output.run_dir)``; a missing one is an error that says how to set it."""
    if config.data.path is None:
        raise ValueError("no training data: pass --data PATH or set data.path in --config.")
    if config.output.run_dir is None:
        raise ValueError("no run directory: pass --out DIR or set output.run_dir in --config.")
    return config.data.path, config.output.run_dir


def check_preset_kind(preset: Preset, config: RunConfig) -> str:
    """The run's kind under ``preset``; a preset for another kind of data is refused.

    A video preset makes the run a video run unless ``kind`` says otherwise.
    """
    if preset.kind == "video" or config.video:
        if config.kind in ("auto", "video") and preset.kind == "video":
            return "video"
        raise ValueError(f"preset {preset.source!r} is for {preset.kind} data, but this run "
                         f"has kind {config.kind!r}; pass {_a(config.kind)} preset (`memae "
                         "presets` lists them), or drop --kind.")
    kind = PRESET_KINDS[detect_kind(_required_paths(config)[0], config.data.format)]
    if preset.kind != kind:
        raise ValueError(f"preset {preset.source!r} is for {preset.kind} data, but "
                         f"{config.data.path!r} is {kind} data; pass {_a(kind)} preset "
                         f"(`memae presets` lists them), e.g. --preset {kind}.")
    return config.kind


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def resume_config(args: argparse.Namespace) -> RunConfig:
    """The saved ``config.yaml`` of ``--resume RUN_DIR``; other options are refused."""
    given = [f"--{dest.replace('_', '-')}" for dest in FLAG_KEYS if getattr(args, dest, None)
             is not None and dest != "threads"]
    given += ["--config"] * (args.config is not None) + ["--set"] * bool(args.set)
    if given:
        raise ValueError(f"--resume continues a run with its saved config.yaml; drop {given}.")
    run = RunDir(Path(args.resume).expanduser().resolve())
    if not run.config.is_file():
        raise FileNotFoundError(f"{str(run.root)!r} has no {RunDir.CONFIG}; --resume takes the "
                                "--out folder of an interrupted `memae train`.")
    config = resolve_config(load_config_file(run.config))
    config.output.run_dir = str(run.root)
    if config.ensemble.n_estimators > 1:
        raise ValueError(f"{str(run.root)!r} trains an ensemble, which keeps no per-epoch "
                         "checkpoints to resume from; train it again with --overwrite.")
    if args.threads is not None:
        config.threads = args.threads
    return config


def build_ensemble(config: RunConfig, verbose: bool) -> MemAEEnsemble:
    """``ensemble.n_estimators`` detectors as the detector section describes them."""
    rows = config.ensemble.max_samples
    size = {} if rows is None else {"max_samples": rows}  # None: the ensemble's default
    return MemAEEnsemble(MemAEDetector(**asdict(config.detector), verbose=verbose),
                         n_estimators=config.ensemble.n_estimators, **size,
                         contamination=config.detector.contamination,
                         target_fpr=config.detector.target_fpr,
                         random_state=config.detector.random_state)


def handle(args: argparse.Namespace) -> int:
    """Train (or ``--resume``) a detector, ensemble or video model into its run directory."""
    resume = args.resume is not None
    config = resume_config(args) if resume else build_config(args)
    set_threads(config.threads)
    progress = show_progress(args)
    if config.video:
        return _handle_video(config, args, resume, progress)
    # Everything is checked before the run directory is made: a bad option, model
    # or data file exits with one line and leaves nothing behind.
    data_path, run_dir = _required_paths(config)
    detect_kind(data_path, config.data.format)
    run = RunDir(Path(run_dir))
    run.inside(config.output.scores, "output.scores")
    run.inside(config.output.report, "output.report")
    if not resume:
        run.check_new(args.overwrite)  # every rank refuses before any waits on rank 0
    data = config.data
    inputs, spec = fit_inputs(
        data_path, format=data.format, label_col=data.label_col, ignore_cols=data.ignore_cols,
        categorical_cols=data.categorical_cols, image_size=data.image_size, color=data.color,
        classes=data.classes, normal_labels=data.normal_labels, progress=progress)
    X, used = fit_rows(inputs, data.fit_on, data_path)
    if config.ensemble.n_estimators > 1:
        if launched_by_torchrun():
            raise ValueError("an ensemble (ensemble.n_estimators > 1) trains in one process; "
                             "run it without torchrun.")
        ensemble = build_ensemble(config, progress)
        ensemble.rows_per_member(len(X))
        assert ensemble.estimator is not None  # build_ensemble always gives it a detector
        _check_fit(ensemble.estimator, X, data_path)
        if progress:
            print(used)
        with claim_run(run.root, overwrite=args.overwrite) as run:
            return _train_ensemble(config, ensemble, X, inputs, spec, run, progress)
    _check_fit(MemAEDetector(**asdict(config.detector)), X, data_path)
    rank = 0
    if launched_by_torchrun():
        rank, _, device = init_from_env()
        config.detector.device = str(device)
    if progress and rank == 0:
        print(used)
    try:
        if rank != 0:  # rank 0 alone writes the run
            return _train(config, X, inputs, spec, run, resume, rank, progress)
        with claim_run(run.root, overwrite=args.overwrite, resume=resume) as run:
            return _train(config, X, inputs, spec, run, resume, rank, progress)
    finally:
        if launched_by_torchrun():
            end_process_group()


def video_detector(config: RunConfig, verbose: bool = False) -> VideoDetector:
    """The untrained :class:`VideoDetector` the detector section of a video run describes."""
    settings = asdict(config.detector)
    run = {"device": settings.pop("device"), "score_batch_size": settings.pop("score_batch_size")}
    return VideoDetector(VideoConfig.from_dict(settings), verbose=verbose, **run)


def _handle_video(config: RunConfig, args: argparse.Namespace, resume: bool,
                  progress: bool) -> int:
    """Train a video model into the run directory (checked before anything is written).

    Under ``torchrun`` every rank trains its share of each batch and rank 0
    alone writes the run, as for tables and images.
    """
    video_detector(config)  # the settings' errors before any other work
    data_path, run_dir = _required_paths(config)
    clips = resolve_clips(data_path)
    run = RunDir(Path(run_dir))
    if not resume:
        run.check_new(args.overwrite)  # every rank refuses before any waits on rank 0
    rank = 0
    if launched_by_torchrun():
        rank, _, device = init_from_env()
        config.detector.device = str(device)
    if progress and rank == 0:
        print(f"training on {len(clips)} clips of {config.data.path!r} "
              f"({sum(c.n_frames for c in clips)} frames)")
    try:
        if rank != 0:
            video_detector(config).fit(clips, checkpoint_dir=run.checkpoints, resume=resume)
            return 0
        with claim_run(run.root, overwrite=args.overwrite, resume=resume) as run:
            return _train_video(config, clips, run, resume, progress)
    finally:
        if launched_by_torchrun():
            end_process_group()


def _train_video(config: RunConfig, clips: list[VideoClip], run: RunDir, resume: bool,
                 progress: bool) -> int:
    if not resume:
        config.save(run.config)
    detector = video_detector(config, verbose=progress).fit(
        clips, checkpoint_dir=run.checkpoints, resume=resume)
    detector.save(run.model)
    history, training = detector.history_, detector.training_
    run.write_json(RunDir.HISTORY, {**history.to_dict(), "fit_seconds": training["fit_seconds"]})
    run.write_json(RunDir.METRICS, dict(training))
    if progress:
        print(f"trained {detector.config.model} on {training['n_windows']} windows of "
              f"{training['n_train_clips']} clips in {training['fit_seconds']:.1f} s "
              f"({history.steps} steps, best epoch {history.best_epoch} of "
              f"{len(history.train_loss)}); wrote {run.root}")
    return 0


def fit_rows(inputs: Inputs, fit_on: str, path: str) -> tuple[np.ndarray, str]:
    """The rows to train on, and a line saying which they are."""
    n = len(inputs.X)
    if inputs.y is None:
        return inputs.X, f"training on all {n} rows of {path!r} (no labels)"
    if fit_on == "all":
        return inputs.X, (f"training on all {n} rows of {path!r}, anomalies included "
                          "(--fit-on all)")
    normal = inputs.y == 0
    if not normal.any():
        raise ValueError(f"--fit-on normal: no row of {path!r} is labelled normal; check "
                         "--normal-labels, or pass --fit-on all to train on every row.")
    return inputs.X[normal], (f"training on the {int(normal.sum())} of {n} rows of {path!r} "
                              "labelled normal (--fit-on normal; --fit-on all trains on "
                              "every row)")


def _check_fit(detector: MemAEDetector, X: np.ndarray, path: str) -> None:
    """``detector.check_fit(X)``; an error about the samples names the data file."""
    try:
        detector.check_fit(X)
    except (ValueError, TypeError) as error:
        if str(error).startswith("X"):  # validation's messages about the input start so
            raise type(error)(f"data {path!r}: {error}") from error
        raise


def _train(config: RunConfig, X: np.ndarray, inputs: Inputs, spec: Any, run: RunDir,
           resume: bool, rank: int, progress: bool) -> int:
    if rank == 0 and not resume:
        config.save(run.config)
    # Checkpoints every epoch; rank 0 alone writes them in a data-parallel run.
    detector = MemAEDetector(**asdict(config.detector), verbose=progress and rank == 0).fit(
        X, checkpoint_dir=run.checkpoints, resume=resume)
    if rank != 0:
        return 0

    history = detector.history_
    return _write_run(run, detector, inputs, spec,
                      {**history.to_dict(), "fit_seconds": detector.fit_seconds_},
                      f"trained {detector.model_name_} on {detector.n_train_} samples "
                      f"({detector.n_val_} held out) in {detector.fit_seconds_:.1f} s; best "
                      f"epoch {history.best_epoch} of {len(history.train_loss)}",
                      progress)


def _train_ensemble(config: RunConfig, ensemble: MemAEEnsemble, X: np.ndarray,
                    inputs: Inputs, spec: Any, run: RunDir, progress: bool) -> int:
    config.save(run.config)
    logger.info("training %d detectors on %d of %d samples each", ensemble.n_estimators,
                ensemble.rows_per_member(len(X)), len(X))
    ensemble.fit(X)
    members = [{**asdict(m.history_), "fit_seconds": m.fit_seconds_}
               for m in ensemble.estimators_]
    return _write_run(run, ensemble, inputs, spec,
                      {"members": members, "fit_seconds": ensemble.fit_seconds_},
                      f"trained {ensemble.n_estimators} x {ensemble.estimators_[0].model_name_} "
                      f"on {len(ensemble.samples_[0])} of {len(X)} samples each in "
                      f"{ensemble.fit_seconds_:.1f} s", progress)


def _write_run(run: RunDir, model: MemAEDetector | MemAEEnsemble, inputs: Inputs, spec: Any,
               history: dict[str, Any], summary: str, progress: bool) -> int:
    """The model and its run files; prints ``summary`` with the threshold."""
    model.save(run.model)
    run.write_json(RunDir.INPUT, spec.to_dict())
    run.write_json(RunDir.HISTORY, history)
    run.write_json(RunDir.METRICS, training_metrics(model, inputs))
    if progress:
        print(f"{summary}; threshold {model.threshold_:.6g}; wrote {run.root}")
    return 0


def training_metrics(detector: MemAEDetector | MemAEEnsemble, inputs: Inputs
                     ) -> dict[str, Any]:
    """What ``metrics.json`` holds after training."""
    scores = detector.decision_scores_
    metrics: dict[str, Any] = {"threshold": float(detector.threshold_)}
    if isinstance(detector, MemAEEnsemble):
        metrics.update(n_train=len(scores), n_estimators=len(detector.estimators_),
                       rows_per_member=len(detector.samples_[0]),
                       n_val_per_member=[int(m.n_val_) for m in detector.estimators_])
    else:
        metrics.update(n_train=int(detector.n_train_), n_val=int(detector.n_val_))
    metrics.update(fit_seconds=float(detector.fit_seconds_),
                   train_scores={"mean": float(scores.mean()), "std": float(scores.std()),
                                 "flagged": int(detector.labels_.sum())})
    labels = inputs.y
    if labels is not None and 0 < labels.sum() < len(labels):
        # Every row of the training file, whether it trained the model or not: with
        # --fit-on all these are the very rows fitted (optimistic), so kept apart.
        every = scores if len(scores) == len(labels) else detector.decision_function(inputs.X)
        metrics["in_sample"] = anomaly_metrics(labels, every,
                                               (every > detector.threshold_).astype(int))
    return metrics
