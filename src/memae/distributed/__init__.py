"""Data-parallel training with ``torch.distributed`` (DDP), launched by ``torchrun``.

``MemAEDetector.fit`` notices an initialised process group and trains
data-parallel: every rank draws the same shuffled global batch (the shuffling
generator is seeded alike everywhere), keeps the slice ``idx[rank::world]`` of
it, weights its loss by its share of the batch, and DDP averages the
gradients. The update therefore equals single-process training with the same
``batch_size`` (the *global* batch) up to float summation order. Rank 0 writes
checkpoints and the model file.

Batch norm: each rank normalises its own slice (local BN, DDP's default, with
rank 0's running statistics broadcast to the others); ``SyncBatchNorm`` does
not run on the CPU/gloo backend. Models without batch norm (the default
``mlp``) match single-process training closely; see docs/hardening.md.

Launch: ``torchrun --nproc_per_node=2 -m memae train --data X.csv --out RUN ...``
(``memae train`` joins the process group when ``torchrun`` started it).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def distributed_context() -> tuple[int, int]:
    """``(rank, world_size)`` of the current process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def wrap_data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when a process group runs, else unchanged."""
    if distributed_context()[1] == 1:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def launched_by_torchrun() -> bool:
    """Whether this process is one of several started by ``torchrun``."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def end_process_group() -> None:
    """Wait for every rank, then leave the process group (if one was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def init_from_env(backend: str | None = None) -> tuple[int, int, torch.device]:
    """Join the process group ``torchrun`` describes in the environment.

    Returns ``(rank, world_size, device)``: NCCL and ``cuda:LOCAL_RANK`` when CUDA
    is available, else gloo on the CPU.
    """
    missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
               if k not in os.environ]
    if missing:
        raise ValueError(f"environment variables {missing} are not set; launch with "
                         "torchrun --nproc_per_node=N -m memae.distributed ...")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = torch.cuda.is_available() and backend != "gloo"
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    dist.init_process_group(backend or ("nccl" if use_cuda else "gloo"))
    return dist.get_rank(), dist.get_world_size(), device
