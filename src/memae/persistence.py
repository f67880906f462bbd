"""Save and load detectors as data: one safetensors file, JSON in its header.

The file holds the model weights, the scaling statistics and the training
scores as tensors, and a JSON document (format version, estimator parameters,
model config, threshold, training summary) in the safetensors metadata under
the key ``"memae"``. Nothing is ever unpickled, so a file cannot run code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from memae._version import __version__
from memae.model_file import (
    ModelFileError,
    check_detector_file,
    check_ensemble_file,
    field_error,
)
from memae.models import create_model
from memae.safefile import read_all, write_atomic

FORMAT_VERSION = 1
METADATA_KEY = "memae"
_MODEL_PREFIX = "model."
_MEMBER_PREFIX = "estimators."


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.random.RandomState):
        return None
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def _metadata(detector: Any) -> dict[str, Any]:
    history = detector.history_
    return {
        "format_version": FORMAT_VERSION,
        "memae_version": __version__,
        "estimator": type(detector).__name__,
        "params": detector.get_params(),
        "model": {"name": detector.model_name_, **detector.model_.spec()},
        "input_shape": list(detector.input_shape_),
        "n_features_in": int(detector.n_features_in_),
        "threshold": float(detector.threshold_),
        "training": {
            "train_loss": history.train_loss,
            "train_mse": history.train_mse,
            "val_loss": history.val_loss,
            "best_epoch": history.best_epoch,
            "stopped_early": history.stopped_early,
            "n_train": int(detector.n_train_),
            "n_val": int(detector.n_val_),
            "fit_seconds": float(detector.fit_seconds_),
        },
    }


def _payload(detector: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the JSON document that describe one fitted detector."""
    tensors = {_MODEL_PREFIX + k: v.detach().cpu().contiguous()
               for k, v in detector.model_.state_dict().items()}
    tensors["train.decision_scores"] = torch.from_numpy(
        np.ascontiguousarray(detector.decision_scores_))
    if detector.validation_scores_ is not None:
        tensors["train.validation_scores"] = torch.from_numpy(
            np.ascontiguousarray(detector.validation_scores_))
    if detector.scale_mean_ is not None:
        tensors["scale.mean"] = torch.from_numpy(np.ascontiguousarray(detector.scale_mean_))
        tensors["scale.std"] = torch.from_numpy(np.ascontiguousarray(detector.scale_std_))
    return tensors, _metadata(detector)


def _target(path: str | Path, fitted: bool) -> Path:
    if not fitted:
        raise ValueError("this detector is not fitted yet; call fit(X) before save().")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a directory; give a file name, "
                         "e.g. model.safetensors.")
    return path


def save_detector(detector: Any, path: str | Path) -> Path:
    """Write ``detector`` to ``path`` atomically (temporary file, then rename)."""
    path = _target(path, hasattr(detector, "model_"))
    tensors, meta = _payload(detector)
    write_atomic(path, tensors, {METADATA_KEY: json.dumps(meta, default=_json_default)})
    return path


