"""How the MNIST configuration is chosen: candidates on the validation split only.

The validation split is the one ``memae benchmark mnist --config validation``
uses: 10% of every digit's training images held out (``oneclass.holdout_split``,
seed 0). Each candidate trains MemAE on the remaining images of digits 0 and 7
(seed 0) and scores the held-out images of all ten digits; the test split is
never read. ``docs/results.md`` holds the table this prints.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/mnist_selection.py --data-dir ../shared/data
    OMP_NUM_THREADS=1 python benchmarks/mnist_selection.py --only "first conv 3x3, 30 epochs"
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memae.benchmarks.ablation import TrainConfig
from memae.benchmarks.base import BenchmarkOptions
from memae.benchmarks.mnist import CONFIG, SPEC, load_splits
from memae.benchmarks.oneclass import ImageSplits, holdout_split, run_oneclass

PAPER_NET = TrainConfig(model="conv2d_mnist",
                        model_params={"addressing": "cosine", "temperature": 0.05},
                        epochs=15, batch_size=64, learning_rate=1e-3)


def k3(epochs: int, temperature: float = 0.05, **changes: Any) -> TrainConfig:
    params = {"kernel_sizes": (3, 3, 3), "addressing": "cosine", "temperature": temperature}
    return PAPER_NET.with_(model_params=params, epochs=epochs, **changes)


CANDIDATES: dict[str, TrainConfig] = {
    "first conv 1x1 (the paper), 15 epochs": PAPER_NET,
    "first conv 1x1, 50 epochs": PAPER_NET.with_(epochs=50),
    "first conv 3x3, 15 epochs": k3(15),
    "first conv 3x3, 15 epochs, T = 0.1": k3(15, 0.1),
    "first conv 3x3, 15 epochs, memory 400": k3(15, memory_size=400),
    "first conv 3x3, 30 epochs": k3(30),
    "first conv 3x3, 30 epochs, memory 400": k3(30, memory_size=400),
    "first conv 3x3, 30 epochs, T = 0.02": k3(30, 0.02),
    "first conv 3x3, 30 epochs, batch 32": k3(30, batch_size=32),
    "first conv 3x3, 50 epochs": k3(50),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="default: $MEMAE_DATA")
    parser.add_argument("--only", default=None, help="one candidate's name")
    args = parser.parse_args()
    if args.only is not None and args.only not in CANDIDATES:
        parser.error(f"--only: got {args.only!r}; expected one of {list(CANDIDATES)}")
    torch.set_num_threads(1)
    full = load_splits(BenchmarkOptions(out_dir=Path("."), data_dir=args.data_dir))
    train_x, train_y, val_x, val_y = holdout_split(full.train_x, full.train_y,
                                                   SPEC.validation_fraction, seed=0)
    splits = ImageSplits(train_x, train_y, val_x, val_y, full.class_names)
    print("| setting | digit 0 | digit 7 | mean |")
    print("|---|---|---|---|")
    for name in [args.only] if args.only else list(CANDIDATES):
        rows = run_oneclass(splits, CANDIDATES[name], (0, 7), (0,), "cpu", ("MemAE",))
        aucs = [r["roc_auc"] for r in rows]
        chosen = " (the benchmark's CONFIG)" if CANDIDATES[name] == CONFIG else ""
        print(f"| {name}{chosen} | {aucs[0]:.4f} | {aucs[1]:.4f} | {np.mean(aucs):.4f} |",
              flush=True)


if __name__ == "__main__":
    main()
