"""Train a video MemAE on clips of normal frames (Gong et al., ICCV 2019, Sec. 4.2).

The objective is the paper's Eq. (10): the clip's mean squared reconstruction error plus
``alpha`` times the entropy of the memory addressing weights, minimised with Adam.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from memae.models import MemAutoEncoder, create_model
from memae.training import objective
from memae.video.clips import ClipDataset
from memae.video.config import VideoConfig
from memae.video.frames import VideoClip
from memae.video.reference import ErrorReference, fit_error_reference, normalize_map
from memae.video.score import smooth_map, window_errors

logger = logging.getLogger(__name__)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AMX tiles or AVX-512 BF16).

    Elsewhere (e.g. AVX2-only CPUs) bf16 autocast is emulated: several times slower than
    float32 (``benchmarks/video_step_timing.py``).
    """
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def _warn_if_emulated_bf16(config: VideoConfig, device: torch.device) -> None:
    if config.precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            f"precision='bf16': this CPU (capability {torch.backends.cpu.get_cpu_capability()})"
            " has no native bf16 (AMX or AVX-512 BF16), so bf16 autocast is emulated and "
            "several times slower than float32; train with precision='fp32' here",
            RuntimeWarning, stacklevel=3)

# Training windows used to calibrate the display scale of anomaly maps after training.
N_REFERENCE_WINDOWS = 32


@dataclass
class VideoModel:
    """A trained video model with the configuration that scores frames like it was trained.

    Attributes
    ----------
    model : MemAutoEncoder
        The network, in eval mode.
    config : VideoConfig
        Input size, clip length, normalisation and score settings.
    training : dict
        ``epoch_loss``, ``epoch_mse`` (per epoch), ``epoch_val_mse`` (per epoch, only with
        held-out clips), ``steps``, ``seconds``,
        ``n_windows`` and ``map_scale`` (99.9th percentile of smoothed per-pixel errors on
        training windows: the top of the colour scale of overlays).
    reference : ErrorReference or None
        Per-pixel error levels on the training clips, fitted after training when
        ``config.score_normalization`` is not ``"none"``.
    """

    model: MemAutoEncoder
    config: VideoConfig
    training: dict[str, Any] = field(default_factory=dict)
    reference: ErrorReference | None = None


