"""safetensors files written atomically and read whole: the one on-disk format for tensors.

Model files, training checkpoints and video model files are all a safetensors
file whose header metadata carries a JSON document; nothing is ever
unpickled, so a file cannot run code.
"""

from __future__ import annotations

import errno
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from memae.atomic import atomic_path


def write_atomic(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str],
                 what: str = "model file") -> Path:
    """Write ``tensors`` + ``metadata`` to ``path`` through :func:`memae.atomic.atomic_path`.

    A reader never sees a half-written file, and a failed write (a full disk
    included, which safetensors reports as its own error) leaves any previous
    file untouched and no temporary file behind.
    """
    with atomic_path(path, what) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except SafetensorError as error:
            full = "os error 28" in str(error)  # ENOSPC, as the Rust side reports it
            raise OSError(errno.ENOSPC if full else errno.EIO, str(error)) from error
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
