"""The training loop: Adam on reconstruction MSE + alpha * addressing entropy."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

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


def batch_indices(n: int, batch_size: int, generator: torch.Generator | None,
                  min_size: int = 2) -> list[np.ndarray]:
    """Shuffled (or ordered, with no generator) index batches covering ``range(n)``.

    A trailing batch of fewer than ``min_size`` (at least 2) samples joins the
    previous batch: batch norm cannot normalise a single sample, and a
    data-parallel run needs a sample for every rank.
    """
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    order_np = order.numpy()
    batches = [order_np[i:i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) < max(min_size, 2):
        last = batches.pop()
        batches[-1] = np.concatenate([batches[-1], last])
    return batches


def objective(model: MemAutoEncoder, x: torch.Tensor,
              entropy_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, mse)`` for one batch: the paper's Eq. (10)."""
    reconstruction, _, entropy = model(x)
    mse = F.mse_loss(reconstruction, x)
    if entropy is None or entropy_weight == 0:
        return mse, mse
    return mse + entropy_weight * entropy, mse


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


# An epoch loss this many times the error of reconstructing every input as 0 (the
# mean square of the data) is divergence: any model that learns does better than that.
DIVERGENCE_FACTOR = 1000.0


def mean_square(X: np.ndarray, chunk_rows: int = 65_536) -> float:
    """Mean of ``X ** 2`` in float64, a chunk of rows at a time (no full-size copy)."""
    total = sum(float(np.square(X[i:i + chunk_rows], dtype=np.float64).sum())
                for i in range(0, len(X), chunk_rows))
    return total / X.size if X.size else 0.0


class TrainingDivergedError(ValueError, FloatingPointError):
    """The loss became NaN, infinite or ``DIVERGENCE_FACTOR`` times the data's mean square.

    A ``ValueError`` so callers treat it as a bad setting.
    """


@dataclass
class TrainState:
    """The training loop's full state after ``epoch`` completed epochs.

    Enough to continue bit for bit where training stopped (see
    :mod:`memae.training_checkpoint`, which stores it as data).

    Attributes
    ----------
    epoch:
        Completed epochs.
    model, best_model:
        ``state_dict`` of the current weights and of the best epoch so far
        (``None`` until a validation loss improved).
    optimizer:
        The optimizer's ``state_dict``.
    generator, torch_rng:
        States of the shuffling generator and of the global torch CPU RNG
        (dropout draws from the latter).
    best_val, since_best:
        Early-stopping bookkeeping.
    history:
        Losses so far.
    finished:
        ``True`` once training ended; ``model`` then holds the final weights.
    """

    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    generator: torch.Tensor
    torch_rng: torch.Tensor
    best_model: dict[str, torch.Tensor] | None
    best_val: float
    since_best: int
    history: TrainingHistory
    finished: bool = False


def _global_sums(values: list[float], world_size: int) -> list[float]:
    """Sum ``values`` over the ranks of a data-parallel run (identity on one process)."""
    if world_size == 1:
        return values
    total = torch.tensor(values, dtype=torch.float64)
    torch.distributed.all_reduce(total)
    return total.tolist()


