"""The one model-file schema: a safetensors file with a JSON document in its header.

Every trained model (a detector, an ensemble, a video model) is written by
:func:`write_model_file` as tensors plus one JSON document under the header key
``"memae"`` holding the format version, the ``kind`` and what that kind needs
to be rebuilt. Nothing is ever unpickled, so a file cannot run code.
:func:`read_model_file` is the one reader: it names the file and what is wrong
with it, and reads files of the previous format (format 1, which kept video
models under their own header key) as the current one.

A model file is data a user may have edited or damaged. :func:`check_detector_file`
checks the JSON document and the tensors of one detector (and
:func:`check_ensemble_file` those of an ensemble and its members) before
anything is built from them, so a NaN threshold, a zero ``score_batch_size``, an edited
``input_shape``, NaN weights or a zeroed scale are refused on load with the
file and the field named, instead of failing (or silently predicting) later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from memae._version import __version__
from memae.models import list_models
from memae.safefile import read_all, write_atomic
from memae.validation import PARAMETER_RULES, broken_rule

__all__ = ["FORMAT_VERSION", "KINDS", "ModelFile", "ModelFileError", "check_detector_file",
           "check_ensemble_file", "field_error", "file_error", "read_model_file",
           "write_model_file"]

FORMAT_VERSION = 2
METADATA_KEY = "memae"
# kind -> how a user loads it (for messages)
KINDS: dict[str, str] = {"detector": "memae.MemAEDetector.load",
                         "ensemble": "memae.MemAEEnsemble.load",
                         "video": "memae.VideoDetector.load"}
# Format 1 named the estimator's class instead of a kind, and video files used their
# own header key.
_V1_ESTIMATORS = {"MemAEDetector": "detector", "MemAEEnsemble": "ensemble"}
_V1_VIDEO_KEY = "memae_video"

# Sample ranks a detector takes: (d,), (C, H, W), (C, T, H, W).
SAMPLE_RANKS = (1, 3, 4)


class ModelFileError(ValueError):
    """A model file whose contents do not match the format; the message names the field."""


def file_error(path: Path, detail: str) -> ModelFileError:
    """The error for a model file that is wrong as ``detail`` says."""
    return ModelFileError(f"{str(path)!r} is a corrupt or edited memae model file: {detail}; "
                          "save or train the model again.")


def corrupt_file(path: Path, error: Exception) -> ValueError:
    """The error for a model file whose fields passed the checks but do not fit together."""
    return ValueError(f"{str(path)!r} is a corrupt or edited memae model file "
                      f"({type(error).__name__}: {error}); save the model again.")


def field_error(path: Path, field: str, value: Any, expected: str) -> ModelFileError:
    """The error for ``field`` of a model file holding ``value`` instead of ``expected``."""
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return file_error(path, f"{field} is {shown}, expected {expected}")


def _int(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, Integral) and not isinstance(v, bool) and int(v) >= low


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
    # Absent from files written before the memory health was recorded.
    "memory_items_used": (lambda v: v is None or (isinstance(v, list)
                                                  and all(_int(0)(x) for x in v)),
                          "a list of ints >= 0"),
    "memory_entropy": (lambda v: v is None or _finite_list(v), "a list of finite numbers"),
    "n_train": (_int(1), "an int >= 1"),
    "n_val": (_int(0), "an int >= 0"),
    "steps": (lambda v: v is None or _int(0)(v), "an int >= 0"),
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
    broken = broken_rule(params)
    if broken is not None:
        name, expected = broken
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
    "members": (lambda v: isinstance(v, list) and len(v) > 0
                and all(isinstance(m, dict) for m in v),
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


@dataclass
class ModelFile:
    """What :func:`read_model_file` found: the kind, its JSON document and its tensors."""

    path: Path
    kind: str
    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.random.RandomState):
        return None
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def model_target(path: str | Path) -> Path:
    """``path`` as a model file to write, refusing a directory."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a directory; give a file name, "
                         "e.g. model.safetensors.")
    return path


def write_model_file(path: str | Path, kind: str, meta: dict[str, Any],
                     tensors: dict[str, torch.Tensor]) -> Path:
    """Write a model of ``kind`` atomically: ``tensors`` and the JSON document ``meta``."""
    if kind not in KINDS:
        raise ValueError(f"kind: got {kind!r}; expected one of {sorted(KINDS)}")
    path = model_target(path)
    document = {"format_version": FORMAT_VERSION, "kind": kind, "memae_version": __version__,
                **meta}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    write_atomic(path, tensors, {METADATA_KEY: json.dumps(document, default=_json_default)},
                 f"{kind} model file")
    return path


def read_model_file(path: str | Path, kind: str | None = None) -> ModelFile:
    """Read the model file at ``path``; with ``kind``, refuse a file of another kind.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Not a safetensors file, no memae document, broken JSON, an unknown
        format version or kind, or (with ``kind``) a model of another kind.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}; check the path.")
    try:
        header, tensors = read_all(path)
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"{str(path)!r} is not a memae model file (a safetensors file "
                         f"written by memae's save): {error}") from error
    key = METADATA_KEY if METADATA_KEY in header else _V1_VIDEO_KEY
    if key not in header:
        raise ValueError(f"{str(path)!r} is a safetensors file but has no memae metadata; "
                         "was it written by memae's save (MemAEDetector.save, "
                         "VideoDetector.save, memae train)?")
    try:
        meta = json.loads(header[key])
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} has corrupt memae metadata ({error}); "
                         "save the model again.") from error
    if not isinstance(meta, dict):
        raise ValueError(f"{str(path)!r} has corrupt memae metadata (not a JSON object).")
    version = meta.get("format_version")
    if version == 1:
        found = "video" if key == _V1_VIDEO_KEY else _V1_ESTIMATORS.get(
            meta.get("estimator", "MemAEDetector"))
    elif version == FORMAT_VERSION and key == METADATA_KEY:
        found = meta.get("kind")
    else:
        raise ValueError(
            f"{str(path)!r} has model format version {version!r}; this memae "
            f"({__version__}) reads versions 1 and {FORMAT_VERSION}. Use the memae release "
            "that wrote it, or retrain.")
    if found not in KINDS:
        raise field_error(path, "kind", found, f"one of {sorted(KINDS)}")
    if kind is not None and found != kind:
        raise ValueError(f"{str(path)!r} holds {_a(found)} model, not {_a(kind)}; load it "
                         f"with memae.load(path) or {KINDS[found]}.")
    return ModelFile(path, found, meta, tensors)


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
