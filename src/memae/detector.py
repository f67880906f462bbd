"""``MemAEDetector``: a scikit-learn estimator with PyOD's anomaly-detection contract."""

from __future__ import annotations

import copy
import functools
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted, check_random_state

from memae.distributed import distributed_context, wrap_data_parallel
from memae.machine import physical_memory
from memae.memmap_pages import release_rows
from memae.model_file import (
    ModelFileError,
    check_detector_file,
    corrupt_file,
    field_error,
    model_target,
    read_model_file,
    write_model_file,
)
from memae.models import MemAutoEncoder, create_model, model_config
from memae.models.conv import ConvConfig
from memae.presets import DETECTOR_KINDS, load_preset
from memae.scoring import element_errors, sample_scores
from memae.thresholds import ScoreContract, contamination_threshold, fpr_threshold
from memae.training import TrainingHistory, TrainSettings, train
from memae.training_checkpoint import CheckpointRun
from memae.validation import AUTO_PARAMETERS, check_input, check_params

logger = logging.getLogger(__name__)

AUTO_MODELS = {2: "mlp", 4: "conv2d", 5: "conv3d"}
AUTO = "auto"
# Parameters whose "auto" takes the value of the general preset for the data's kind:
# `tabular` for tables, `images` for images and clips (presets/*.yaml).
KIND_DEFAULTS = AUTO_PARAMETERS
# Held-out share that target_fpr calibrates on when the kind's preset holds none out.
TARGET_FPR_VALIDATION = 0.1


def general_preset(ndim: int) -> str:
    """The preset whose detector section fills a parameter left at ``"auto"``."""
    return "tabular" if ndim == 2 else "images"


@functools.cache
def _general_detector(name: str) -> dict[str, Any]:
    return load_preset(name).detector


_MODEL_PREFIX = "model."
# Rows validated at once by decision_function (rounded to whole scoring batches).
VALIDATION_CHUNK_ROWS = 65_536


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'.")
    return torch.device(device)


def finite_scores(scores: np.ndarray) -> np.ndarray:
    """``scores``, or a ``ValueError`` naming the rows whose score is NaN or infinite."""
    bad = np.flatnonzero(~np.isfinite(scores))
    if len(bad):
        # float32 overflow (standardised |x| beyond ~1e19 squares past 3.4e38).
        raise ValueError(
            f"X: rows {bad[:5].tolist()}{' ...' if len(bad) > 5 else ''} give non-finite "
            "scores: their values overflow float32 arithmetic in the model. Clip or "
            "rescale extreme values first."
        )
    return scores


