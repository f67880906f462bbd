"""The training loop: Adam on reconstruction MSE + alpha * addressing entropy."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from memae.memory import addressing_entropy
from memae.models.autoencoder import MemAutoEncoder

logger = logging.getLogger(__name__)


@dataclass
class TrainingHistory:
    """Per-epoch losses and where early stopping settled.

    ``train_loss`` is the full objective (MSE + alpha * entropy);
    ``val_loss`` is the reconstruction MSE on the held-out normal data, the
    quantity early stopping watches (it needs no labels).
    """

    train_loss: list[float] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def batch_indices(n: int, batch_size: int, generator: torch.Generator | None) -> list[np.ndarray]:
    """Shuffled (or ordered, with no generator) index batches covering ``range(n)``.

    A trailing batch of one sample joins the previous batch: batch norm cannot
    normalise a single sample.
    """
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    order_np = order.numpy()
    batches = [order_np[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2] = np.concatenate([batches[-2], batches.pop()])
    return batches


def objective(model: MemAutoEncoder, x: torch.Tensor,
              entropy_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, mse)`` for one batch: the paper's Eq. (10)."""
    reconstruction, weights = model(x)
    mse = F.mse_loss(reconstruction, x)
    if weights is None or entropy_weight == 0:
        return mse, mse
    return mse + entropy_weight * addressing_entropy(weights), mse


@torch.no_grad()
def mean_reconstruction_loss(model: MemAutoEncoder, X: np.ndarray, batch_size: int,
                             device: torch.device) -> float:
    """Mean squared error over every element of ``X``, in eval mode."""
    model.eval()
    total, count = 0.0, 0
    for idx in batch_indices(len(X), batch_size, None):
        x = torch.from_numpy(X[idx]).to(device)
        reconstruction = model(x).reconstruction
        total += F.mse_loss(reconstruction, x, reduction="sum").item()
        count += x.numel()
    return total / count


def train(model: MemAutoEncoder, X_train: np.ndarray, X_val: np.ndarray | None, *,
          epochs: int, batch_size: int, learning_rate: float, weight_decay: float,
          entropy_weight: float, patience: int | None, generator: torch.Generator,
          device: torch.device, verbose: bool = False) -> TrainingHistory:
    """Train ``model`` in place; with ``X_val`` and ``patience``, keep the best epoch.

    Early stopping ends training after ``patience`` epochs without a new best
    validation MSE and restores the weights of the best epoch.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    history = TrainingHistory()
    best_state, best_val, since_best = None, math.inf, 0
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not verbose, leave=False)
    for epoch in bar:
        model.train()
        loss_sum, mse_sum, seen = 0.0, 0.0, 0
        for idx in batch_indices(len(X_train), batch_size, generator):
            x = torch.from_numpy(X_train[idx]).to(device)
            loss, mse = objective(model, x, entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            mse_sum += mse.item() * len(idx)
            seen += len(idx)
        history.train_loss.append(loss_sum / seen)
        history.train_mse.append(mse_sum / seen)
        if not math.isfinite(history.train_loss[-1]):
            raise FloatingPointError(
                f"training diverged at epoch {epoch + 1} (loss {history.train_loss[-1]}); "
                "lower learning_rate or standardise the data (standardize=True)."
            )
        if X_val is None:
            history.best_epoch = epoch + 1
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}")
            continue
        val = mean_reconstruction_loss(model, X_val, max(batch_size, 256), device)
        history.val_loss.append(val)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}", val=f"{val:.4g}")
        if val < best_val:
            best_val, since_best, history.best_epoch = val, 0, epoch + 1
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                history.stopped_early = True
                logger.info("early stopping at epoch %d, best epoch %d",
                            epoch + 1, history.best_epoch)
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
