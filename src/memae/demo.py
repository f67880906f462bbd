"""The offline demo: one-class anomaly detection on scikit-learn's 8x8 digits.

Each digit in turn is the normal class. MemAE and the plain autoencoder (the
same encoder, decoder and training settings, without the memory) train on
the normal digits of a stratified training half and score the whole test
half, where the other nine digits are the anomalies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from memae.detector import MemAEDetector

# The paper's regime on 8x8 digits: one stride-2 stage gives a 4x4 grid of
# 32-channel codes (512 values for 64 pixels, over-complete like the paper's
# MNIST net, 4x4x64 for 28x28), where a plain autoencoder can rebuild digits
# it never saw. The memory (400 items, cosine addressing at T=0.05) was chosen
# on a selection split of the training half only, over three model seeds; the
# test half was not looked at. See benchmarks/demo_selection.py and docs/demo.md.
DEMO_SETTINGS: dict[str, Any] = {
    "model": "conv2d",
    "model_params": {"channels": (32,), "kernel_sizes": (3,), "strides": (2,),
                     "decoder_kernel_sizes": (3,), "addressing": "cosine",
                     "temperature": 0.05},
    "memory_size": 400,
    "epochs": 60,
    "batch_size": 16,
    "learning_rate": 1e-3,
    "validation_fraction": 0.1,
    "patience": 10,
}


@dataclass
class DemoResult:
    """Per-digit ROC-AUC for each variant, and the wall time."""

    auc: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def means(self) -> dict[str, float]:
        return {name: float(np.mean(values)) for name, values in self.auc.items()}

    def table(self) -> str:
        names = list(self.auc)
        lines = ["| digit | " + " | ".join(names) + " |",
                 "|---|" + "---|" * len(names)]
        for digit in range(len(self.auc[names[0]])):
            lines.append(f"| {digit} | "
                         + " | ".join(f"{self.auc[n][digit]:.4f}" for n in names) + " |")
        lines.append("| **mean** | "
                     + " | ".join(f"**{self.means()[n]:.4f}**" for n in names) + " |")
        return "\n".join(lines)


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as ``(n, 1, 8, 8)`` float32 in [0, 1], with labels."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), y


def run_demo(seed: int = 0, digits: tuple[int, ...] = tuple(range(10)),
             verbose: bool = False, progress: bool = False) -> DemoResult:
    """Train MemAE and the plain AE for each normal digit; ROC-AUC on the test half.

    ``verbose`` shows each fit's epoch bar; ``progress`` one bar over the
    ``2 * len(digits)`` fits with the last ROC-AUC (neither changes a number).
    """
    X, y = digits_images()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=seed)
    variants = {"AE": {"memory": False}, "MemAE": {"memory": True}}
    result = DemoResult(auc={name: [] for name in variants})
    started = time.perf_counter()
    with tqdm(total=len(digits) * len(variants), desc="demo", unit="fit",
              disable=not progress, leave=False) as bar:
        for digit in digits:
            for name, extra in variants.items():
                bar.set_description(f"demo: digit {digit} normal, {name}")
                detector = MemAEDetector(**DEMO_SETTINGS, **extra, random_state=seed,
                                         device="cpu", verbose=verbose)
                detector.fit(X_train[y_train == digit])
                scores = detector.decision_function(X_test)
                result.auc[name].append(float(roc_auc_score(y_test != digit, scores)))
                bar.set_postfix(auc=f"{result.auc[name][-1]:.4f}")
                bar.update()
    result.seconds = time.perf_counter() - started
    return result
