"""How the demo configuration is chosen: the selection split of the training half only.

The demo's stratified 50/50 split (``random_state=0``) gives a training half;
that half is split again 70/30 (stratified, ``random_state=0``). For each
setting, every digit in turn trains on its 70% images and the 30% part of all
ten digits is scored; the mean ROC-AUC over digits is printed for the plain
AE and for MemAE. The test half is never read. ``docs/demo.md`` holds the
tables this prints.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py                 # the full grid
    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py --only demo     # the chosen settings
    OMP_NUM_THREADS=1 python benchmarks/demo_selection.py --only demo --epochs 150 --no-early-stop
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from memae import MemAEDetector
from memae.demo import DEMO_SETTINGS, digits_images

ENCODERS = {
    "conv 16-32 (2x2 code)": (16, 32),
    "conv 16-32-64 (1x1 code)": (16, 32, 64),
    "conv 8-16 (2x2 code)": (8, 16),
}
MEMORY_SIZES = (25, 100, 400)
ADDRESSINGS = {"dot": {}, "cos": {"addressing": "cosine", "temperature": 0.1}}


def selection_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = digits_images()
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    return train_test_split(X_train, y_train, test_size=0.3, stratify=y_train, random_state=0)


def mean_auc(settings: dict, split: tuple) -> float:
    X_fit, X_val, y_fit, y_val = split
    aucs = []
    for digit in range(10):
        detector = MemAEDetector(**settings, random_state=0, device="cpu")
        detector.fit(X_fit[y_fit == digit])
        aucs.append(roc_auc_score(y_val != digit, detector.decision_function(X_val)))
    return float(np.mean(aucs))


def encoder_params(channels: tuple[int, ...]) -> dict:
    n = len(channels)
    return {"channels": channels, "kernel_sizes": (3,) * n, "strides": (2,) * n,
            "decoder_kernel_sizes": (3,) * n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("grid", "demo"), default=None,
                        help="run only the grid or only the demo's own settings")
    parser.add_argument("--epochs", type=int, default=None, help="override the demo's epochs")
    parser.add_argument("--no-early-stop", action="store_true",
                        help="train every epoch (the best epoch is still kept)")
    args = parser.parse_args()
    global DEMO_SETTINGS  # noqa: PLW0603
    if args.epochs is not None:
        DEMO_SETTINGS = {**DEMO_SETTINGS, "epochs": args.epochs}
    if args.no_early_stop:
        DEMO_SETTINGS = {**DEMO_SETTINGS, "patience": None}
    torch.set_num_threads(1)
    split = selection_split()
    if args.only != "demo":
        base = {k: v for k, v in DEMO_SETTINGS.items() if k not in ("model_params", "memory_size")}
        for name, channels in ENCODERS.items():
            params = encoder_params(channels)
            row = [f"AE {mean_auc({**base, 'model_params': params, 'memory': False}, split):.4f}"]
            for size, (label, addressing) in itertools.product(MEMORY_SIZES, ADDRESSINGS.items()):
                settings = {**base, "model_params": {**params, **addressing}, "memory_size": size}
                row.append(f"N={size} {label} {mean_auc(settings, split):.4f}")
            print(f"{name}: " + ", ".join(row), flush=True)
    if args.only != "grid":
        ae = mean_auc({**DEMO_SETTINGS, "memory": False}, split)
        print(f"demo settings: AE {ae:.4f}, MemAE {mean_auc(DEMO_SETTINGS, split):.4f}")


if __name__ == "__main__":
    main()
