"""The one-class image protocol of MemAE's MNIST and CIFAR-10 experiments.

Each class in turn is normal: a detector is trained on that class's training
images only and scores the whole evaluation split, where the other classes
are the anomalies. ROC-AUC and AUPR (average precision, anomaly = positive)
are reported per class and averaged.

Hyperparameters are chosen without test labels: :func:`holdout_split` carves
a validation split out of the *training* images of every class, and
``evaluate_on="validation"`` runs the same protocol on it (train on the
normal class's remaining training images, score the held-out images of all
classes). The test split is never looked at in that mode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from memae.ablation import VARIANTS
from memae.benchmarks.base import markdown_table, mean_std
from memae.benchmarks.detectors import make_detector, quick_preset
from memae.benchmarks.parallel import run_units
from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble
from memae.presets import Preset

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageSplits:
    """Images ``(n, C, H, W)`` float32 with integer labels, for training and evaluation."""

    train_x: np.ndarray
    train_y: np.ndarray
    eval_x: np.ndarray
    eval_y: np.ndarray
    class_names: list[str]


def holdout_split(images: np.ndarray, labels: np.ndarray, fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of every class's images: ``(train_x, train_y, val_x, val_y)``."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}.")
    rng = np.random.default_rng(seed)
    val = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        val[rng.choice(members, int(round(fraction * len(members))), replace=False)] = True
    return images[~val], labels[~val], images[val], labels[val]


def subsample(images: np.ndarray, labels: np.ndarray, n: int,
              seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random subset of ``n`` images (all of them if ``n >= len``)."""
    if n >= len(labels):
        return images, labels
    keep = np.sort(np.random.default_rng(seed).choice(len(labels), n, replace=False))
    return images[keep], labels[keep]


IMAGE_NORMALIZATIONS = ("none", "gcn_l1")

def normalize_images(images: np.ndarray, kind: str) -> np.ndarray:
    """A per-image transform of ``(n, C, H, W)`` images; nothing is fitted across images.

    ``"none"`` returns the images unchanged; ``"gcn_l1"`` is global contrast normalisation
    with the L1 norm (as in Ruff et al., Deep SVDD, ICML 2018): each image minus its mean
    pixel value, divided by its mean absolute deviation, so that images differ in the
    shape of their content, not in how much ink or contrast they carry.
    """
    if kind == "none":
        return images
    if kind != "gcn_l1":
        raise ValueError(f"image_normalization: got {kind!r}; expected one of "
                         f"{IMAGE_NORMALIZATIONS}")
    flat = images.reshape(len(images), -1).astype(np.float64)
    centred = flat - flat.mean(axis=1, keepdims=True)
    scale = np.abs(centred).mean(axis=1, keepdims=True)
    return (centred / np.where(scale > 0, scale, 1.0)).reshape(images.shape).astype(np.float32)


AUGMENTATIONS = ("none", "shift1", "hflip")


