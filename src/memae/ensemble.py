"""``MemAEEnsemble``: detectors trained on random subsamples, scores averaged.

Each member is a clone of one template :class:`memae.MemAEDetector`, trained
on ``max_samples`` rows drawn without replacement (the subsampling of
Isolation Forest, Liu et al. 2008; autoencoder ensembles: Chen et al., SDM
2017). On contaminated training data a small subsample holds few outliers, so
each member learns the bulk and the outliers stay hard to reconstruct; the
average over members removes most of the variance one small model has.

Members' scores live on different scales, so each is standardised by the
mean and spread of that member's scores on its own training rows before
averaging: the ensemble score is ``mean_m (s_m(x) - mu_m) / sd_m``; higher is
more anomalous, as for the single detector.
"""

from __future__ import annotations

import time
from numbers import Integral, Real
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted, check_random_state

from memae.detector import VALIDATION_CHUNK_ROWS, MemAEDetector, resolve_device
from memae.model_file import (
    ModelFileError,
    check_ensemble_file,
    corrupt_file,
    model_target,
    read_model_file,
    write_model_file,
)
from memae.thresholds import ScoreContract, contamination_threshold, fpr_threshold
from memae.validation import check_input, check_params

_MEMBER_PREFIX = "estimators."
# Fitted arrays stored as tensors named ensemble.<name without the underscore>.
_STATE = ("member_mean_", "member_std_", "decision_scores_", "oob_scores_")


def member_rows(max_samples: Any, n: int) -> int:
    """Rows per member: an int (at most ``n``) or a share of ``n`` in (0, 1]."""
    if isinstance(max_samples, Integral) and not isinstance(max_samples, bool):
        if max_samples < 2:
            raise ValueError(f"max_samples must be an int >= 2 or a float in (0, 1], got "
                             f"{max_samples!r}.")
        return min(int(max_samples), n)
    # numbers.Real declares no arithmetic or comparison types mypy can check
    # (python/mypy#3186); the share itself is used, unconverted.
    if isinstance(max_samples, Real) and not isinstance(max_samples, bool) \
            and 0 < cast(float, max_samples) <= 1:
        return max(2, min(n, int(round(cast(float, max_samples) * n))))
    raise ValueError(f"max_samples must be an int >= 2 or a float in (0, 1], got "
                     f"{max_samples!r}.")


