"""Batched reconstruction errors: the anomaly score and its per-element explanation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from memae.models.autoencoder import MemAutoEncoder
from memae.models.inference import for_scoring


@torch.no_grad()
def iter_errors(model: MemAutoEncoder, X: np.ndarray, batch_size: int,
                device: torch.device) -> Iterator[np.ndarray]:
    """Squared reconstruction errors, same shape as each batch of ``X``, batch by batch.

    Only one batch lives on the device at a time, so ``X`` may be a memory map
    larger than RAM. Batch norms are folded into the layers before them
    (:func:`memae.models.inference.for_scoring`).
    """
    model = for_scoring(model)
    for start in range(0, len(X), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(X[start:start + batch_size],
                                                  dtype=np.float32)).to(device)
        yield ((model(x).reconstruction - x) ** 2).cpu().numpy()


def sample_scores(model: MemAutoEncoder, X: np.ndarray, batch_size: int,
                  device: torch.device) -> np.ndarray:
    """Mean squared reconstruction error per sample, shape ``(n,)`` float64."""
    scores = [err.reshape(len(err), -1).mean(axis=1, dtype=np.float64)
              for err in iter_errors(model, X, batch_size, device)]
    return np.concatenate(scores) if scores else np.empty(0)


def element_errors(model: MemAutoEncoder, X: np.ndarray, batch_size: int,
                   device: torch.device) -> np.ndarray:
    """Squared error per feature / pixel, same shape as ``X`` (float32)."""
    errors = list(iter_errors(model, X, batch_size, device))
    return np.concatenate(errors) if errors else np.empty((0, *X.shape[1:]), np.float32)