class MemAEDetector(ScoreContract, OutlierMixin, BaseEstimator):
    """Memory-augmented autoencoder anomaly detector (Gong et al., ICCV 2019).

    Fit on (mostly) normal data; the anomaly score is the mean squared
    reconstruction error, so ``decision_function`` is higher for more
    anomalous samples, as in PyOD. ``predict`` returns 0 (inlier) / 1 (outlier).

    Parameters
    ----------
    model:
        A name from :func:`memae.list_models`, or ``"auto"``: ``mlp`` for
        ``(n, d)`` tables, ``conv2d`` for ``(n, C, H, W)`` images, ``conv3d`` for
        ``(n, C, T, H, W)`` clips. Input sizes are filled in from ``X``.
    model_params:
        Overrides of the model preset (e.g. ``{"hidden": (64, 32), "latent_dim": 4}``);
        ``None``: the model's own. ``"auto"``: those of the general preset for the
        data's kind (``memae presets tabular`` / ``images``) when the model is that
        preset's model, else the model's own.
    memory:
        ``False`` gives the plain autoencoder with the same encoder and decoder.
    memory_size, shrink_threshold:
        N and lambda of the memory (``None``: the preset's value; lambda
        defaults to ``1/N``). ``shrink_threshold=0`` turns hard shrinkage off;
        MemAE-nonSpar also sets ``entropy_weight=0`` (:mod:`memae.ablation`).
    entropy_weight:
        alpha, the weight of the addressing-entropy loss (the paper: 0.0002).
    epochs, batch_size, learning_rate, weight_decay:
        Adam training settings. ``epochs="auto"``: the general preset's for the data's
        kind (tables: 5 passes; images and clips: up to 100, see ``max_steps``).
    lr_schedule:
        ``"constant"`` or ``"cosine"`` (annealed to zero over the run's steps).
    max_steps:
        Stop after this many optimiser steps (``None``: ``epochs`` decide).
        ``"auto"``: the general preset's for the data's kind (tables: ``None``; images
        and clips: 800).
    precision:
        ``"fp32"``, or ``"bf16"`` for bfloat16 autocast of the training forward
        passes (worth it only where the CPU or GPU has native bf16; scoring
        stays float32).
    pseudo_anomaly, pseudo_anomaly_kind:
        Share of the training images (or clips) replaced by pseudo-anomalies that
        the loss asks to reconstruct as the normal original, and their kind
        (:mod:`memae.pseudo_anomalies`; ``"patch"`` for images). ``0``: off, as in
        the paper. Tables have no patches to paste: keep 0 for them.
    validation_fraction:
        Share of ``X`` held out (never trained on) for early stopping and for the
        ``target_fpr`` threshold. ``0`` trains on everything for ``epochs``.
        ``"auto"``: the general preset's for the data's kind (0 for tables, images and
        clips), and at least 0.1 when ``target_fpr`` is set, which calibrates on
        held-out rows.
    patience:
        Stop after this many epochs without a better validation MSE and keep the
        best epoch's weights; ``None`` trains all epochs (still keeping the best).
        ``"auto"``: the general preset's for the data's kind (``None`` for tables,
        images and clips).
    standardize:
        Scale each feature (tabular) or channel (images) by statistics of the
        training data. ``"auto"``: on for tabular data, off for images and video.
    contamination:
        Expected outlier share of the training data, in (0, 0.5]; sets
        ``threshold_`` as PyOD does when ``target_fpr`` is ``None``.
    target_fpr:
        If set, ``threshold_`` is chosen so that this share of the held-out
        normal scores exceeds it: no guess of the contamination needed.
    random_state:
        Seeds weight init, the validation split and shuffling, inside ``fit``
        only (global RNG state is left untouched).
    device:
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    verbose:
        Show a progress bar over epochs.
    score_batch_size:
        Samples per forward pass when scoring, bounding memory for large inputs.

    Attributes
    ----------
    model_:
        The trained :class:`memae.models.MemAutoEncoder`.
    decision_scores_:
        Scores of the training data. ``threshold_``, ``labels_`` as in PyOD.
    history_:
        :class:`memae.training.TrainingHistory` (losses per epoch, best epoch).
    """

    def __init__(self, *, model: str = "auto",
                 model_params: dict[str, Any] | str | None = "auto",
                 memory: bool = True, memory_size: int | None = None,
                 shrink_threshold: float | None = None, entropy_weight: float = 0.0002,
                 epochs: int | str = "auto", batch_size: int = 64, learning_rate: float = 1e-3,
                 weight_decay: float = 0.0, lr_schedule: str = "constant",
                 max_steps: int | str | None = "auto", precision: str = "fp32",
                 pseudo_anomaly: float = 0.0, pseudo_anomaly_kind: str = "patch",
                 validation_fraction: float | str = "auto",
                 patience: int | str | None = "auto", standardize: bool | str = "auto",
                 contamination: float = 0.1, target_fpr: float | None = None,
                 random_state: int | np.random.RandomState | None = None,
                 device: str = "auto", verbose: bool = False,
                 score_batch_size: int = 1024) -> None:
        self.model = model
        self.model_params = model_params
        self.memory = memory
        self.memory_size = memory_size
        self.shrink_threshold = shrink_threshold
        self.entropy_weight = entropy_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.max_steps = max_steps
        self.precision = precision
        self.pseudo_anomaly = pseudo_anomaly
        self.pseudo_anomaly_kind = pseudo_anomaly_kind
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.standardize = standardize
        self.contamination = contamination
        self.target_fpr = target_fpr
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.score_batch_size = score_batch_size

    @classmethod
    def from_preset(cls, preset: str | Path, **overrides: Any) -> MemAEDetector:
        """A detector with the ``detector`` section of a preset, then ``overrides``.

        Parameters
        ----------
        preset:
            A packaged preset name (:func:`memae.presets.list_presets`) or the path
            of a preset YAML file, of kind ``tabular`` or ``images``.
        **overrides:
            Parameters that replace the preset's (whole values: ``model_params``
            replaces the preset's dict).
        """
        loaded = load_preset(preset)
        if loaded.kind not in DETECTOR_KINDS:
            raise ValueError(f"preset {loaded.source!r} has kind {loaded.kind!r}; "
                             f"MemAEDetector takes {' or '.join(DETECTOR_KINDS)} presets. "
                             "Train video with `memae train --kind video`.")
        return cls(**{**loaded.detector, **overrides})

    # ----------------------------------------------------------------- fitting
    def _model_name(self, ndim: int) -> str:
        return AUTO_MODELS[ndim] if self.model == "auto" else self.model

    def resolved_params(self, ndim: int) -> dict[str, Any]:
        """:data:`KIND_DEFAULTS` for data of ``ndim`` dimensions, ``"auto"`` filled in.

        Each ``"auto"`` takes the value of the general preset for the kind
        (:func:`general_preset`); ``model_params`` only when the model is that
        preset's model (else ``None``: the model's own), and ``validation_fraction``
        at least :data:`TARGET_FPR_VALIDATION` when ``target_fpr`` is set.
        """
        values = {name: getattr(self, name) for name in KIND_DEFAULTS}
        auto = [name for name, value in values.items() if isinstance(value, str)
                and value == AUTO]
        if not auto:
            return values
        preset = _general_detector(general_preset(ndim))
        for name in auto:
            values[name] = copy.deepcopy(preset[name])
        if "model_params" in auto and preset["model"] not in (AUTO, self._model_name(ndim)):
            values["model_params"] = None
        if (isinstance(self.validation_fraction, str) and self.target_fpr is not None
                and values["validation_fraction"] < TARGET_FPR_VALIDATION):
            values["validation_fraction"] = TARGET_FPR_VALIDATION
        return values

    def _build_model(self, shape: tuple[int, ...]) -> MemAutoEncoder:
        name = self._model_name(len(shape) + 1)
        overrides: dict[str, Any] = dict(
            self.resolved_params(len(shape) + 1)["model_params"] or {})
        overrides["memory"] = self.memory
        if self.memory_size is not None:
            overrides["memory_size"] = self.memory_size
        if self.shrink_threshold is not None:
            overrides["shrink_threshold"] = self.shrink_threshold
        elif self.memory and self.memory_size == 1:
            # The default lambda is 1/N: with one item it would zero the only weight.
            raise ValueError("memory_size=1 makes the default shrink_threshold 1/N = 1.0, "
                             "which would zero the memory's only weight; use memory_size >= 2 "
                             "or set shrink_threshold (0 turns hard shrinkage off).")
        config = model_config(name, **overrides)
        if isinstance(config, ConvConfig):
            if len(shape) != config.spatial_dims + 1:
                raise ValueError(
                    f"model={name!r} takes {config.spatial_dims}-D inputs (n, C, "
                    f"{'T, ' if config.spatial_dims == 3 else ''}H, W), got samples of "
                    f"shape {shape}; use model='auto' or a model for this data."
                )
            overrides["in_channels"] = shape[0]
        else:
            if len(shape) != 1:
                raise ValueError(
                    f"model={name!r} takes tabular (n, n_features) input, got samples of "
                    f"shape {shape}; use model='auto' or a conv model for images."
                )
            overrides["in_features"] = shape[0]
        self._check_model_size(name, overrides)
        model = create_model(name, **overrides)
        probe = torch.zeros((1, *shape))
        try:  # eval mode and no grad: draws no random numbers, changes no state
            with torch.no_grad():
                model.eval()(probe)
        except RuntimeError as error:
            raise ValueError(
                f"model={name!r} cannot take samples of shape {shape} ({error}); use larger "
                "images or clips, or fewer / smaller layers in model_params."
            ) from error
        return model

    @staticmethod
    def _check_model_size(name: str, overrides: dict[str, Any]) -> None:
        """Refuse a model whose training state cannot fit in memory, before allocating it.

        The model is built on PyTorch's ``meta`` device (shapes, no storage) to
        count its parameters; training holds about five float32 copies of them
        (weights, gradients, Adam's two moments, the best epoch's weights).
        """
        with torch.device("meta"):
            count = sum(p.numel() for p in create_model(name, **overrides).parameters())
        needed, total = 5 * 4 * count, physical_memory()
        if total is not None and needed > total:
            raise ValueError(
                f"model={name!r} with these options has {count:,} parameters, which need "
                f"about {needed / 2**30:.1f} GiB to train, more than this machine's "
                f"{total / 2**30:.1f} GiB; use a smaller memory_size or smaller layers "
                "(model_params).")

    def _use_scaling(self, ndim: int) -> bool:
        return ndim == 2 if self.standardize == "auto" else bool(self.standardize)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        if self.scale_mean_ is None:
            return X
        # x / std - mean / std rather than (x - mean) / std: the difference of two
        # huge values (|x| near float32's 3.4e38) would overflow although the
        # standardised value is small.
        return (X / self.scale_std_ - self.scale_mean_ / self.scale_std_).astype(
            np.float32, copy=False)

    def check_fit(self, X: Any) -> None:
        """Raise the error ``fit(X)`` would raise before training, without training.

        Checks the parameters, the device, ``X`` (finite numbers of a supported
        shape) and that the model can be built for ``X``'s samples, on a clone:
        this estimator and the global random state are left as they were. The
        command line calls it before it writes anything.
        """
        probe = clone(self)
        check_params(probe.get_params())
        X = check_input(probe, X, reset=True)
        resolve_device(probe.device)
        with torch.random.fork_rng(devices=[]):
            probe._build_model(X.shape[1:])

    def fit(self, X: Any, y: Any = None, *, checkpoint_dir: str | Path | None = None,
            resume: bool = False) -> MemAEDetector:
        """Train on ``X`` (labels are ignored: training is unsupervised).

        Parameters
        ----------
        X:
            Training data, mostly normal.
        y:
            Ignored.
        checkpoint_dir:
            Write a training checkpoint there after every epoch and at the end
            (atomically; see :mod:`memae.training_checkpoint`). A fit argument rather
            than an estimator parameter: it names where one run writes, not how
            to train, so ``clone`` must not hand it to a second estimator.
        resume:
            Continue from the checkpoint in ``checkpoint_dir`` if there is one
            (else train from scratch). With the same ``X`` and parameters the
            result is bitwise that of an uninterrupted fit on the CPU. A
            checkpoint of other data or parameters is refused.

        Under ``torchrun`` (``torch.distributed`` initialised), each process
        trains on its share of every batch and DDP averages the gradients; see
        :mod:`memae.distributed`.

        Returns
        -------
        self
        """
        check_params(self.get_params())
        X = check_input(self, X, reset=True)
        started = time.perf_counter()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        run = CheckpointRun.open(checkpoint_dir, resume, self.get_params(), X)
        seed = run.seed if run.seed is not None else seed
        self.device_ = resolve_device(self.device)

        # Everything random derives from ``seed``, which a checkpoint stores.
        resolved = self.resolved_params(X.ndim)
        order = check_random_state(seed).permutation(len(X))
        n_val = int(round(resolved["validation_fraction"] * len(X)))
        n_val = n_val if len(X) - n_val >= 2 and n_val >= 1 else 0
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])

        if self._use_scaling(X.ndim):
            axes = tuple(a for a in range(X.ndim) if a != 1)
            keep = (1, *([1] * (X.ndim - 2))) if X.ndim > 2 else (-1,)
            fit_on = X[train_idx]
            mean = fit_on.mean(axis=axes, dtype=np.float64).reshape(keep)
            std = fit_on.std(axis=axes, dtype=np.float64).reshape(keep)
            # Constant features carry no information; leave them unscaled, not inf.
            std[std < 1e-12] = 1.0
            self.scale_mean_ = mean.astype(np.float32)
            self.scale_std_ = std.astype(np.float32)
        else:
            self.scale_mean_, self.scale_std_ = None, None
        Xs = self._scale(X)

        rank, world_size = distributed_context()
        devices = [self.device_] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            model = self._build_model(X.shape[1:]).to(self.device_)
            generator = torch.Generator().manual_seed(seed)
            self.history_ = train(
                wrap_data_parallel(model, self.device_), Xs[train_idx],
                Xs[val_idx] if n_val else None, self.train_settings(X.ndim),
                generator=generator, device=self.device_, verbose=bool(self.verbose),
                resume_from=run.state, on_epoch_end=run.writer(seed) if rank == 0 else None,
                rank=rank, world_size=world_size)
        self.model_ = model
        self.model_name_ = self._model_name(X.ndim)
        self.decision_scores_ = finite_scores(
            sample_scores(model, Xs, self.score_batch_size, self.device_))
        self.validation_scores_ = self.decision_scores_[val_idx] if n_val else None
        self._set_threshold()
        self.n_train_, self.n_val_ = len(train_idx), n_val
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def train_settings(self, ndim: int) -> TrainSettings:
        """The training loop's settings for data of ``ndim`` dimensions (``"auto"`` resolved)."""
        resolved = self.resolved_params(ndim)
        return TrainSettings(
            epochs=resolved["epochs"], batch_size=self.batch_size,
            learning_rate=self.learning_rate, weight_decay=self.weight_decay,
            entropy_weight=self.entropy_weight, patience=resolved["patience"],
            lr_schedule=self.lr_schedule, max_steps=resolved["max_steps"],
            precision=self.precision, pseudo_anomaly=self.pseudo_anomaly,
            pseudo_anomaly_kind=self.pseudo_anomaly_kind)

    def _set_threshold(self) -> None:
        if self.target_fpr is None:
            self.threshold_ = contamination_threshold(self.decision_scores_, self.contamination)
        else:
            normal = self.validation_scores_
            if normal is None:
                logger.warning("target_fpr without a validation split: using training "
                               "scores, which are optimistic; set validation_fraction > 0.")
                normal = self.decision_scores_
            self.threshold_ = fpr_threshold(normal, self.target_fpr)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)

    # --------------------------------------------------------------- inference
    def _prepare(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self._scale(check_input(self, X, reset=False))

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores ``(n,)``: mean squared reconstruction error, higher = more anomalous.

        A large NumPy array (or memory map) is validated, scaled and scored in
        chunks of whole scoring batches, so no float copy of all of ``X`` is
        made and the scores equal those of one pass. For files larger than
        memory see :func:`memae.table_scoring.score_file`.
        """
        check_is_fitted(self, "model_")
        step = self.score_batch_size * max(1, VALIDATION_CHUNK_ROWS // self.score_batch_size)
        if isinstance(X, np.ndarray) and X.ndim >= 2 and len(X) > step:
            parts = []
            for start in range(0, len(X), step):
                parts.append(self._checked_scores(X[start:start + step]))
                release_rows(X, start, start + step)
            return np.concatenate(parts)
        return self._checked_scores(X)

    def _checked_scores(self, X: Any) -> np.ndarray:
        return finite_scores(sample_scores(self.model_, self._prepare(X),
                                           self.score_batch_size, self.device_))

    def explain(self, X: Any) -> np.ndarray:
        """Squared reconstruction error per feature (tabular) or per pixel (images).

        Same shape as ``X``, in the standardised space the model sees; the mean
        over all but the first axis is :meth:`decision_function`.
        """
        Xs = self._prepare(X)
        return element_errors(self.model_, Xs, self.score_batch_size, self.device_)

    def reconstruct(self, X: Any) -> np.ndarray:
        """The model's reconstruction of ``X``, in the input's original units."""
        Xs = self._prepare(X)
        parts = []
        with torch.no_grad():
            for start in range(0, len(Xs), self.score_batch_size):
                x = torch.from_numpy(Xs[start:start + self.score_batch_size]).to(self.device_)
                parts.append(self.model_(x).reconstruction.cpu().numpy())
        out = np.concatenate(parts)
        if self.scale_mean_ is not None:
            out = out * self.scale_std_ + self.scale_mean_
        return out

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write weights and metadata to one model file, atomically (:mod:`memae.model_file`)."""
        path = model_target(path)
        check_is_fitted(self, "model_")
        meta, tensors = self.model_document()
        return write_model_file(path, "detector", meta, tensors)

    def model_document(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The JSON document and the tensors that describe this fitted detector."""
        tensors = {_MODEL_PREFIX + k: v for k, v in self.model_.state_dict().items()}
        tensors["train.decision_scores"] = torch.from_numpy(
            np.ascontiguousarray(self.decision_scores_))
        if self.validation_scores_ is not None:
            tensors["train.validation_scores"] = torch.from_numpy(
                np.ascontiguousarray(self.validation_scores_))
        if self.scale_mean_ is not None:
            tensors["scale.mean"] = torch.from_numpy(np.ascontiguousarray(self.scale_mean_))
            tensors["scale.std"] = torch.from_numpy(np.ascontiguousarray(self.scale_std_))
        history = self.history_
        meta = {
            "params": self.get_params(),
            "model": {"name": self.model_name_, **self.model_.spec()},
            "input_shape": list(self.input_shape_),
            "n_features_in": int(self.n_features_in_),
            "threshold": float(self.threshold_),
            "training": {
                **history.to_dict(),
                "n_train": int(self.n_train_), "n_val": int(self.n_val_),
                "fit_seconds": float(self.fit_seconds_),
            },
        }
        return meta, tensors

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> MemAEDetector:
        """Rebuild a detector saved with :meth:`save` (never unpickles anything)."""
        resolve_device(device)  # a device error is the caller's, not the file's
        file = read_model_file(path, "detector")
        check_detector_file(file.path, file.meta, file.tensors)
        return cls.from_document(file.meta, file.tensors, device, file.path)

    @classmethod
    def from_document(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor],
                      device: str, path: Path) -> MemAEDetector:
        """The detector that :meth:`model_document` described (checked fields)."""
        try:
            return cls._rebuild(meta, tensors, device, path)
        except ModelFileError:
            raise  # names the file and the field already
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise corrupt_file(path, error) from error

    @classmethod
    def _rebuild(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor], device: str,
                 path: Path) -> MemAEDetector:
        detector = cls(**{**meta["params"], "device": device})
        model = create_model(meta["model"]["name"], **meta["model"]["config"])
        state = {k[len(_MODEL_PREFIX):]: v for k, v in tensors.items()
                 if k.startswith(_MODEL_PREFIX)}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ValueError(f"the weights do not fit the stored model config: {error}"
                             ) from error
        shape = tuple(meta["input_shape"])
        try:
            with torch.no_grad():  # the stored input shape must round-trip through the model
                given = list(model.eval()(torch.zeros((1, *shape))).reconstruction.shape[1:])
        except RuntimeError:
            given = None
        if given != list(shape):
            raise field_error(path, "input_shape", list(shape),
                              f"a sample shape the model reconstructs (it gives {given})")
        detector.device_ = resolve_device(device)
        detector.model_ = model.to(detector.device_).eval()
        detector.model_name_ = meta["model"]["name"]
        detector.input_shape_ = shape
        detector.n_features_in_ = meta["n_features_in"]
        detector.threshold_ = meta["threshold"]
        detector.decision_scores_ = tensors["train.decision_scores"].numpy()
        val = tensors.get("train.validation_scores")
        detector.validation_scores_ = None if val is None else val.numpy()
        detector.scale_mean_ = tensors["scale.mean"].numpy() if "scale.mean" in tensors else None
        detector.scale_std_ = tensors["scale.std"].numpy() if "scale.std" in tensors else None
        detector.labels_ = (detector.decision_scores_ > detector.threshold_).astype(int)
        training = meta["training"]
        detector.history_ = TrainingHistory.from_dict(training)
        detector.n_train_, detector.n_val_ = training["n_train"], training["n_val"]
        detector.fit_seconds_ = training["fit_seconds"]
        return detector