class MemAEEnsemble(ScoreContract, OutlierMixin, BaseEstimator):
    """Bagged MemAE detectors with standardised, averaged scores (PyOD's contract).

    Parameters
    ----------
    estimator:
        The template :class:`memae.MemAEDetector` (unfitted; cloned for every
        member, whose ``random_state`` is set from this ensemble's). ``None``:
        ``MemAEDetector()``.
    n_estimators:
        Number of members.
    max_samples:
        Training rows per member, drawn without replacement: an int (capped at
        the number of rows) or a share of the rows in (0, 1].
    contamination, target_fpr:
        As for :class:`memae.MemAEDetector`. ``target_fpr`` sets ``threshold_``
        from out-of-bag scores (each row scored only by the members that did
        not train on it), so it needs ``max_samples`` below the number of rows.
    random_state:
        Seeds the subsamples and the members.

    Attributes
    ----------
    estimators_:
        The fitted members. ``samples_``: the training rows of each member.
    member_mean_, member_std_:
        Each member's score mean and spread on its own training rows.
    decision_scores_, threshold_, labels_:
        Ensemble scores of the training data, the threshold and its labels.
    oob_scores_:
        Out-of-bag score per training row (NaN where every member trained on it).
    """

    def __init__(self, estimator: MemAEDetector | None = None, *, n_estimators: int = 10,
                 max_samples: int | float = 256, contamination: float = 0.1,
                 target_fpr: float | None = None,
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.target_fpr = target_fpr
        self.random_state = random_state

    def _check_params(self) -> MemAEDetector:
        if not (isinstance(self.n_estimators, Integral) and not isinstance(self.n_estimators, bool)
                and self.n_estimators >= 1):
            raise ValueError(f"n_estimators must be an int >= 1, got {self.n_estimators!r}.")
        template = MemAEDetector() if self.estimator is None else self.estimator
        if not isinstance(template, MemAEDetector):
            raise TypeError(f"estimator must be a MemAEDetector (or None), got "
                            f"{type(template).__name__}.")
        check_params({"contamination": self.contamination, "target_fpr": self.target_fpr,
                      "random_state": self.random_state})
        return template

    def fit(self, X: Any, y: Any = None) -> MemAEEnsemble:
        """Train ``n_estimators`` members on random subsamples of ``X`` (``y`` ignored)."""
        template = self._check_params()
        X = check_input(self, X, reset=True)
        started = time.perf_counter()
        n = len(X)
        size = self.rows_per_member(n)
        rng = check_random_state(self.random_state)
        self.estimators_, self.samples_ = [], []
        for _ in range(self.n_estimators):
            rows = np.sort(rng.choice(n, size, replace=False))
            seed = int(rng.randint(np.iinfo(np.int32).max))
            member = clone(template).set_params(random_state=seed).fit(X[rows])
            self.estimators_.append(member)
            self.samples_.append(rows)
        self.member_mean_ = np.array([m.decision_scores_.mean() for m in self.estimators_])
        spread = np.array([m.decision_scores_.std() for m in self.estimators_])
        # A member whose training scores are all equal contributes unscaled, not inf.
        self.member_std_ = np.where(spread > 1e-12, spread, 1.0)
        standardised = self._member_scores(X)
        self.decision_scores_ = standardised.mean(axis=0).astype(np.float32)
        in_bag = np.zeros_like(standardised, dtype=bool)
        for i, rows in enumerate(self.samples_):
            in_bag[i, rows] = True
        oob_count = (~in_bag).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.oob_scores_ = np.where(in_bag, 0.0, standardised).sum(axis=0) / oob_count
        self._set_threshold()
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def rows_per_member(self, n: int) -> int:
        """Rows each member trains on when fitting ``n`` rows.

        Raises ``ValueError`` for parameters that cannot fit ``n`` rows, so a
        caller can check them before any training (``fit`` checks them first).
        """
        self._check_params()
        size = member_rows(self.max_samples, n)
        if self.target_fpr is not None and size >= n:
            # with no out-of-bag row there is nothing to set the threshold on
            raise ValueError(
                "target_fpr needs out-of-bag rows, but every member would train on every "
                f"row (max_samples={self.max_samples!r} covers all {n} rows); lower "
                "max_samples or use contamination instead.")
        return size

    def _member_scores(self, X: np.ndarray) -> np.ndarray:
        """``(n_estimators, n)`` standardised member scores of validated ``X``."""
        raw = np.stack([m.decision_function(X) for m in self.estimators_])
        return (raw - self.member_mean_[:, None]) / self.member_std_[:, None]

    def _set_threshold(self) -> None:
        if self.target_fpr is None:
            self.threshold_ = contamination_threshold(self.decision_scores_, self.contamination)
        else:
            oob = self.oob_scores_[np.isfinite(self.oob_scores_)]
            self.threshold_ = fpr_threshold(oob, self.target_fpr)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)

    @property
    def score_batch_size(self) -> int:
        """The members' scoring batch size (samples per forward pass)."""
        check_is_fitted(self, "estimators_")
        return int(self.estimators_[0].score_batch_size)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores ``(n,)``: the mean of the members' standardised scores.

        float32, as a member's scores are: the members' float32 forward passes already
        differ in the last bits with the rows scored beside them on some CPUs, and more
        digits would only carry that noise.

        A large NumPy array (or memory map) is validated and scored in chunks,
        so no float copy of all of ``X`` is made, as for a single detector.
        """
        check_is_fitted(self, "estimators_")
        if isinstance(X, np.ndarray) and X.ndim >= 2 and len(X) > VALIDATION_CHUNK_ROWS:
            return np.concatenate([self.decision_function(X[start:start + VALIDATION_CHUNK_ROWS])
                                   for start in range(0, len(X), VALIDATION_CHUNK_ROWS)])
        scores = self._member_scores(check_input(self, X, reset=False)).mean(axis=0)
        return scores.astype(np.float32)

    def explain(self, X: Any) -> np.ndarray:
        """Squared error per feature / pixel, each member's divided by its ``member_std_``.

        Same shape as ``X``; its mean over all but the first axis equals
        :meth:`decision_function` plus a constant (the members' ``mean / std``).
        Members standardise features on their own subsample, so this is a
        ranking of where the error lies, not an error in the input's units.
        """
        check_is_fitted(self, "estimators_")
        X = check_input(self, X, reset=False)
        total = sum(m.explain(X) / s for m, s in zip(self.estimators_, self.member_std_,
                                                      strict=True))
        return np.asarray(total / len(self.estimators_), dtype=np.float32)

    def save(self, path: str | Path) -> Path:
        """Write every member and the ensemble's state to one model file (atomically)."""
        path = model_target(path)
        check_is_fitted(self, "estimators_")
        tensors: dict[str, torch.Tensor] = {}
        members = []
        for i, (member, rows) in enumerate(zip(self.estimators_, self.samples_, strict=True)):
            member_meta, member_tensors = member.model_document()
            tensors.update({f"{_MEMBER_PREFIX}{i}.{k}": v for k, v in member_tensors.items()})
            tensors[f"{_MEMBER_PREFIX}{i}.rows"] = torch.from_numpy(np.ascontiguousarray(rows))
            members.append(member_meta)
        for name in _STATE:
            tensors[f"ensemble.{name.rstrip('_')}"] = torch.from_numpy(
                np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        params = self.get_params(deep=False)
        template = params.pop("estimator")
        meta = {"params": params,
                "estimator_params": None if template is None else template.get_params(deep=False),
                "input_shape": list(self.input_shape_),
                "n_features_in": int(self.n_features_in_),
                "threshold": float(self.threshold_),
                "fit_seconds": float(self.fit_seconds_), "members": members}
        return write_model_file(path, "ensemble", meta, tensors)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> MemAEEnsemble:
        """Rebuild an ensemble saved with :meth:`save` (never unpickles anything)."""
        resolve_device(device)
        file = read_model_file(path, "ensemble")
        meta, tensors, path = file.meta, file.tensors, file.path
        check_ensemble_file(path, meta, tensors, _MEMBER_PREFIX)
        try:
            template = meta["estimator_params"]
            ensemble = cls(
                None if template is None else MemAEDetector(**{**template, "device": device}),
                **meta["params"])
            ensemble.estimators_, ensemble.samples_ = [], []
            for i, member_meta in enumerate(meta["members"]):
                prefix = f"{_MEMBER_PREFIX}{i}."
                own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
                ensemble.samples_.append(own.pop("rows").numpy())
                ensemble.estimators_.append(
                    MemAEDetector.from_document(member_meta, own, device, path))
            for name in _STATE:
                setattr(ensemble, name, tensors[f"ensemble.{name.rstrip('_')}"].numpy())
            ensemble.input_shape_ = tuple(meta["input_shape"])
            ensemble.n_features_in_ = meta["n_features_in"]
            ensemble.threshold_ = meta["threshold"]
            ensemble.fit_seconds_ = meta["fit_seconds"]
            ensemble.labels_ = (ensemble.decision_scores_ > ensemble.threshold_).astype(int)
        except ModelFileError:
            raise  # names the file and the field already
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise corrupt_file(path, error) from error
        return ensemble
