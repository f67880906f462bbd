"""The training loop: Adam on reconstruction MSE + alpha * addressing entropy.

One loop trains every model of the package: tabular rows and images (an
in-memory array or memory map) and video windows (a lazy
:class:`torch.utils.data.Dataset` read by DataLoader workers) go through the
same :func:`train`, with the same early stopping, checkpoints and resume, data
parallelism, learning-rate schedule, step budget, precision and divergence check.
"""

from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sized
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from memae.machine import cpu_has_native_bf16
from memae.memory import Memory
from memae.models.autoencoder import AutoEncoderOutput, MemAutoEncoder
from memae.pseudo_anomalies import (
    SKIP,
    PseudoAnomalyPlan,
    PseudoAnomalyWindows,
    TrainingPair,
    check_pseudo_anomaly,
    draw_plan,
    no_patches_error,
    paste_patches,
)

logger = logging.getLogger(__name__)


@dataclass
class TrainingHistory:
    """Per-epoch losses, memory health and where early stopping settled.

    ``train_loss`` is the full objective (MSE + alpha * entropy);
    ``val_loss`` is the reconstruction MSE on the held-out normal data, the
    quantity early stopping watches (it needs no labels).
    ``memory_items_used`` counts, per epoch, the memory items that some training
    position gave at least a uniform share ``1 / N`` of its addressing weight (with
    ``lambda >= 1/N``: the items that survived the shrinkage somewhere);
    ``memory_entropy`` is the epoch's mean addressing entropy. Both are empty for a
    model without memory.
    """

    train_loss: list[float] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    steps: int = 0
    memory_items_used: list[int] = field(default_factory=list)
    memory_entropy: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The history as JSON-ready data (model files and checkpoints store it so)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingHistory:
        """The history stored by :meth:`to_dict`; fields a file lacks take their defaults."""
        return cls(train_loss=list(data.get("train_loss", [])),
                   train_mse=list(data.get("train_mse", [])),
                   val_loss=list(data.get("val_loss", [])),
                   best_epoch=int(data.get("best_epoch", 0)),
                   stopped_early=bool(data.get("stopped_early", False)),
                   steps=int(data.get("steps", 0) or 0),
                   memory_items_used=[int(v) for v in data.get("memory_items_used", [])],
                   memory_entropy=[float(v) for v in data.get("memory_entropy", [])])


# Fewer used items than this share of the memory is a collapsed addressing.
COLLAPSED_MEMORY_SHARE = 0.05


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