def augment_images(images: np.ndarray, kind: str) -> np.ndarray:
    """Training images ``(n, C, H, W)`` with fixed copies that widen the normal class.

    ``"none"`` returns them unchanged; ``"shift1"`` appends the 8 copies moved by one
    pixel in each direction (horizontal, vertical and diagonal; the uncovered border
    row or column repeats its neighbour), 9x the images; ``"hflip"`` appends the
    mirror images, 2x. The originals come first, then one block per copy.
    """
    if kind == "none":
        return images
    if kind == "hflip":
        return np.concatenate([images, images[..., ::-1]])
    if kind != "shift1":
        raise ValueError(f"augmentation: got {kind!r}; expected one of {AUGMENTATIONS}")
    height, width = images.shape[-2:]
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    copies = [padded[..., 1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
              for dy in (0, -1, 1) for dx in (0, -1, 1)]
    return np.concatenate(copies)


def best_epochs(detector: MemAEDetector | MemAEEnsemble) -> int | list[int]:
    """The kept epoch of a detector, or of every member of an ensemble."""
    if isinstance(detector, MemAEEnsemble):
        return [m.history_.best_epoch for m in detector.estimators_]
    return detector.history_.best_epoch


def run_oneclass(splits: ImageSplits, preset: Preset, classes: Sequence[int],
                 seeds: Sequence[int], device: str = "cpu",
                 variants: Sequence[str] = tuple(VARIANTS), jobs: int = 1,
                 threads: int = 1) -> list[dict[str, Any]]:
    """Train every variant for every normal class and seed; one row per run.

    ``jobs`` worker processes share the runs (:func:`memae.benchmarks.parallel.run_units`);
    the conv nets' numbers can differ in the fourth decimal between ``jobs`` settings
    (measured: docs/experiments/ablation-nonspar.md).
    """
    settings = preset.settings
    eval_x = normalize_images(splits.eval_x, settings.image_normalization)

    def run_one(unit: tuple[int, int, str]) -> dict[str, Any]:
        label, seed, variant = unit
        started = time.perf_counter()
        normal = normalize_images(
            augment_images(splits.train_x[splits.train_y == label], settings.augmentation),
            settings.image_normalization)
        anomalous = (splits.eval_y != label).astype(int)
        detector = make_detector(preset, variant, seed, len(normal), device)
        detector.fit(normal)
        scores = detector.decision_function(eval_x)
        row = {
            "class": splits.class_names[label], "variant": variant, "seed": seed,
            "roc_auc": float(roc_auc_score(anomalous, scores)),
            "aupr": float(average_precision_score(anomalous, scores)),
            "epochs": best_epochs(detector),
            "seconds": time.perf_counter() - started,
        }
        logger.info("%s %s seed %d: AUC %.4f", row["class"], variant, seed, row["roc_auc"])
        return row

    units = [(label, seed, variant) for label in classes for seed in seeds
             for variant in variants]
    return run_units(run_one, units, jobs, threads)


def summarize_oneclass(rows: Sequence[dict[str, Any]], paper: dict[str, float],
                       note: str) -> tuple[dict[str, Any], str]:
    """Per-class and mean ROC-AUC / AUPR per variant, with the paper's means beside them."""
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
    classes = list(dict.fromkeys(r["class"] for r in rows))

    def metric(cls: str | None, variant: str, key: str) -> float:
        picked = [r[key] for r in rows if r["variant"] == variant
                  and (cls is None or r["class"] == cls)]
        return mean_std(picked)[0]

    per_class = {c: {v: metric(c, v, "roc_auc") for v in variants} for c in classes}
    # The mean over classes of the per-class mean over seeds.
    means = {v: float(np.mean([per_class[c][v] for c in classes])) for v in variants}
    aupr = {v: float(np.mean([metric(c, v, "aupr") for c in classes])) for v in variants}
    table = [[c, *(per_class[c][v] for v in variants)] for c in classes]
    table.append(["**mean ROC-AUC (ours)**", *(means[v] for v in variants)])
    table.append(["mean AUPR (ours)", *(aupr[v] for v in variants)])
    table.append(["mean ROC-AUC (paper)", *(paper.get(v, "-") for v in variants)])
    markdown = markdown_table(["normal class", *variants], table) + f"\n\n{note}"
    summary = {"mean_roc_auc": means, "mean_aupr": aupr, "per_class_roc_auc": per_class,
               "paper_mean_roc_auc": paper}
    return summary, markdown


def validation_metrics(result: Any) -> dict[str, float]:
    """MemAE's ROC-AUC and AUPR from a result: the mean over classes of the mean over seeds."""
    return {"ROC-AUC": result.summary["mean_roc_auc"]["MemAE"],
            "AUPR": result.summary["mean_aupr"]["MemAE"]}


@dataclass(frozen=True)
class ImageBenchmark:
    """What differs between the MNIST and CIFAR-10 one-class benchmarks.

    ``quick_*`` define the CI smoke test: the ``quick_variants`` of the
    ``quick_classes`` only, scored on ``quick_eval`` random evaluation images, with
    the preset's ``benchmark.quick`` changes (:func:`memae.benchmarks.detectors.quick_preset`).
    """

    name: str
    paper: dict[str, float]
    note: str
    validation_fraction: float = 0.1
    quick_classes: tuple[int, ...] = (0,)
    quick_eval: int = 2000
    quick_variants: tuple[str, ...] = tuple(VARIANTS)


def run_image_benchmark(spec: ImageBenchmark, splits: ImageSplits, preset: Preset,
                        *, quick: bool, validation: bool, seeds: Sequence[int],
                        device: str, jobs: int = 1, threads: int = 1,
                        variants: Sequence[str] | None = None
                        ) -> tuple[list[dict[str, Any]], dict[str, Any], str, dict[str, Any]]:
    """Run the protocol on the test split, or on a held-out training split.

    ``variants`` (``None``: all three, or ``spec.quick_variants`` with ``quick``) are the
    ablation variants to train. Returns ``(rows, summary, markdown, settings)``.
    """
    if validation:
        train_x, train_y, val_x, val_y = holdout_split(
            splits.train_x, splits.train_y, spec.validation_fraction, seed=0)
        splits = ImageSplits(train_x, train_y, val_x, val_y, splits.class_names)
    classes: Sequence[int] = range(len(splits.class_names))
    if quick:
        eval_x, eval_y = subsample(splits.eval_x, splits.eval_y, spec.quick_eval, seed=0)
        splits = ImageSplits(splits.train_x, splits.train_y, eval_x, eval_y, splits.class_names)
        classes, preset = spec.quick_classes, quick_preset(preset)
    if variants is None:
        variants = spec.quick_variants if quick else tuple(VARIANTS)
    rows = run_oneclass(splits, preset, classes, seeds, device, variants, jobs, threads)
    where = ("validation split: held-out training images, test split unused" if validation
             else "test split")
    summary, markdown = summarize_oneclass(rows, spec.paper, f"{spec.note} Evaluated on the "
                                           f"{where}; seeds {list(seeds)}.")
    settings = {"preset": preset.to_dict(), "classes": [splits.class_names[c] for c in classes],
                "seeds": list(seeds), "evaluated_on": where,
                "n_train_images": int(len(splits.train_y)),
                "n_eval_images": int(len(splits.eval_y))}
    return rows, summary, markdown, settings
