"""The paper's ablation (AE / MemAE-nonSpar / MemAE) and shared benchmark helpers.

Every benchmark trains the same encoder and decoder three ways (Gong et al.,
ICCV 2019, Sec. 4): without a memory (AE), with a memory but no hard
shrinkage (MemAE-nonSpar, ``shrink_threshold=0``) and the full MemAE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import QuantileTransformer

from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble, member_rows

# variant name -> detector overrides; the order is the paper's table order.
VARIANTS: dict[str, dict[str, Any]] = {
    "AE": {"memory": False},
    "MemAE-nonSpar": {"shrink_threshold": 0.0},
    "MemAE": {},
}

# input_transform name -> QuantileTransformer's output_distribution (None: no transform)
INPUT_TRANSFORMS: dict[str, str | None] = {
    "none": None, "quantile-normal": "normal", "quantile-uniform": "uniform"}


@dataclass(frozen=True)
class TrainConfig:
    """One training configuration, shared by every class/dataset of a benchmark.

    The fields are :class:`memae.MemAEDetector` parameters; ``shrink_threshold``
    ``None`` means ``1 / memory_size``. Training runs a fixed number of epochs
    (no early stopping) unless ``validation_fraction`` and ``patience`` are set.
    ``max_steps`` caps ``epochs`` so that ``epochs * batches_per_epoch`` stays
    near it on large inputs (``None``: no cap). ``image_normalization`` is a
    per-image transform applied by the one-class image protocol before training
    and scoring (:func:`memae.benchmarks.oneclass.normalize_images`);
    ``augmentation`` adds fixed copies of the normal class's training images there
    (:func:`memae.benchmarks.oneclass.augment_images`; ``epochs`` then count passes
    over the augmented set).
    ``n_estimators`` above 1 trains a :class:`memae.MemAEEnsemble` of that many
    detectors, each on ``max_samples`` rows (``max_steps`` then counts each
    member's steps). ``input_transform`` (tabular benchmarks) puts a
    scikit-learn transform fitted on the training rows before the detector:
    ``"quantile-normal"`` / ``"quantile-uniform"`` map each feature through its
    empirical quantiles to a normal / uniform distribution (:data:`INPUT_TRANSFORMS`).
    """

    model: str
    model_params: dict[str, Any] = field(default_factory=dict)
    memory_size: int | None = None
    shrink_threshold: float | None = None
    entropy_weight: float = 0.0002
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    standardize: bool | str = "auto"
    validation_fraction: float = 0.0
    patience: int | None = None
    max_steps: int | None = None
    image_normalization: str = "none"
    augmentation: str = "none"
    n_estimators: int = 1
    max_samples: int | float = 1.0
    input_transform: str = "none"

    def with_(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def epochs_for(config: TrainConfig, n_train: int) -> int:
    """``config.epochs``, lowered so the step count stays near ``config.max_steps``."""
    if config.max_steps is None:
        return config.epochs
    batches = max(1, -(-n_train // config.batch_size))
    return max(1, min(config.epochs, -(-config.max_steps // batches)))


def make_detector(config: TrainConfig, variant: str, seed: int, n_train: int,
                  device: str = "cpu") -> MemAEDetector | MemAEEnsemble | Pipeline:
    """The detector (or ensemble) for one ``variant`` of :data:`VARIANTS` under ``config``.

    With an ``input_transform`` it is the last step of a scikit-learn pipeline.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}.")
    if config.input_transform not in INPUT_TRANSFORMS:
        raise ValueError(f"input_transform must be one of {list(INPUT_TRANSFORMS)}, "
                         f"got {config.input_transform!r}.")
    detector = _detector(config, variant, seed, n_train, device)
    distribution = INPUT_TRANSFORMS[config.input_transform]
    if distribution is None:
        return detector
    transform = QuantileTransformer(n_quantiles=min(1000, n_train),
                                    output_distribution=distribution, random_state=seed)
    return make_pipeline(transform, detector)


def _detector(config: TrainConfig, variant: str, seed: int, n_train: int,
              device: str) -> MemAEDetector | MemAEEnsemble:
    if config.n_estimators > 1:
        member = _detector(config.with_(n_estimators=1), variant, seed,
                           member_rows(config.max_samples, n_train), device)
        return MemAEEnsemble(member, n_estimators=config.n_estimators,
                             max_samples=config.max_samples, random_state=seed)
    params: dict[str, Any] = {
        "model": config.model, "model_params": dict(config.model_params),
        "memory_size": config.memory_size, "shrink_threshold": config.shrink_threshold,
        "entropy_weight": config.entropy_weight, "epochs": epochs_for(config, n_train),
        "batch_size": config.batch_size, "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay, "standardize": config.standardize,
        "validation_fraction": config.validation_fraction, "patience": config.patience,
        "random_state": seed, "device": device,
    }
    params.update(VARIANTS[variant])
    return MemAEDetector(**params)


def parse_config(config: str | None, known: Sequence[str]) -> set[str]:
    """``--config`` as a set of comma-separated presets, each one of ``known``."""
    tokens = {t.strip() for t in (config or "").split(",") if t.strip()} - {"default"}
    unknown = sorted(tokens - set(known))
    if unknown:
        raise ValueError(f"--config {config!r}: unknown preset(s) {unknown}; choose from "
                         f"{', '.join(known)} (comma-separated) or omit it.")
    return tokens


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std())


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; floats are written with 4 decimals."""
    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
