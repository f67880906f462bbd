"""``build_report``: gather a run's model, scores and data into PNGs and one HTML page."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memae.atomic import atomic_dir
from memae.config import load_config_file, resolve_config
from memae.data.inputs import Inputs, InputSpec, load_inputs, spec_for_model
from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble
from memae.loading import load, read_metadata
from memae.memory import Memory
from memae.metrics import anomaly_metrics
from memae.report.figures import (
    loss_figure,
    memory_health_figure,
    require_matplotlib,
    roc_pr_figure,
    score_histogram_figure,
    video_figure,
)
from memae.report.html import Panel, Section, figure_png, render_html
from memae.report.model_views import (
    UNUSED_SHARE,
    decode_prototypes,
    image_grid_figure,
    memory_usage,
    prototype_figure,
    usage_figure,
)
from memae.run_dir import RunDir
from memae.scores_file import column, read_scores, read_sidecar
from memae.training import COLLAPSED_MEMORY_SHARE, TrainingHistory
from memae.video.detector import VideoDetector

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportOptions", "build_report"]

logger = logging.getLogger(__name__)
MAX_VIDEO_CLIPS = 24


@dataclass(frozen=True)
class ReportOptions:
    """What :func:`build_report` reads and writes.

    ``scores`` defaults to the run's scores file (``output.scores``) when it
    exists; ``data`` to the data that file was computed on, else the training
    data; ``out`` to the run's ``output.report`` folder. ``max_samples`` caps
    the samples loaded for image grids and memory usage (a seeded random
    subset beyond it).
    """

    scores: Path | None = None
    data: Path | None = None
    video_scores: Path | None = None
    out: Path | None = None
    max_samples: int = 5000
    top_k: int = 8
    progress: bool = False


def _panel(name: str, fig: Figure, caption: str) -> Panel:
    return Panel(name, figure_png(fig), caption)


def _scores_section(columns: dict[str, np.ndarray], source: str,
                    threshold: float | None) -> Section:
    scores = column(columns, "score", float, source)
    labels = column(columns, "label", int, source) if "label" in columns else None
    section = Section("Scores", text=f"{len(scores)} samples from {source}.")
    if labels is not None and 0 < labels.sum() < len(labels):
        predicted = (scores > threshold).astype(int) if threshold is not None else None
        section.table = anomaly_metrics(labels, scores, predicted)
        section.panels.append(_panel("roc_pr.png", roc_pr_figure(labels, scores, threshold),
                                     "ROC and precision-recall curves; the dot is the "
                                     "model's threshold."))
    else:
        labels = None
        section.text += " No labels with both classes: ROC and PR curves are not drawn."
    section.panels.append(_panel(
        "score_histogram.png", score_histogram_figure(scores, labels, threshold),
        "Anomaly scores" + (" of normal and anomalous samples" if labels is not None else "")
        + "; the dashed line is the threshold."))
    return section


def _subset(inputs: Inputs, limit: int) -> tuple[Inputs, str]:
    if len(inputs.X) <= limit:
        return inputs, f"all {len(inputs.X)} samples"
    keep = np.sort(np.random.default_rng(0).choice(len(inputs.X), limit, replace=False))
    y = None if inputs.y is None else inputs.y[keep]
    subset = Inputs(inputs.X[keep], y, tuple(inputs.ids[i] for i in keep))
    return subset, f"a random subset of {limit} of {len(inputs.X)} samples (seed 0)"


def _first_detector(model: MemAEDetector | MemAEEnsemble) -> MemAEDetector:
    """The detector whose curves, reconstructions and memory a report shows.

    An ensemble has none of its own, so its first member stands in (and the report says so).
    """
    return model.estimators_[0] if isinstance(model, MemAEEnsemble) else model


def _image_sections(model: MemAEDetector | MemAEEnsemble, inputs: Inputs, described: str,
                    top_k: int) -> list[Section]:
    scores = model.decision_function(inputs.X)
    first = _first_detector(model)
    whose = "" if first is model else " (of the ensemble's first member)"
    order = np.argsort(scores)
    k = min(top_k, len(order))
    section = Section("Most and least anomalous images",
                      text=f"Among {described}; the score is above each input.")
    for name, picked, title in (("most_anomalous.png", order[::-1][:k], "most anomalous"),
                                ("least_anomalous.png", order[:k], "least anomalous")):
        X = inputs.X[picked]
        fig = image_grid_figure(X, first.reconstruct(X), model.explain(X), scores[picked],
                                [inputs.ids[i] for i in picked], f"The {k} {title}")
        section.panels.append(_panel(name, fig, f"The {k} {title} samples: input, "
                                     f"reconstruction{whose}, squared error per pixel."))
    return [section]


def _training_section(model: MemAEDetector | MemAEEnsemble, version: str) -> Section:
    first = _first_detector(model)
    history = first.history_
    table = {"model": first.model_name_, "memory": first.model_.memory is not None,
             "input shape": tuple(first.input_shape_)}
    if isinstance(model, MemAEEnsemble):
        table.update({"ensemble members": len(model.estimators_),
                      "training samples": len(model.decision_scores_),
                      "samples per member": first.n_train_ + first.n_val_,
                      "best epoch of the first member": history.best_epoch})
        caption = "The first ensemble member's training objective and validation MSE per epoch."
    else:
        table.update({"training samples": first.n_train_, "validation samples": first.n_val_,
                      "best epoch": history.best_epoch, "epochs run": len(history.train_loss)})
        caption = "Training objective and validation reconstruction MSE per epoch."
    table.update({"threshold": float(model.threshold_), "fit seconds": model.fit_seconds_,
                  "memae": version})
    figure = loss_figure(history.train_loss, history.val_loss, history.best_epoch)
    section = Section("Training", table=table, panels=[_panel("loss.png", figure, caption)])
    return _with_memory_health(section, history, first.model_.memory)


def _with_memory_health(section: Section, history: TrainingHistory,
                        memory: Memory | None) -> Section:
    """``section`` with the last epoch's memory health and its per-epoch figure added."""
    if memory is None or not history.memory_items_used:
        return section
    used, items = history.memory_items_used[-1], memory.num_items
    section.table.update({
        "memory items used (last epoch)": f"{used} of {items} ({100 * used / items:.1f}%)",
        "mean addressing entropy (last epoch)": history.memory_entropy[-1]})
    if used < COLLAPSED_MEMORY_SHARE * items:
        section.text = (f"The addressing collapsed: under {100 * COLLAPSED_MEMORY_SHARE:.0f}% "
                        "of the memory items were used in the last epoch.")
    section.panels.append(_panel(
        "memory_health.png",
        memory_health_figure(history.memory_items_used, history.memory_entropy, items),
        "Memory items that some training position gave at least a uniform share 1/N of "
        "its weight, and the mean addressing entropy, per epoch."))
    return section


