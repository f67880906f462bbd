"""Save and load video models as data: one safetensors file with JSON metadata.

Like :mod:`memae.persistence`, the weights are tensors and everything else (the
:class:`~memae.video.config.VideoConfig` with input size, clip length, normalisation and
score settings, the model spec and the training summary) is a JSON document in the
safetensors header. Nothing is unpickled, so loading a file cannot run code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

import memae
from memae.model_file import field_error, file_error
from memae.models import create_model
from memae.safefile import read_all, write_atomic
from memae.video.config import VideoConfig
from memae.video.reference import ErrorReference
from memae.video.train import VideoModel

FORMAT_VERSION = 1
METADATA_KEY = "memae_video"
# How frames are normalised before the model sees them; recorded for readers of the file.
NORMALIZATION = "grayscale, bilinear resize to size, uint8 [0, 255] -> float32 [-1, 1]"
# Tensor names of the per-pixel error reference (absent when the model has none).
REFERENCE_KEYS = ("error_reference.mean", "error_reference.std")


def save_video_model(video_model: VideoModel, path: str | Path) -> Path:
    """Write ``video_model`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path: {str(path)!r} is a directory; give a file name such as "
                         "ped2.safetensors")
    tensors = {k: v.detach().cpu().contiguous()
               for k, v in video_model.model.state_dict().items()}
    reference = video_model.reference
    if reference is not None:
        for key, value in zip(REFERENCE_KEYS, (reference.mean, reference.std), strict=True):
            tensors[key] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "memae_version": memae.__version__,
        "config": video_model.config.to_dict(),
        "normalization": NORMALIZATION,
        "model": video_model.model.spec(),
        "training": video_model.training,
        "reference_frames": None if reference is None else reference.n_frames,
    }
    write_atomic(path, tensors, {METADATA_KEY: json.dumps(meta)}, "video model file")
    return path


def load_video_model(path: str | Path, device: str = "cpu") -> VideoModel:
    """Rebuild a :class:`VideoModel` saved by :func:`save_video_model`, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model: no video model file at {str(path)!r}")
    try:
        header, tensors = read_all(path)
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"model: {str(path)!r} is not a safetensors file: {error}") from error
    if METADATA_KEY not in header:
        raise ValueError(
            f"model: {str(path)!r} is not a memae video model (no {METADATA_KEY!r} metadata); "
            "write one with save_video_model or `memae benchmark ped2`"
        )
    meta = _video_meta(header[METADATA_KEY], path)
    try:
        config = VideoConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as error:
        raise file_error(path, f"config: {error}") from error
    reference = _pop_reference(tensors, meta, path)
    if config.score_normalization != "none" and reference is None:
        raise ValueError(f"model: {str(path)!r} asks for score_normalization="
                         f"{config.score_normalization!r} but holds no error reference")
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise field_error(path, f"tensor {name}", "non-finite values", "finite numbers")
    try:
        model = create_model(config.model, **config.network_params)
    except (TypeError, ValueError) as error:
        raise file_error(path, f"config.model_params: {error}") from error
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ValueError(f"model: {str(path)!r}: weights do not fit the stored config: "
                         f"{error}") from error
    return VideoModel(model.to(device).eval(), config, meta["training"], reference)


def _video_meta(text: str, path: Path) -> dict[str, Any]:
    """The JSON document of a video model file, with the fields loading relies on checked."""
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as error:
        raise file_error(path, f"metadata {METADATA_KEY!r} is not JSON ({error})") from error
    if not isinstance(meta, dict):
        raise field_error(path, f"metadata {METADATA_KEY!r}", type(meta).__name__,
                          "a JSON object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"model: {str(path)!r} has video format version {meta.get('format_version')!r}; "
            f"this memae reads version {FORMAT_VERSION}"
        )
    for key in ("config", "training"):
        if not isinstance(meta.get(key), dict):
            raise field_error(path, key, meta.get(key), "a JSON object")
    scale = meta["training"].get("map_scale")
    if scale is not None and not (isinstance(scale, int | float) and not isinstance(scale, bool)
                                  and math.isfinite(scale) and scale > 0):
        raise field_error(path, "training.map_scale", scale, "a positive number or null")
    frames = meta.get("reference_frames")
    if frames is not None and not (isinstance(frames, int) and frames >= 1):
        raise field_error(path, "reference_frames", frames, "a positive int or null")
    return meta


def _pop_reference(tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                   path: Path) -> ErrorReference | None:
    """Take the error reference tensors out of ``tensors`` (``None`` when there are none)."""
    present = [key for key in REFERENCE_KEYS if key in tensors]
    if not present:
        return None
    if len(present) != len(REFERENCE_KEYS) or not meta.get("reference_frames"):
        raise ValueError(f"model: {str(path)!r} holds an incomplete error reference")
    mean, std = (tensors.pop(key).float().numpy() for key in REFERENCE_KEYS)
    try:
        return ErrorReference(mean, std, int(meta["reference_frames"]))
    except (TypeError, ValueError) as error:
        raise ValueError(f"model: {str(path)!r}: bad error reference: {error}") from error