def objective(model: nn.Module, x: torch.Tensor,
              entropy_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, mse)`` for one batch: the paper's Eq. (10).

    ``model`` is a :class:`MemAutoEncoder`, or a ``DistributedDataParallel`` wrapping one.
    """
    loss, mse, _ = _objective(model, x, entropy_weight)
    return loss, mse


def _objective(model: nn.Module, x: torch.Tensor, entropy_weight: float,
               target: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, AutoEncoderOutput]:
    output = model(x)
    mse = F.mse_loss(output.reconstruction, x if target is None else target)
    if output.entropy is None or entropy_weight == 0:
        return mse, mse, output
    return mse + entropy_weight * output.entropy, mse, output


def _item_peaks(weights: torch.Tensor) -> torch.Tensor:
    """Each item's largest weight over a batch's positions, ``(N,)``, from ``(B, N, ...)``."""
    return weights.detach().amax(dim=[d for d in range(weights.ndim) if d != 1])


# An epoch loss this many times the error of reconstructing every input as 0 (the
# mean square of the data) is divergence: any model that learns does better than that.
DIVERGENCE_FACTOR = 1000.0


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
    steps:
        Optimiser steps taken (the learning-rate schedule's position).
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
    steps: int = 0


def _global_sums(values: list[float], world_size: int) -> list[float]:
    """Sum ``values`` over the ranks of a data-parallel run (identity on one process)."""
    if world_size == 1:
        return values
    total = torch.tensor(values, dtype=torch.float64)
    torch.distributed.all_reduce(total)
    return total.tolist()


LR_SCHEDULES = ("constant", "cosine")
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainSettings:
    """How :func:`train` optimises: the same fields for every data kind.

    Attributes
    ----------
    epochs, batch_size, learning_rate, weight_decay:
        Adam's settings; ``batch_size`` is the global batch of a data-parallel run.
    entropy_weight:
        alpha of the addressing-entropy term (the paper: 0.0002).
    patience:
        With validation data, stop after this many epochs without a better
        validation MSE (``None``: train every epoch, still keeping the best).
    lr_schedule:
        ``"constant"`` (the paper) or ``"cosine"``: annealed to zero over the
        run's steps, updated every step.
    max_steps:
        Stop after this many optimiser steps (``None``: ``epochs`` decide).
    precision:
        ``"bf16"`` runs forward passes under bfloat16 autocast (weights, the
        optimiser, the memory's softmax and all scoring stay float32); it
        warns on CPUs that only emulate bf16.
    num_workers:
        DataLoader worker processes reading a dataset (arrays need none).
    pseudo_anomaly, pseudo_anomaly_kind:
        The share of training samples replaced by pseudo-anomalies whose target is
        the normal sample they were made from, and their kind
        (:mod:`memae.pseudo_anomalies`); 0 (the paper) trains on the samples as
        they are.
    """

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.0
    entropy_weight: float = 0.0002
    patience: int | None = None
    lr_schedule: str = "constant"
    max_steps: int | None = None
    precision: str = "fp32"
    num_workers: int = 0
    pseudo_anomaly: float = 0.0
    pseudo_anomaly_kind: str = "patch"

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule: got {self.lr_schedule!r}; expected one of "
                             f"{LR_SCHEDULES}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision: got {self.precision!r}; expected one of {PRECISIONS}")
        if self.max_steps is not None and (isinstance(self.max_steps, bool)
                                           or not isinstance(self.max_steps, int)
                                           or self.max_steps < 1):
            raise ValueError(f"max_steps: got {self.max_steps!r}; expected a positive "
                             "integer or None")
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise ValueError(f"num_workers: got {self.num_workers!r}; expected an integer "
                             ">= 0")
        check_pseudo_anomaly(self.pseudo_anomaly, self.pseudo_anomaly_kind)

    @property
    def skips_frames(self) -> bool:
        """Whether some pseudo-anomalies are skip-frame windows."""
        return self.pseudo_anomaly > 0 and self.pseudo_anomaly_kind != "patch"


TrainingData = np.ndarray | Dataset
"""What :func:`train` reads: an array of samples (rows, images or clips), or a
dataset whose items are a tensor or a tuple whose first field is the input
tensor (e.g. :class:`memae.video.ClipSample`)."""


class _SlicedBatches(Sampler[list[int]]):
    """The index batches of one epoch, as a DataLoader ``batch_sampler``.

    Each epoch draws :func:`batch_indices` from the loop's generator in the
    main process (so DataLoader workers never change the order) and yields this
    rank's slice ``idx[rank::world_size]``; the global batch sizes are queued
    for the loss weighting of data-parallel runs. With pseudo-anomalies, the
    same generator draws each global batch's :class:`PseudoAnomalyPlan`, queued
    (this rank's slice) beside the sizes; planned skip-frame windows are yielded
    as the codes :class:`PseudoAnomalyWindows` reads.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator | None,
                 rank: int = 0, world_size: int = 1,
                 settings: TrainSettings | None = None) -> None:
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.rank, self.world_size = rank, world_size
        self.global_sizes: list[int] = []
        self.plans: list[PseudoAnomalyPlan | None] = []
        self.settings = settings if settings is not None and settings.pseudo_anomaly > 0 \
            else None

    def __iter__(self) -> Iterator[list[int]]:
        for idx in batch_indices(self.n, self.batch_size, self.generator,
                                 min_size=self.world_size):
            self.global_sizes.append(len(idx))
            local = slice(self.rank, None, self.world_size)
            if self.settings is None or self.generator is None:
                self.plans.append(None)
                yield idx[local].tolist()
                continue
            plan = draw_plan(len(idx), self.settings.pseudo_anomaly,
                             self.settings.pseudo_anomaly_kind, self.generator)
            skipped = (plan.kind == SKIP).numpy()
            codes = idx.copy()
            codes[skipped] += self.n * (1 + plan.skip.numpy()[skipped])
            self.plans.append(plan[local])
            yield codes[local].tolist()

    def __len__(self) -> int:
        return len(batch_indices(self.n, self.batch_size, None, min_size=self.world_size))


class _Batch(NamedTuple):
    input: torch.Tensor  # this rank's share of the global batch
    target: torch.Tensor | None  # what the loss compares with (None: the input)
    global_size: int
    plan: PseudoAnomalyPlan | None


def _batches(data: TrainingData, sampler: _SlicedBatches, loader: DataLoader | None
             ) -> Iterator[_Batch]:
    """Every batch of one epoch, in the sampler's order."""
    if loader is None:
        for local in sampler:
            yield _Batch(torch.from_numpy(data[np.asarray(local, dtype=np.int64)]), None,
                         sampler.global_sizes.pop(0), sampler.plans.pop(0))
        return
    for batch in loader:
        size, plan = sampler.global_sizes.pop(0), sampler.plans.pop(0)
        if isinstance(batch, torch.Tensor):
            yield _Batch(batch, None, size, plan)
        elif isinstance(batch, TrainingPair):
            yield _Batch(batch.input, batch.target, size, plan)
        else:
            yield _Batch(batch[0], None, size, plan)


def _loader(data: TrainingData, sampler: _SlicedBatches, num_workers: int
            ) -> DataLoader | None:
    if isinstance(data, np.ndarray):
        return None
    return DataLoader(data, batch_sampler=sampler, num_workers=num_workers,
                      persistent_workers=num_workers > 0)


@torch.no_grad()
def mean_reconstruction_loss(model: MemAutoEncoder, data: TrainingData, batch_size: int,
                             device: torch.device) -> float:
    """Mean squared error over every element of ``data``, in eval mode."""
    model.eval()
    # torch's Dataset declares no __len__; the datasets train reads all have one.
    sampler = _SlicedBatches(len(cast(Sized, data)), batch_size, None)
    total, count = 0.0, 0
    for batch in _batches(data, sampler, _loader(data, sampler, 0)):
        x = batch.input.to(device)
        reconstruction = model(x).reconstruction
        total += F.mse_loss(reconstruction, x, reduction="sum").item()
        count += x.numel()
    return total / count


def cosine_learning_rate(base: float, step: int, total: int) -> float:
    """The cosine schedule's learning rate before step ``step`` (0-based) of ``total``."""
    return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def warn_if_emulated_bf16(precision: str, device: torch.device) -> None:
    """Warn when bf16 autocast would run emulated (several times slower than float32)."""
    if precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            f"precision='bf16': this CPU (capability {torch.backends.cpu.get_cpu_capability()})"
            " has no native bf16 (AMX or AVX-512 BF16), so bf16 autocast is emulated and "
            "several times slower than float32; train with precision='fp32' here",
            RuntimeWarning, stacklevel=3)


