"""Every field of a detector's model file checked against what ``save`` writes.

A model file is data a user may have edited or damaged. :func:`check_detector_file`
checks the JSON document and the tensors of one detector (and
:func:`check_ensemble_file` those of an ensemble and its members) before
anything is built from them, so a NaN threshold, a zero ``score_batch_size``, an edited
``input_shape``, NaN weights or a zeroed scale are refused on load with the
file and the field named, instead of failing (or silently predicting) later.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import torch

from memae.models import list_models
from memae.validation import PARAMETER_RULES

__all__ = ["ModelFileError", "check_detector_file", "check_ensemble_file", "field_error",
           "file_error"]

# Sample ranks a detector takes: (d,), (C, H, W), (C, T, H, W).
SAMPLE_RANKS = (1, 3, 4)


class ModelFileError(ValueError):
    """A model file whose contents do not match the format; the message names the field."""


def file_error(path: Path, detail: str) -> ModelFileError:
    """The error for a model file that is wrong as ``detail`` says."""
    return ModelFileError(f"{str(path)!r} is a corrupt or edited memae model file: {detail}; "
                          "save or train the model again.")


def field_error(path: Path, field: str, value: Any, expected: str) -> ModelFileError:
    """The error for ``field`` of a model file holding ``value`` instead of ``expected``."""
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return file_error(path, f"{field} is {shown}, expected {expected}")


def _int(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, Integral) and not isinstance(v, bool) and v >= low


def _finite(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def _finite_list(v: Any) -> bool:
    return isinstance(v, list) and all(_finite(x) for x in v)


# field -> (rule, what a valid value is), for the "training" summary.
TRAINING_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "train_loss": (_finite_list, "a list of finite numbers"),
    "train_mse": (_finite_list, "a list of finite numbers"),
    "val_loss": (_finite_list, "a list of finite numbers"),
    "best_epoch": (_int(0), "an int >= 0"),
    "stopped_early": (lambda v: isinstance(v, bool), "true or false"),
    "n_train": (_int(1), "an int >= 1"),
    "n_val": (_int(0), "an int >= 0"),
    "fit_seconds": (lambda v: _finite(v) and v >= 0, "a number >= 0"),
}


def _mapping(path: Path, meta: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = meta.get(key)
    if not isinstance(value, Mapping):
        raise field_error(path, where + key, value, "a JSON object")
    return value


def _check_params(path: Path, params: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(params) - set(PARAMETER_RULES))
    if unknown:
        raise field_error(path, f"{where}params", unknown, f"keys from {sorted(PARAMETER_RULES)}")
    for name, (rule, expected) in PARAMETER_RULES.items():
        if name in params and not rule(params[name]):
            raise field_error(path, f"{where}params.{name}", params[name], expected)


def _check_tensors(path: Path, tensors: Mapping[str, torch.Tensor], n_features: int,
                   where: str) -> None:
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise field_error(path, f"tensor {where}{name}", "non-finite values",
                              "finite numbers")
    scores = tensors.get("train.decision_scores")
    if scores is None or scores.ndim != 1 or len(scores) < 1:
        raise field_error(path, f"tensor {where}train.decision_scores",
                          None if scores is None else tuple(scores.shape),
                          "a 1-D tensor of training scores")
    scale = [key for key in ("scale.mean", "scale.std") if key in tensors]
    if scale and len(scale) != 2:
        raise field_error(path, f"tensors {where}scale.*", scale,
                          "both scale.mean and scale.std, or neither")
    if scale:
        for key in ("scale.mean", "scale.std"):
            if tensors[key].numel() != n_features:
                raise field_error(path, f"tensor {where}{key}", tuple(tensors[key].shape),
                                  f"{n_features} values, one per feature or channel")
        if not bool((tensors["scale.std"] > 0).all()):
            raise field_error(path, f"tensor {where}scale.std", "a zero or negative value",
                              "positive spreads")


def check_detector_file(path: Path, meta: Mapping[str, Any],
                        tensors: Mapping[str, torch.Tensor], where: str = "") -> None:
    """Raise :class:`ModelFileError` naming the first field of one detector that is wrong.

    Parameters
    ----------
    path:
        The file, for the message.
    meta:
        The detector's JSON document (``members[i]`` of an ensemble file).
    tensors:
        The detector's tensors, names without an ensemble member's prefix.
    where:
        Prefix of field names in messages (``"members[2]."`` for ensembles).
    """
    _check_params(path, _mapping(path, meta, "params", where), where)
    model = _mapping(path, meta, "model", where)
    if model.get("name") not in list_models():
        raise field_error(path, f"{where}model.name", model.get("name"),
                          f"one of {list_models()}")
    config = _mapping(path, model, "config", f"{where}model.")
    shape = meta.get("input_shape")
    if not (isinstance(shape, list) and len(shape) in SAMPLE_RANKS
            and all(_int(1)(s) for s in shape)):
        raise field_error(path, f"{where}input_shape", shape,
                          "a list of 1, 3 or 4 positive ints (one sample's shape)")
    width = config.get("in_features", config.get("in_channels"))
    if width != shape[0]:
        raise field_error(path, f"{where}input_shape", shape,
                          f"first size {width!r}, as the model's config says")
    if meta.get("n_features_in") != shape[0]:
        raise field_error(path, f"{where}n_features_in", meta.get("n_features_in"),
                          f"{shape[0]} (input_shape[0])")
    if not _finite(meta.get("threshold")):
        raise field_error(path, f"{where}threshold", meta.get("threshold"), "a finite number")
    training = _mapping(path, meta, "training", where)
    for name, (rule, expected) in TRAINING_RULES.items():
        if not rule(training.get(name)):
            raise field_error(path, f"{where}training.{name}", training.get(name), expected)
    _check_tensors(path, tensors, shape[0], where)


# field -> (rule, what a valid value is), for an ensemble file's own fields.
ENSEMBLE_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n_estimators": (_int(1), "an int >= 1"),
    "threshold": (_finite, "a finite number"),
    "members": (lambda v: isinstance(v, list) and v and all(isinstance(m, dict) for m in v),
                "a non-empty list of member objects"),
    "input_shape": (lambda v: isinstance(v, list) and all(isinstance(s, int) for s in v),
                    "a list of ints"),
}


def check_ensemble_file(path: Path, meta: Mapping[str, Any],
                        tensors: Mapping[str, torch.Tensor], member_prefix: str) -> None:
    """Every field of an ensemble file, and each member's as :func:`check_detector_file`.

    ``member_prefix`` starts the tensor names of each member (``"estimators."``).
    """
    params = meta.get("params")
    if not isinstance(params, dict):
        raise field_error(path, "params", params, "a JSON object")
    values = {**meta, "n_estimators": params.get("n_estimators")}
    for name, (rule, expected) in ENSEMBLE_RULES.items():
        if not rule(values.get(name)):
            raise field_error(path, name, values.get(name), expected)
    if len(meta["members"]) != params["n_estimators"]:
        raise field_error(path, "members", f"{len(meta['members'])} members",
                          f"params.n_estimators = {params['n_estimators']} members")
    for i, member in enumerate(meta["members"]):
        prefix = f"{member_prefix}{i}."
        own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        check_detector_file(path, member, own, f"members[{i}].")
        if member["input_shape"] != meta["input_shape"]:
            raise field_error(path, "input_shape", meta["input_shape"],
                              f"members' input shape {member['input_shape']}")
    for name in ("member_mean", "member_std", "decision_scores"):
        tensor = tensors.get(f"ensemble.{name}")
        if tensor is None or not bool(torch.isfinite(tensor).all()):
            raise field_error(path, f"tensor ensemble.{name}",
                              None if tensor is None else "non-finite values", "finite numbers")
    if not bool((tensors["ensemble.member_std"] > 0).all()):
        raise field_error(path, "tensor ensemble.member_std", "a zero or negative value",
                          "positive spreads")