def build_video_model(config: VideoConfig) -> MemAutoEncoder:
    """The untrained network of ``config``, initialised from ``config.seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return create_model(config.model, **config.network_params)


def train_video_model(
    config: VideoConfig,
    clips: Sequence[VideoClip],
    *,
    device: str | torch.device = "cpu",
    max_steps: int | None = None,
    progress: bool = False,
    val_clips: Sequence[VideoClip] | None = None,
) -> VideoModel:
    """Train the model of ``config`` on windows of ``clips`` (all frames assumed normal).

    Parameters
    ----------
    config : VideoConfig
        Model, input size, clip sampling and optimiser settings.
    clips : sequence of VideoClip
        Training clips; each must be at least one window span long.
    device : str or torch.device, default "cpu"
        Where to train.
    max_steps : int, optional
        Stop after this many optimiser steps (smoke tests); ``None`` runs every epoch.
    progress : bool, default False
        Show a progress bar over batches.
    val_clips : sequence of VideoClip, optional
        Held-out normal clips: after every epoch, the mean squared reconstruction error of
        their non-overlapping windows (stride ``clip_length``, eval mode) is recorded as
        ``training["epoch_val_mse"]``. It needs no labels and shows under- or over-fitting;
        it does not change training.

    Returns
    -------
    VideoModel
        The trained model (eval mode) with its config and training summary and, when
        ``config.score_normalization`` asks for one, the per-pixel error reference of
        ``clips`` (sliding windows, :func:`memae.video.fit_error_reference`).
    """
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps: got {max_steps}; expected a positive integer or None")
    device = torch.device(device)
    _warn_if_emulated_bf16(config, device)
    dataset = ClipDataset(clips, length=config.clip_length, stride=config.train_stride,
                          step=config.frame_step, size=config.size,
                          cache_frames=config.cache_frames, signal=config.input_signal)
    model = build_video_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate,
                                 weight_decay=config.weight_decay)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(config.seed),
                        num_workers=config.num_workers,
                        persistent_workers=config.num_workers > 0)
    summary: dict[str, Any] = {"epoch_loss": [], "epoch_mse": [], "n_windows": len(dataset)}
    held_out = None
    if val_clips:
        held_out = ClipDataset(val_clips, length=config.clip_length, stride=config.clip_length,
                               step=config.frame_step, size=config.size,
                               cache_frames=config.cache_frames,
                               signal=config.input_signal)
        summary["epoch_val_mse"] = []
    steps, began = 0, time.perf_counter()
    total = config.epochs * len(loader) if max_steps is None else max_steps
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
                 if config.lr_schedule == "cosine" else None)
    bar = tqdm(total=total, desc="training", unit="batch", disable=not progress, leave=False)
    for epoch in range(config.epochs):
        model.train()
        loss_sum = mse_sum = 0.0
        seen = 0
        for batch in loader:
            x = batch.frames.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16,
                                enabled=config.precision == "bf16"):
                loss, mse = objective(model, x, config.entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            batch_loss, batch_mse = torch.stack([loss.detach(), mse.detach()]).tolist()
            loss_sum += batch_loss * len(x)
            mse_sum += batch_mse * len(x)
            seen += len(x)
            steps += 1
            bar.update()
            if max_steps is not None and steps >= max_steps:
                break
        summary["epoch_loss"].append(loss_sum / seen)
        summary["epoch_mse"].append(mse_sum / seen)
        if held_out is not None:
            summary["epoch_val_mse"].append(held_out_mse(model, held_out, device))
        if not math.isfinite(summary["epoch_loss"][-1]):
            raise FloatingPointError(
                f"training diverged at epoch {epoch + 1} (loss {summary['epoch_loss'][-1]}); "
                "lower learning_rate"
            )
        logger.info("epoch %d/%d: loss %.5f, mse %.5f, held-out mse %s, %.0f s", epoch + 1,
                    config.epochs, summary["epoch_loss"][-1], summary["epoch_mse"][-1],
                    summary.get("epoch_val_mse", ["n/a"])[-1], time.perf_counter() - began)
        if max_steps is not None and steps >= max_steps:
            break
    bar.close()
    model.eval()
    summary.update(steps=steps, seconds=time.perf_counter() - began,
                   final_learning_rate=optimizer.param_groups[0]["lr"])
    reference = None
    if config.score_normalization != "none":
        began = time.perf_counter()
        reference = fit_error_reference(model, clips, config, device=device)
        summary["reference_seconds"] = time.perf_counter() - began
    summary["map_scale"] = _map_scale(model, dataset, config, device, reference)
    return VideoModel(model, config, summary, reference)


@torch.no_grad()
def held_out_mse(model: MemAutoEncoder, dataset: ClipDataset,
                 device: str | torch.device = "cpu", batch_size: int = 8) -> float:
    """Mean squared reconstruction error over every window of ``dataset``, in eval mode.

    The model is left in eval mode; the training loop puts it back in train mode.
    """
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(dataset), batch_size):
        items = range(start, min(start + batch_size, len(dataset)))
        x = torch.stack([dataset[i].frames for i in items]).to(device)
        total += float(window_errors(model, x).sum())
        count += x.numel()
    return total / count


def _map_scale(model: MemAutoEncoder, dataset: ClipDataset, config: VideoConfig,
               device: torch.device, reference: ErrorReference | None) -> float:
    """99.9th percentile of the smoothed (and normalised) per-pixel errors on evenly
    spaced training windows: what the anomaly maps of normal footage reach."""
    items = np.unique(np.linspace(0, len(dataset) - 1, N_REFERENCE_WINDOWS).astype(int))
    windows = torch.stack([dataset[int(i)].frames for i in items]).to(device)
    errors = torch.cat([window_errors(model, chunk) for chunk in windows.split(8)]).cpu()
    maps = smooth_map(errors, config.smoothing)
    if reference is not None:
        maps = normalize_map(maps, reference, config.score_normalization)
    return float(np.quantile(maps.numpy(), 0.999))
