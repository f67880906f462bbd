"""``memae.load``: any model file, whatever it holds (detector, ensemble, video model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble
from memae.model_file import read_model_file
from memae.video.detector import VideoDetector

__all__ = ["load", "read_metadata"]

LOADERS: dict[str, Any] = {"detector": MemAEDetector, "ensemble": MemAEEnsemble,
                           "video": VideoDetector}


def load(path: str | Path, device: str = "cpu") -> MemAEDetector | MemAEEnsemble | VideoDetector:
    """The model in the file at ``path``, as the class of its ``kind``, on ``device``."""
    return LOADERS[read_model_file(path).kind].load(path, device=device)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON document of a model file, with its ``kind``, without building the model."""
    file = read_model_file(path)
    return {**file.meta, "kind": file.kind}
