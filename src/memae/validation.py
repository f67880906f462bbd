"""Checks at the boundary: estimator parameters and user arrays."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any, cast

import numpy as np
from sklearn.utils.validation import validate_data

from memae.pseudo_anomalies import PSEUDO_ANOMALY_KINDS
from memae.training import LR_SCHEDULES, PRECISIONS

SUPPORTED_NDIM = {2: "tabular (n_samples, n_features)", 4: "images (n, C, H, W)",
                  5: "video clips (n, C, T, H, W)"}


def _int(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, Integral) and not isinstance(v, bool) and int(v) >= low


def _real(low: float, high: float, low_open: bool = False, high_open: bool = False
          ) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if not isinstance(v, Real) or isinstance(v, bool):
            return False
        # numbers.Real declares no comparison or ufunc types mypy can check
        # (python/mypy#3186); the value itself is compared, unconverted.
        x = cast(float, v)
        if not np.isfinite(x):
            return False
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        return above and below
    return ok


def _none_or(rule: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or rule(v)


# name -> (rule, what a valid value is); checked in fit, never in __init__.
PARAMETER_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (lambda v: isinstance(v, str), "a registered model name or 'auto'"),
    "model_params": (lambda v: v is None or isinstance(v, dict), "None or a dict of overrides"),
    "memory": (lambda v: isinstance(v, bool), "True or False"),
    "memory_size": (_none_or(_int(1)), "None or an int >= 1"),
    "shrink_threshold": (_none_or(_real(0, 1, high_open=True)), "None or a float in [0, 1)"),
    "entropy_weight": (_real(0, np.inf), "a float >= 0 (the paper: 0.0002)"),
    "epochs": (_int(1), "an int >= 1"),
    "batch_size": (_int(1), "an int >= 1"),
    "learning_rate": (_real(0, np.inf, low_open=True), "a float > 0"),
    "weight_decay": (_real(0, np.inf), "a float >= 0"),
    "validation_fraction": (_real(0, 1, high_open=True), "a float in [0, 1)"),
    "patience": (_none_or(_int(1)), "None (no early stopping) or an int >= 1"),
    "lr_schedule": (lambda v: v in LR_SCHEDULES, f"one of {LR_SCHEDULES}"),
    "max_steps": (_none_or(_int(1)), "None (epochs decide) or an int >= 1"),
    "precision": (lambda v: v in PRECISIONS, f"one of {PRECISIONS}"),
    "pseudo_anomaly": (_real(0, 1, high_open=True),
                       "a float in [0, 1): the share of training samples made "
                       "pseudo-anomalous (0: off)"),
    "pseudo_anomaly_kind": (lambda v: v in PSEUDO_ANOMALY_KINDS,
                            f"one of {PSEUDO_ANOMALY_KINDS}"),
    "standardize": (lambda v: v in ("auto", True, False), "'auto', True or False"),
    "contamination": (_real(0, 0.5, low_open=True), "a float in (0, 0.5]"),
    "target_fpr": (_none_or(_real(0, 1, low_open=True, high_open=True)),
                   "None or a float in (0, 1)"),
    "random_state": (lambda v: v is None or (_int(0)(v) and v < 2**32)
                     or isinstance(v, np.random.RandomState),
                     "None, an int in [0, 2**32 - 1] or a numpy RandomState"),
    "device": (lambda v: isinstance(v, str) and (v in ("auto", "cpu") or v.startswith("cuda")
                                                 or v == "mps"),
               "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"),
    "verbose": (lambda v: isinstance(v, (bool, Integral)), "True or False"),
    "score_batch_size": (_int(1), "an int >= 1"),
}


# MemAEDetector parameters that may also be "auto": the general preset of the data's
# kind fills them in at fit (memae.detector.MemAEDetector.resolved_params). The video
# configuration shares the rules above but has no "auto" for them.
AUTO_PARAMETERS = ("model_params", "epochs", "max_steps", "validation_fraction", "patience")


def broken_rule(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first estimator parameter that breaks its rule and what a valid value is.

    :data:`AUTO_PARAMETERS` may also be ``"auto"``. ``None`` when every rule holds.
    """
    for name, (rule, expected) in PARAMETER_RULES.items():
        if name not in params:
            continue
        value, auto = params[name], name in AUTO_PARAMETERS
        if auto and isinstance(value, str) and value == "auto":
            continue
        if not rule(value):
            return name, f"'auto' or {expected}" if auto else expected
    return None


def check_params(params: Mapping[str, Any]) -> None:
    """Raise a ``ValueError`` naming the first parameter that breaks its rule."""
    broken = broken_rule(params)
    if broken is not None:
        name, expected = broken
        raise ValueError(f"{name} must be {expected}, got {params[name]!r}.")