def _video_training_section(model: VideoDetector, version: str) -> Section:
    history, config = model.history_, model.config
    table = {"model": config.model, "memory": model.model_.memory is not None,
             "frame size": tuple(config.size), "clip length": config.clip_length,
             "input signal": config.input_signal,
             "training clips": model.training_.get("n_train_clips"),
             "held-out clips": model.training_.get("n_val_clips"),
             "training windows": model.training_.get("n_windows"),
             "steps": history.steps, "best epoch": history.best_epoch,
             "epochs run": len(history.train_loss),
             "fit seconds": model.training_.get("fit_seconds"), "memae": version}
    figure = loss_figure(history.train_loss, history.val_loss, history.best_epoch)
    section = Section("Training", table=table, panels=[_panel(
        "loss.png", figure, "Training objective and held-out clips' MSE per epoch.")])
    return _with_memory_health(section, history, model.model_.memory)


def _memory_section(detector: MemAEDetector, inputs: Inputs, described: str,
                    images: bool) -> Section:
    X = inputs.X
    if detector.scale_mean_ is not None:
        X = ((X - detector.scale_mean_) / detector.scale_std_).astype(np.float32)
    share = memory_usage(detector.model_, X, detector.score_batch_size)
    unused = int((share < UNUSED_SHARE / len(share)).sum())
    section = Section("Memory", table={"memory items": len(share), "unused items": unused,
                                       "most used item share": float(share.max())})
    section.panels.append(_panel(
        "memory_usage.png", usage_figure(share),
        f"Share of all addressing weight per item over {described}; an item is unused below "
        f"{UNUSED_SHARE:g} of the uniform share 1/N."))
    if images:
        prototypes = decode_prototypes(detector.model_, detector.input_shape_)
        if detector.scale_mean_ is not None:
            prototypes = prototypes * detector.scale_std_ + detector.scale_mean_
        section.panels.append(_panel(
            "memory_prototypes.png", prototype_figure(prototypes, share),
            "Each item decoded as a constant latent map (= one-hot addressing of that item at "
            "every latent position), contrast-stretched; conv items are local patterns, so "
            "they decode to textures."))
    return section


