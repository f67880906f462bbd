"""safetensors files written atomically and read whole: the one on-disk format for tensors.

Model files, training checkpoints and video model files are all a safetensors
file whose header metadata carries a JSON document; nothing is ever
unpickled, so a file cannot run code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def write_atomic(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """Write ``tensors`` + ``metadata`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, and a failed write leaves any
    previous file untouched and no temporary file behind. The file gets the
    permissions a plain ``open()`` would give (``mkstemp``'s are 0600).
    """
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_all(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """``(header metadata, tensors)`` of a safetensors file, on the CPU.

    Raises what safetensors raises for a file that is not one
    (``SafetensorError``, ``OSError``, ``ValueError``); callers turn that into
    a message about their own kind of file.
    """
    with safe_open(str(path), framework="pt", device="cpu") as f:
        header = f.metadata() or {}
        tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    return header, tensors