def _fix_for(message: str) -> str:
    if "NaN" in message or "infinity" in message or "too large" in message:
        return ("Remove or impute non-finite values (e.g. sklearn.impute.SimpleImputer) "
                "before passing X.")
    if "0 feature" in message:
        return "Keep at least one feature column (the label and ignored columns are not features)."
    if "Expected 2D array" in message:
        return "Reshape a single feature with X.reshape(-1, 1), a single sample with X[None]."
    if "sample" in message:
        return "Pass at least 2 samples to fit and at least 1 to score."
    if "features, but" in message or "feature names" in message:
        return "Pass data with the same columns, in the same order, as in fit."
    if "convert" in message or "argument must be" in message or "Complex" in message:
        return ("X must be real numbers; one-hot encode categorical columns "
                "(e.g. sklearn.preprocessing.OneHotEncoder) first.")
    return ""


def _check_columns(X: Any) -> None:
    """Name the non-numeric columns of a DataFrame (numpy would only say no dtype fits)."""
    columns, dtypes = getattr(X, "columns", None), getattr(X, "dtypes", None)
    if columns is None or dtypes is None or not hasattr(dtypes, "__iter__"):
        return
    # numpy-style dtypes only (pandas); other frames' dtypes are left to sklearn.
    bad = [(str(name), str(dtype)) for name, dtype in zip(columns, dtypes, strict=False)
           if isinstance(getattr(dtype, "kind", None), str) and dtype.kind not in "biuf"]
    if bad:
        shown = ", ".join(f"{name!r} ({dtype})" for name, dtype in bad[:5])
        raise TypeError(f"X has non-numeric columns {shown}; drop them or convert them to "
                        "numbers first (datetimes e.g. to seconds, categories with "
                        "sklearn.preprocessing.OneHotEncoder).")


def _check_rank(estimator: Any, X: Any) -> None:
    """Refuse samples of another rank than in fit before sklearn counts 'features'."""
    fitted = getattr(estimator, "input_shape_", None)
    ndim = getattr(X, "ndim", None)
    if fitted is None or ndim is None or ndim < 2 or ndim - 1 == len(fitted):
        return  # sklearn's own message for 1-D input says how to reshape it
    kind = {1: "tables (n, n_features)", 3: "images (n, C, H, W)",
            4: "clips (n, C, T, H, W)"}.get(len(fitted), f"{len(fitted) + 1}-D arrays")
    raise ValueError(f"X has shape {tuple(X.shape)}, but {type(estimator).__name__} was "
                     f"fitted on {kind} with samples of shape {tuple(fitted)}. Pass data of "
                     "the same kind and shape as in fit.")


def check_input(estimator: Any, X: Any, *, reset: bool) -> np.ndarray:
    """Validate ``X`` as float32, finite, with a supported rank; ``reset`` in fit only.

    sklearn's ``validate_data`` does the work and records ``n_features_in_``;
    its messages gain a line on how to fix the input.
    """
    if X is None:
        raise TypeError("X must be an array-like of numbers, got None.")
    _check_columns(X)
    if not reset:
        _check_rank(estimator, X)
    try:
        array = validate_data(estimator, X, reset=reset, dtype=np.float32, allow_nd=True,
                              ensure_min_samples=2 if reset else 1, ensure_all_finite=True)
    except (ValueError, TypeError) as error:
        message = " ".join(str(error).split()) or repr(error)
        if "NaN" in message or "infinity" in message:  # drop sklearn's page on imputers
            message = str(error).strip().splitlines()[0]
        fix = _fix_for(str(error))
        raise type(error)(f"X: {message} {fix}".rstrip()) from error
    if array.ndim not in SUPPORTED_NDIM:
        kinds = "; ".join(f"{k}-D {v}" for k, v in SUPPORTED_NDIM.items())
        hint = " For grayscale images add a channel: X[:, None]." if array.ndim == 3 else ""
        raise ValueError(f"X must be {kinds}; got shape {array.shape}.{hint}")
    if 0 in array.shape[1:]:
        raise ValueError(f"X has samples of shape {tuple(array.shape[1:])}; every feature, "
                         "channel and spatial axis needs a size of at least 1.")
    if reset:
        estimator.input_shape_ = tuple(int(s) for s in array.shape[1:])
    elif tuple(array.shape[1:]) != tuple(estimator.input_shape_):
        raise ValueError(
            f"X has sample shape {tuple(array.shape[1:])}, but "
            f"{type(estimator).__name__} was fitted on {tuple(estimator.input_shape_)}. "
            "Pass data of the same shape as in fit."
        )
    return array