def _warn_if_collapsed(history: TrainingHistory, memory: Memory | None) -> None:
    """Warn when the last epoch used under :data:`COLLAPSED_MEMORY_SHARE` of the items."""
    if memory is None or not history.memory_items_used:
        return
    used, items = history.memory_items_used[-1], memory.num_items
    if used < COLLAPSED_MEMORY_SHARE * items:
        warnings.warn(
            f"the memory addressing collapsed: {used} of {items} items "
            f"({100 * used / items:.1f}%, under {100 * COLLAPSED_MEMORY_SHARE:.0f}%) got at "
            "least a uniform share of some position's weight in the last epoch, so the "
            "decoder sees mixtures of few items; a smaller memory_size (fewer items to "
            "share the data) or a lower shrink_threshold keeps more of them in use.",
            UserWarning, stacklevel=3)


def train(model: nn.Module, data: TrainingData, val_data: TrainingData | None,
          settings: TrainSettings, *, generator: torch.Generator, device: torch.device,
          verbose: bool = False, resume_from: TrainState | None = None,
          on_epoch_end: Callable[[TrainState], None] | None = None,
          rank: int = 0, world_size: int = 1) -> TrainingHistory:
    """Train ``model`` in place; with ``val_data`` and a patience, keep the best epoch.

    Early stopping ends training after ``settings.patience`` epochs without a new
    best validation MSE and restores the weights of the best epoch.

    Parameters
    ----------
    model:
        A :class:`MemAutoEncoder`, or one wrapped in
        ``torch.nn.parallel.DistributedDataParallel`` (then ``rank`` and
        ``world_size`` say which share of every batch this process trains on).
    data, val_data:
        Training samples and held-out normal samples (:data:`TrainingData`).
    generator:
        Draws the order of every epoch's batches (:func:`batch_indices`).
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

    Raises
    ------
    TrainingDivergedError
        An epoch's loss is NaN, infinite or :data:`DIVERGENCE_FACTOR` times the
        mean square of the data it trained on.
    """
    if settings.batch_size < world_size:
        raise ValueError(f"batch_size={settings.batch_size} is smaller than the {world_size} "
                         "processes of this data-parallel run; every rank needs a sample of "
                         "each batch.")
    # The autoencoder itself, or the one a DistributedDataParallel wraps (its .module).
    module = cast(MemAutoEncoder, getattr(model, "module", model))
    warn_if_emulated_bf16(settings.precision, device)
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.learning_rate,
                                 weight_decay=settings.weight_decay)
    history = TrainingHistory()
    best_state, best_val, since_best, start, steps = None, math.inf, 0, 0, 0
    if resume_from is not None:
        module.load_state_dict(resume_from.model)
        optimizer.load_state_dict(resume_from.optimizer)
        generator.set_state(resume_from.generator)
        torch.set_rng_state(resume_from.torch_rng)
        history = copy.deepcopy(resume_from.history)
        best_state, best_val = resume_from.best_model, resume_from.best_val
        since_best, start, steps = resume_from.since_best, resume_from.epoch, resume_from.steps
        if resume_from.finished:
            module.eval()
            return history

    def snapshot(epoch: int, finished: bool = False) -> TrainState:
        return TrainState(epoch, module.state_dict(), optimizer.state_dict(),
                          generator.get_state(), torch.get_rng_state(), best_state,
                          best_val, since_best, history, finished, steps)

    if settings.pseudo_anomaly > 0 and isinstance(data, np.ndarray) and data.ndim < 4 \
            and settings.pseudo_anomaly_kind != "skip_frames":
        raise no_patches_error(data.shape[1:])
    if settings.skips_frames:
        if isinstance(data, np.ndarray):
            raise ValueError(
                f"pseudo_anomaly_kind={settings.pseudo_anomaly_kind!r}: skip-frame "
                "pseudo-anomalies need video windows, not an array of samples; use "
                "'patch' for images, or pseudo_anomaly=0")
        data = PseudoAnomalyWindows(data)
    sampler = _SlicedBatches(len(cast(Sized, data)), settings.batch_size, generator, rank,
                             world_size, settings)
    loader = _loader(data, sampler, settings.num_workers)
    total = settings.epochs * len(sampler)
    if settings.max_steps is not None:
        total = min(total, settings.max_steps)
    autocast = settings.precision == "bf16"
    bar = tqdm(total=total, initial=min(steps, total), desc="training", unit="batch",
               disable=not verbose, leave=False)
    began = time.perf_counter()
    memory = module.memory
    for epoch in range(start, settings.epochs):
        if steps >= total:
            break
        model.train()
        sampler.global_sizes.clear()
        loss_sum, mse_sum, square_sum, entropy_sum = 0.0, 0.0, 0.0, 0.0
        peaks = None if memory is None else torch.zeros(memory.num_items, device=device)
        # Counts of elements and samples; a data-parallel _global_sums sums them as floats.
        elements: float = 0
        seen: float = 0
        for x, target, global_size, plan in _batches(data, sampler, loader):
            if settings.lr_schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = cosine_learning_rate(settings.learning_rate, steps, total)
            x = x.to(device)
            target = None if target is None else target.to(device)
            if plan is not None:
                x, target = paste_patches(x, target, plan)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                loss, mse, output = _objective(model, x, settings.entropy_weight, target)
            optimizer.zero_grad(set_to_none=True)
            if world_size > 1:
                (loss * (len(x) * world_size / global_size)).backward()
            else:
                loss.backward()
            optimizer.step()
            steps += 1
            entropy = output.entropy
            if peaks is not None and output.weights is not None:
                torch.maximum(peaks, _item_peaks(output.weights).float(), out=peaks)
            # One host sync per batch for all four numbers.
            batch_loss, batch_mse, batch_square, batch_entropy = torch.stack([
                loss.detach().double(), mse.detach().double(),
                torch.linalg.vector_norm(x.detach(), dtype=torch.float64) ** 2,
                (entropy.detach() if entropy is not None else loss.new_zeros(())).double(),
            ]).tolist()
            loss_sum += batch_loss * len(x)
            mse_sum += batch_mse * len(x)
            square_sum += batch_square
            entropy_sum += batch_entropy * len(x)
            elements += x.numel()
            seen += len(x)
            bar.update()
            if steps >= total:
                break
        loss_sum, mse_sum, seen, square_sum, elements, entropy_sum = _global_sums(
            [loss_sum, mse_sum, seen, square_sum, elements, entropy_sum], world_size)
        history.train_loss.append(loss_sum / seen)
        history.train_mse.append(mse_sum / seen)
        if peaks is not None:
            if world_size > 1:
                torch.distributed.all_reduce(peaks, op=torch.distributed.ReduceOp.MAX)
            history.memory_items_used.append(int((peaks >= 1.0 / len(peaks)).sum()))
            history.memory_entropy.append(entropy_sum / seen)
        history.steps = steps
        epoch_loss, zero_error = history.train_loss[-1], (square_sum / elements) or 1.0
        if not math.isfinite(epoch_loss) or epoch_loss > DIVERGENCE_FACTOR * zero_error:
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch + 1} (loss {epoch_loss:.4g}, "
                f"{epoch_loss / zero_error:.3g} times that of reconstructing every input as 0); "
                "lower learning_rate or standardise the data (standardize=True)."
            )
        stop = steps >= total
        if val_data is None:
            history.best_epoch = epoch + 1
            bar.set_postfix(epoch=epoch + 1, loss=f"{epoch_loss:.4g}")
        else:
            val = mean_reconstruction_loss(module, val_data, max(settings.batch_size, 256)
                                           if isinstance(val_data, np.ndarray)
                                           else settings.batch_size, device)
            history.val_loss.append(val)
            bar.set_postfix(epoch=epoch + 1, loss=f"{epoch_loss:.4g}", val=f"{val:.4g}")
            if val < best_val:
                best_val, since_best, history.best_epoch = val, 0, epoch + 1
                best_state = copy.deepcopy(module.state_dict())
            else:
                since_best += 1
                if settings.patience is not None and since_best >= settings.patience:
                    history.stopped_early = stop = True
                    logger.info("early stopping at epoch %d, best epoch %d",
                                epoch + 1, history.best_epoch)
        logger.info("epoch %d/%d: loss %.5g, mse %.5g%s, %d steps, %.0f s", epoch + 1,
                    settings.epochs, epoch_loss, history.train_mse[-1],
                    f", validation mse {history.val_loss[-1]:.5g}" if history.val_loss else "",
                    steps, time.perf_counter() - began)
        if on_epoch_end is not None:
            on_epoch_end(snapshot(epoch + 1))
        if stop:
            break
    bar.close()
    if len(history.train_loss) > 1 and history.train_loss[-1] > history.train_loss[0]:
        logger.warning("the training loss grew from %.4g (epoch 1) to %.4g (epoch %d): the "
                       "model did not learn; lower learning_rate.", history.train_loss[0],
                       history.train_loss[-1], len(history.train_loss))
    _warn_if_collapsed(history, memory)
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    if on_epoch_end is not None:
        on_epoch_end(snapshot(len(history.train_loss), finished=True))
    return history