def train(model: nn.Module, X_train: np.ndarray, X_val: np.ndarray | None, *,
          epochs: int, batch_size: int, learning_rate: float, weight_decay: float,
          entropy_weight: float, patience: int | None, generator: torch.Generator,
          device: torch.device, verbose: bool = False,
          resume_from: TrainState | None = None,
          on_epoch_end: Callable[[TrainState], None] | None = None,
          rank: int = 0, world_size: int = 1) -> TrainingHistory:
    """Train ``model`` in place; with ``X_val`` and ``patience``, keep the best epoch.

    Early stopping ends training after ``patience`` epochs without a new best
    validation MSE and restores the weights of the best epoch.

    Parameters
    ----------
    model:
        A :class:`MemAutoEncoder`, or one wrapped in
        ``torch.nn.parallel.DistributedDataParallel`` (then ``rank`` and
        ``world_size`` say which share of every batch this process trains on).
    resume_from:
        Continue from this state (from :func:`memae.training_checkpoint.load_checkpoint`);
        the result is bitwise that of an uninterrupted run on the CPU.
    on_epoch_end:
        Called with the loop's :class:`TrainState` after every epoch and once
        more at the end (``finished=True``); it must not keep the tensors,
        which are live views of the weights.
    rank, world_size:
        Data parallelism: every global batch (the same on every rank, since the
        shuffling generator is seeded alike) is split ``idx[rank::world_size]``
        and each rank's loss is weighted by its share, so DDP's gradient average
        equals the gradient of the whole batch.
    """
    if batch_size < world_size:
        raise ValueError(f"batch_size={batch_size} is smaller than the {world_size} processes "
                         "of this data-parallel run; every rank needs a sample of each batch.")
    module: MemAutoEncoder = getattr(model, "module", model)
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate,
                                 weight_decay=weight_decay)
    history = TrainingHistory()
    best_state, best_val, since_best, start = None, math.inf, 0, 0
    if resume_from is not None:
        module.load_state_dict(resume_from.model)
        optimizer.load_state_dict(resume_from.optimizer)
        generator.set_state(resume_from.generator)
        torch.set_rng_state(resume_from.torch_rng)
        history = copy.deepcopy(resume_from.history)
        best_state, best_val = resume_from.best_model, resume_from.best_val
        since_best, start = resume_from.since_best, resume_from.epoch
        if resume_from.finished:
            module.eval()
            return history

    def snapshot(epoch: int, finished: bool = False) -> TrainState:
        return TrainState(epoch, module.state_dict(), optimizer.state_dict(),
                          generator.get_state(), torch.get_rng_state(), best_state,
                          best_val, since_best, history, finished)

    zero_error = mean_square(X_train) or 1.0
    bar = tqdm(range(start, epochs), desc="training", unit="epoch", disable=not verbose,
               leave=False, initial=start, total=epochs)
    for epoch in bar:
        model.train()
        loss_sum, mse_sum, seen = 0.0, 0.0, 0
        for idx in batch_indices(len(X_train), batch_size, generator, min_size=world_size):
            local = idx[rank::world_size]
            x = torch.from_numpy(X_train[local]).to(device)
            loss, mse = objective(model, x, entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            if world_size > 1:
                (loss * (len(local) * world_size / len(idx))).backward()
            else:
                loss.backward()
            optimizer.step()
            # One host sync per batch for both numbers.
            batch_loss, batch_mse = torch.stack([loss.detach(), mse.detach()]).tolist()
            loss_sum += batch_loss * len(local)
            mse_sum += batch_mse * len(local)
            seen += len(local)
        loss_sum, mse_sum, seen = _global_sums([loss_sum, mse_sum, seen], world_size)
        history.train_loss.append(loss_sum / seen)
        history.train_mse.append(mse_sum / seen)
        loss = history.train_loss[-1]
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * zero_error:
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch + 1} (loss {loss:.4g}, "
                f"{loss / zero_error:.3g} times that of reconstructing every input as 0); "
                "lower learning_rate or standardise the data (standardize=True)."
            )
        stop = False
        if X_val is None:
            history.best_epoch = epoch + 1
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}")
        else:
            val = mean_reconstruction_loss(module, X_val, max(batch_size, 256), device)
            history.val_loss.append(val)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}", val=f"{val:.4g}")
            if val < best_val:
                best_val, since_best, history.best_epoch = val, 0, epoch + 1
                best_state = copy.deepcopy(module.state_dict())
            else:
                since_best += 1
                if patience is not None and since_best >= patience:
                    history.stopped_early = stop = True
                    logger.info("early stopping at epoch %d, best epoch %d",
                                epoch + 1, history.best_epoch)
        if on_epoch_end is not None:
            on_epoch_end(snapshot(epoch + 1))
        if stop:
            break
    if len(history.train_loss) > 1 and history.train_loss[-1] > history.train_loss[0]:
        logger.warning("the training loss grew from %.4g (epoch 1) to %.4g (epoch %d): the "
                       "model did not learn; lower learning_rate.", history.train_loss[0],
                       history.train_loss[-1], len(history.train_loss))
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    if on_epoch_end is not None:
        on_epoch_end(snapshot(len(history.train_loss), finished=True))
    return history