def load_model(path: str | Path, device: str = "cpu") -> Any:
    """A :class:`memae.MemAEDetector` or :class:`memae.MemAEEnsemble`, as the file holds."""
    stored = read_metadata(path).get("estimator", "MemAEDetector")
    return (load_ensemble if stored == "MemAEEnsemble" else load_detector)(path, device)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON document stored in a model file, without loading the weights."""
    return _open(Path(path))[0]


def _open(path: Path, kind: str | None = None
          ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}; check the path.")
    try:
        header, tensors = read_all(path)
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a memae model file (a safetensors file written by "
            f"MemAEDetector.save): {error}"
        ) from error
    if METADATA_KEY not in header:
        raise ValueError(f"{str(path)!r} is a safetensors file but has no memae metadata; "
                         "was it written by MemAEDetector.save?")
    try:
        meta = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} has corrupt memae metadata ({error}); "
                         "save the model again.") from error
    if not isinstance(meta, dict):
        raise ValueError(f"{str(path)!r} has corrupt memae metadata (not a JSON object).")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has model format version {version!r}; this memae "
            f"({__version__}) reads version {FORMAT_VERSION}. Use the memae release "
            "that wrote it, or retrain."
        )
    stored = meta.get("estimator", "MemAEDetector")
    if kind is not None and stored != kind:
        raise ValueError(f"{str(path)!r} holds a {stored}, not a {kind}; load it with "
                         f"memae.{stored}.load.")
    return meta, tensors


def load_detector(path: str | Path, device: str = "cpu") -> Any:
    """Rebuild a fitted :class:`memae.MemAEDetector` from ``path`` on ``device``."""
    from memae.detector import resolve_device

    resolve_device(device)  # a device error is the caller's, not the file's
    path = Path(path)
    meta, tensors = _open(path, "MemAEDetector")
    check_detector_file(path, meta, tensors)
    try:
        return _rebuild(meta, tensors, device, path)
    except ModelFileError:
        raise  # names the file and the field already
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise _corrupt(path, error) from error


def _corrupt(path: Path, error: Exception) -> ValueError:
    return ValueError(f"{str(path)!r} is a corrupt or edited memae model file "
                      f"({type(error).__name__}: {error}); save the model again.")


def save_ensemble(ensemble: Any, path: str | Path) -> Path:
    """Write a fitted :class:`memae.MemAEEnsemble` (all members) to one file, atomically."""
    path = _target(path, hasattr(ensemble, "estimators_"))
    tensors: dict[str, torch.Tensor] = {}
    members = []
    for i, (member, rows) in enumerate(zip(ensemble.estimators_, ensemble.samples_,
                                           strict=True)):
        member_tensors, member_meta = _payload(member)
        tensors.update({f"{_MEMBER_PREFIX}{i}.{k}": v for k, v in member_tensors.items()})
        tensors[f"{_MEMBER_PREFIX}{i}.rows"] = torch.from_numpy(np.ascontiguousarray(rows))
        members.append(member_meta)
    for name in ("member_mean_", "member_std_", "decision_scores_", "oob_scores_"):
        tensors[f"ensemble.{name.rstrip('_')}"] = torch.from_numpy(
            np.ascontiguousarray(getattr(ensemble, name), dtype=np.float64))
    params = ensemble.get_params(deep=False)
    template = params.pop("estimator")
    meta = {"format_version": FORMAT_VERSION, "memae_version": __version__,
            "estimator": type(ensemble).__name__, "params": params,
            "estimator_params": None if template is None else template.get_params(deep=False),
            "input_shape": list(ensemble.input_shape_),
            "n_features_in": int(ensemble.n_features_in_),
            "threshold": float(ensemble.threshold_),
            "fit_seconds": float(ensemble.fit_seconds_), "members": members}
    write_atomic(path, tensors, {METADATA_KEY: json.dumps(meta, default=_json_default)})
    return path


def load_ensemble(path: str | Path, device: str = "cpu") -> Any:
    """Rebuild a fitted :class:`memae.MemAEEnsemble` from ``path`` on ``device``."""
    from memae.detector import MemAEDetector, resolve_device
    from memae.ensemble import MemAEEnsemble

    resolve_device(device)
    path = Path(path)
    meta, tensors = _open(path, "MemAEEnsemble")
    check_ensemble_file(path, meta, tensors, _MEMBER_PREFIX)
    try:
        template = meta["estimator_params"]
        ensemble = MemAEEnsemble(
            None if template is None else MemAEDetector(**{**template, "device": device}),
            **meta["params"])
        ensemble.estimators_, ensemble.samples_ = [], []
        for i, member_meta in enumerate(meta["members"]):
            prefix = f"{_MEMBER_PREFIX}{i}."
            own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            ensemble.samples_.append(own.pop("rows").numpy())
            ensemble.estimators_.append(_rebuild(member_meta, own, device, path))
        for name in ("member_mean_", "member_std_", "decision_scores_", "oob_scores_"):
            setattr(ensemble, name, tensors[f"ensemble.{name.rstrip('_')}"].numpy())
        ensemble.input_shape_ = tuple(meta["input_shape"])
        ensemble.n_features_in_ = meta["n_features_in"]
        ensemble.threshold_ = meta["threshold"]
        ensemble.fit_seconds_ = meta["fit_seconds"]
        ensemble.labels_ = (ensemble.decision_scores_ > ensemble.threshold_).astype(int)
    except ModelFileError:
        raise  # names the file and the field already
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise _corrupt(path, error) from error
    return ensemble


def _rebuild(meta: dict[str, Any], tensors: dict[str, torch.Tensor], device: str,
             path: Path) -> Any:
    from memae.detector import MemAEDetector, resolve_device
    from memae.training import TrainingHistory

    params = dict(meta["params"])
    params["device"] = device
    detector = MemAEDetector(**params)
    model = create_model(meta["model"]["name"], **meta["model"]["config"])
    state = {k[len(_MODEL_PREFIX):]: v for k, v in tensors.items()
             if k.startswith(_MODEL_PREFIX)}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"the weights do not fit the stored model config: {error}") from error
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
    detector.input_shape_ = tuple(meta["input_shape"])
    detector.n_features_in_ = meta["n_features_in"]
    detector.threshold_ = meta["threshold"]
    detector.decision_scores_ = tensors["train.decision_scores"].numpy()
    val = tensors.get("train.validation_scores")
    detector.validation_scores_ = None if val is None else val.numpy()
    detector.scale_mean_ = tensors["scale.mean"].numpy() if "scale.mean" in tensors else None
    detector.scale_std_ = tensors["scale.std"].numpy() if "scale.std" in tensors else None
    detector.labels_ = (detector.decision_scores_ > detector.threshold_).astype(int)
    training = meta["training"]
    detector.history_ = TrainingHistory(
        train_loss=training["train_loss"], train_mse=training["train_mse"],
        val_loss=training["val_loss"], best_epoch=training["best_epoch"],
        stopped_early=training["stopped_early"])
    detector.n_train_, detector.n_val_ = training["n_train"], training["n_val"]
    detector.fit_seconds_ = training["fit_seconds"]
    return detector
