"""``torchrun --nproc_per_node=N -m memae.distributed``: train a detector data-parallel.

Example (two processes on this machine, gloo on the CPU)::

    torchrun --nproc_per_node=2 -m memae.distributed --data X.npy --out model.safetensors \\
        --params '{"epochs": 20, "batch_size": 64, "random_state": 0}'

``batch_size`` is the global batch, split over the processes. Rank 0 writes
the model file (and the checkpoints with ``--checkpoint-dir``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np
import torch.distributed as dist

from memae.data import load_table
from memae.detector import MemAEDetector
from memae.distributed import init_from_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m memae.distributed",
        description="Train a MemAEDetector data-parallel; launch with torchrun.")
    parser.add_argument("--data", required=True,
                        help="training table: NPY, NPZ, Parquet or CSV (numeric columns)")
    parser.add_argument("--out", required=True, help="model file to write (rank 0)")
    parser.add_argument("--params", default="{}",
                        help="MemAEDetector parameters as JSON; batch_size is the global batch")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--backend", choices=("gloo", "nccl"), default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``torchrun -m memae.distributed``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        params = json.loads(args.params)
        if not isinstance(params, dict):
            raise ValueError(f"--params must be a JSON object, got {args.params!r}")
        rank, world_size, device = init_from_env(args.backend)
    except (ValueError, json.JSONDecodeError) as error:
        print(f"memae.distributed: error: {error}", file=sys.stderr)
        return 2
    try:
        X = np.asarray(load_table(args.data).X, dtype=np.float32)
        batch_size = params.get("batch_size", 64)
        if isinstance(batch_size, int) and batch_size < world_size:
            raise ValueError(f"batch_size={batch_size} is smaller than the {world_size} "
                             "processes; every rank needs a sample of each batch.")
        params["device"] = str(device)
        detector = MemAEDetector(**params).fit(X, checkpoint_dir=args.checkpoint_dir,
                                               resume=args.resume)
        if rank == 0:
            detector.save(args.out)
        dist.barrier()
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"memae.distributed: error (rank {rank}): {error}", file=sys.stderr)
        return 2
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
