"""How the demo configuration is chosen: the selection split of the training half only.

The demo's stratified 50/50 split (``random_state=0``) gives a training half;
that half is split again 70/30 (stratified, ``random_state=0``). For each
candidate, every digit in turn trains on its 70% images and the 30% part of
all ten digits is scored; the mean ROC-AUC over digits is printed for the
plain AE and for MemAE, once per model seed (0, 1, 2 by default) and averaged.
The test half is never read. ``docs/demo.md`` holds the table this prints.

Every candidate shares the demo's training settings (Adam 1e-3, batch 16,
60 epochs, 10% validation split, patience 10); they differ in the encoder
(how over-complete the code is) and the memory.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py                  # every candidate
    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py --only demo      # the chosen one
    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py --only "1x1 code, N=400, T=0.1"
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from memae import MemAEDetector
from memae.demo import DEMO_SETTINGS, digits_images


def encoder(channels: tuple[int, ...], kernel: int = 3,
            strides: tuple[int, ...] | None = None) -> dict[str, Any]:
    n = len(channels)
    return {"channels": channels, "kernel_sizes": (kernel,) * n,
            "strides": strides or (2,) * n, "decoder_kernel_sizes": (kernel,) * n}


def candidate(params: dict[str, Any], memory_size: int = 400,
              temperature: float = 0.1) -> dict[str, Any]:
    return {**DEMO_SETTINGS, "memory_size": memory_size,
            "model_params": {**params, "addressing": "cosine", "temperature": temperature}}


# Code geometry on 8x8 digits: three stride-2 stages give a 1x1 code (64 values,
# as many as pixels), two a 2x2 code, one a 4x4 code (512 values for 32 channels:
# over-complete, the regime of the paper's MNIST net, 4x4x64 for 28x28 pixels).
CANDIDATES: dict[str, dict[str, Any]] = {
    "1x1 code (16-32-64), N=400, T=0.1": candidate(encoder((16, 32, 64))),
    "1x1 code (16-32-64), N=400, T=0.05": candidate(encoder((16, 32, 64)), 400, 0.05),
    "1x1 code (16-32-64), N=100, T=0.1": candidate(encoder((16, 32, 64)), 100),
    "1x1 code (16-32-64), N=400, T=0.1, lambda=3/N": {
        **candidate(encoder((16, 32, 64))), "shrink_threshold": 3 / 400},
    "1x1 code (16-32-64), N=400, T=0.1, Adam 3e-3, 100 epochs": {
        **candidate(encoder((16, 32, 64))), "learning_rate": 3e-3, "epochs": 100},
    "2x2 code (8-16), N=400, T=0.1": candidate(encoder((8, 16))),
    "2x2 code (16-32), N=100, T=0.05": candidate(encoder((16, 32)), 100, 0.05),
    "2x2 code (32-64), N=400, T=0.1": candidate(encoder((32, 64))),
    "4x4 code (16-32, strides 2-1), N=400, T=0.1": candidate(encoder((16, 32), strides=(2, 1))),
    "4x4 code (32, kernel 5), N=400, T=0.1": candidate(encoder((32,), kernel=5)),
    "4x4 code (64), N=400, T=0.1": candidate(encoder((64,))),
    "4x4 code (32), N=400, T=0.1": candidate(encoder((32,))),
    "4x4 code (32), N=100, T=0.05": candidate(encoder((32,)), 100, 0.05),
    "4x4 code (32), N=400, T=0.02": candidate(encoder((32,)), 400, 0.02),
    "4x4 code (32), N=400, T=0.05": candidate(encoder((32,)), 400, 0.05),
}


def selection_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = digits_images()
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    return train_test_split(X_train, y_train, test_size=0.3, stratify=y_train, random_state=0)


def mean_auc(settings: dict[str, Any], split: tuple, seed: int) -> float:
    X_fit, X_val, y_fit, y_val = split
    aucs = []
    for digit in range(10):
        detector = MemAEDetector(**settings, random_state=seed, device="cpu")
        detector.fit(X_fit[y_fit == digit])
        aucs.append(roc_auc_score(y_val != digit, detector.decision_function(X_val)))
    return float(np.mean(aucs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None,
                        help="one candidate's name, or 'demo' for the demo's own settings")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="model seeds (default: 0 1 2)")
    args = parser.parse_args()
    candidates = {**CANDIDATES, "demo": DEMO_SETTINGS}
    if args.only is not None and args.only not in candidates:
        parser.error(f"--only: got {args.only!r}; expected 'demo' or one of {list(CANDIDATES)}")
    names = [args.only] if args.only else list(CANDIDATES)
    seeds = args.seeds
    torch.set_num_threads(1)
    split = selection_split()
    print("| candidate | AE (per seed) | MemAE (per seed) | AE mean | MemAE mean |")
    print("|---|---|---|---|---|")
    for name in names:
        started = time.perf_counter()
        cells = []
        for memory in (False, True):
            settings = {**candidates[name], "memory": memory}
            cells.append([mean_auc(settings, split, seed) for seed in seeds])
        ae, mem = cells
        print(f"| {name} | {' / '.join(f'{a:.4f}' for a in ae)} | "
              f"{' / '.join(f'{a:.4f}' for a in mem)} | {np.mean(ae):.4f} | "
              f"{np.mean(mem):.4f} |  <!-- {time.perf_counter() - started:.0f} s -->",
              flush=True)


if __name__ == "__main__":
    main()