def _video_section(path: Path) -> Section:
    source = f"video scores {str(path)!r}"
    columns = read_scores(path, required=("clip", "frame", "score"))
    clips = list(dict.fromkeys(columns["clip"].tolist()))
    frames, scores, labels = [], [], []
    for clip in clips[:MAX_VIDEO_CLIPS]:
        rows = {k: v[columns["clip"] == clip] for k, v in columns.items()}
        frames.append(column(rows, "frame", int, source))
        scores.append(column(rows, "score", float, source))
        labels.append(column(rows, "label", int, source) if "label" in rows else None)
    section = Section("Video", text=f"{len(clips)} clips from {source}"
                      + (f" (the first {MAX_VIDEO_CLIPS} shown)." if len(clips) > MAX_VIDEO_CLIPS
                         else "."))
    if "label" in columns:
        all_labels = column(columns, "label", int, source)
        if 0 < all_labels.sum() < len(all_labels):
            pooled = anomaly_metrics(all_labels, column(columns, "score", float, source))
            section.table = {"frames": pooled["n"], "abnormal frames": pooled["n_anomalies"],
                             "frame-level ROC-AUC (pooled, scores as given)": pooled["roc_auc"]}
    section.panels.append(_panel("video_scores.png", video_figure(clips[:MAX_VIDEO_CLIPS],
                                                                  frames, scores, labels),
                                 "Score per frame; shaded: ground-truth abnormal frames."))
    return section


def _load_data(path: Path | None, spec: InputSpec, classes: list[str],
               progress: bool) -> Inputs | None:
    if path is None or not path.exists():
        if path is not None:
            logger.warning("data %s not found: no image grids or memory usage", path)
        return None
    return load_inputs(path, spec, classes=classes, progress=progress)


def build_report(run_dir: str | os.PathLike[str], options: ReportOptions = ReportOptions()
                 ) -> Path:
    """Write ``report.html`` and one PNG per figure; returns the HTML path.

    Sections appear when their inputs exist: training curves (model), scores
    (a scores file with labels for ROC/PR), image grids and memory prototypes
    (an image model and its data), memory usage (a model with memory and
    data), video timelines (``options.video_scores``).
    """
    require_matplotlib()
    root = Path(run_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"run directory {str(root)!r} does not exist.")
    for flag, given in (("--data", options.data), ("--scores", options.scores),
                        ("--video-scores", options.video_scores)):
        if given is not None and not given.exists():
            raise FileNotFoundError(f"{flag} {str(given)!r} does not exist; check the path "
                                    "or leave the option out.")
    run = RunDir(root)
    config = resolve_config(load_config_file(run.config)) if run.config.is_file() else None
    out = options.out or run.inside(config.output.report if config else "report",
                                    "output.report")
    sections: list[Section] = []
    model = load(run.model) if run.model.is_file() else None
    if isinstance(model, VideoDetector):
        version = str(read_metadata(run.model).get("memae_version", "unknown"))
        sections.append(_video_training_section(model, version))
        model = None  # frame scores come from --video-scores, not from data to score
    threshold = None if model is None else float(model.threshold_)
    if model is not None:
        version = str(read_metadata(run.model).get("memae_version", "unknown"))
        sections.append(_training_section(model, version))
    scores_path = options.scores
    if scores_path is None:
        default = run.inside(config.output.scores if config else "scores.csv", "output.scores")
        scores_path = default if default.is_file() else None
    sidecar = read_sidecar(scores_path) if scores_path is not None else {}
    if scores_path is not None:
        sections.append(_scores_section(read_scores(scores_path),
                                        f"scores file {scores_path.name!r}", threshold))
    if model is not None:
        first = _first_detector(model)
        spec = (InputSpec.from_dict(run.read_json(RunDir.INPUT)) if run.input_spec.is_file()
                else spec_for_model(first.input_shape_))
        data = options.data or (Path(sidecar["data"]) if "data" in sidecar else None)
        if data is None and config is not None:
            data = Path(config.data.path) if config.data.path else None
        classes = sidecar.get("classes", []) if options.data is None else []
        inputs = _load_data(data, spec, classes, options.progress)
        if inputs is not None and data is not None:  # no data path, no inputs
            inputs, described = _subset(inputs, options.max_samples)
            described += f" of {data.name!r}"
            if spec.kind == "images":
                sections.extend(_image_sections(model, inputs, described, options.top_k))
            if first.model_.memory is not None:
                memory = _memory_section(first, inputs, described, spec.kind == "images")
                if first is not model:
                    memory.table["shown for"] = (f"the first of {len(model.estimators_)} "
                                                 "ensemble members")
                sections.append(memory)
    if options.video_scores is not None:
        sections.append(_video_section(options.video_scores))
    if not sections:
        raise ValueError(f"nothing to report in {str(root)!r}: no model file, scores file or "
                         "--video-scores; train into it or pass --video-scores CSV.")
    with atomic_dir(out, "report folder") as work:  # replaces a previous report whole
        for section in sections:
            for panel in section.panels:
                (work / panel.name).write_bytes(panel.png)
        (work / "report.html").write_text(
            render_html(f"memae report: {root.resolve().name}", sections), encoding="utf-8")
    return out / "report.html"
