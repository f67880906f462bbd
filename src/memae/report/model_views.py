"""Pictures of what a trained model does: reconstructions, error maps and its memory.

Memory prototypes. The decoder only ever sees memory read-outs ``z_hat = w M``
(Eq. 3 of the paper). A one-hot addressing ``w = e_i`` at every position reads
out ``m_i`` at every position, so "decode item i with one-hot addressing" and
"decode the constant latent map filled with m_i" are the same input to the
decoder; :func:`decode_prototypes` does exactly that, on the latent grid of a
training-size input. For a conv model each item is a *local* pattern (one
latent position covers a patch of the input), so its decoding is a texture:
the picture shows what the memory stores, not a whole normal sample. For an
MLP the latent is a single position and a decoded item is a full sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from einops import rearrange, reduce

from memae.models.autoencoder import MemAutoEncoder
from memae.report.figures import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["UNUSED_SHARE", "decode_prototypes", "image_grid_figure", "memory_usage",
           "prototype_figure", "usage_figure"]

UNUSED_SHARE = 1e-3
"""An item is unused when its share of all addressing weight is below this
fraction of the uniform share 1/N (with hard shrinkage unused items get
exactly zero weight)."""


@torch.no_grad()
def memory_usage(model: MemAutoEncoder, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Each item's share of the total addressing weight over all positions of ``X``, ``(N,)``.

    ``X`` is in the space the model sees (standardised if the detector scales).
    """
    if model.memory is None:
        raise ValueError("the model has no memory (memory=False); there is no usage to show.")
    device = next(model.parameters()).device
    model.eval()
    total = torch.zeros(model.memory.num_items, dtype=torch.float64)
    for start in range(0, len(X), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(X[start:start + batch_size], np.float32))
        weights = model(x.to(device)).weights  # (B, N, *latent)
        total += reduce(weights.double().cpu(), "b n ... -> n", "sum")
    return (total / total.sum().clamp_min(1e-300)).numpy()


@torch.no_grad()
def decode_prototypes(model: MemAutoEncoder, input_shape: Sequence[int]) -> np.ndarray:
    """Every memory item decoded as a constant latent map, ``(N, *input_shape)``.

    See the module docstring for why this equals one-hot addressing everywhere.
    """
    if model.memory is None:
        raise ValueError("the model has no memory (memory=False); there are no prototypes.")
    device = next(model.parameters()).device
    model.eval()
    probe = torch.zeros((1, *input_shape), device=device)
    latent = model.encoder(probe)  # (1, C, *latent_spatial)
    items = model.memory.items  # (N, C)
    spatial = tuple(latent.shape[2:])  # () for an MLP
    codes = items.reshape(*items.shape, *(1,) * len(spatial)).expand(-1, -1, *spatial)
    codes = codes.contiguous()  # (N, C, *latent_spatial): item i at every position
    return model.decoder(codes, tuple(input_shape[1:])).cpu().numpy()


def _show(ax, image: np.ndarray, **kwargs) -> None:
    picture = rearrange(image, "c h w -> h w c")
    if picture.shape[-1] == 1:
        ax.imshow(picture[..., 0], cmap=kwargs.pop("cmap", "gray"), **kwargs)
    else:
        ax.imshow(np.clip(picture, 0, 1), **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid_figure(inputs: np.ndarray, reconstructions: np.ndarray, errors: np.ndarray,
                      scores: np.ndarray, names: Sequence[str], title: str) -> Figure:
    """Rows: input, reconstruction, squared-error map; one column per sample.

    ``inputs`` and ``reconstructions`` are ``(k, C, H, W)`` in the input's units
    (gray images shown on 0..1); ``errors`` the per-pixel squared error,
    averaged over channels, on one colour scale shared by the grid.
    """
    k = len(inputs)
    fig = new_figure(1.3 * k + 0.8, 4.4)
    axes = fig.subplots(3, k, squeeze=False)
    error_maps = reduce(errors, "k c h w -> k 1 h w", "mean")
    vmax = float(error_maps.max()) or 1.0
    for j in range(k):
        _show(axes[0, j], inputs[j], vmin=0, vmax=1)
        _show(axes[1, j], reconstructions[j], vmin=0, vmax=1)
        _show(axes[2, j], error_maps[j], cmap="inferno", vmin=0, vmax=vmax)
        axes[0, j].set_title(f"{scores[j]:.3g}\n{names[j][-18:]}", fontsize=7)
    for row, label in enumerate(("input", "reconstruction", "squared error")):
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def prototype_figure(prototypes: np.ndarray, share: np.ndarray, limit: int = 48,
                     columns: int = 12) -> Figure:
    """The ``limit`` most used memory items, decoded, most used first, with their share."""
    order = np.argsort(-share)[:limit]
    rows = -(-len(order) // columns)
    fig = new_figure(1.0 * columns, 1.15 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    low, high = np.percentile(prototypes[order], [1, 99])
    for ax, item in zip(axes, order, strict=False):
        _show(ax, (prototypes[item] - low) / max(high - low, 1e-12), vmin=0, vmax=1)
        ax.set_title(f"#{item} {100 * share[item]:.1f}%", fontsize=7)
    for ax in axes[len(order):]:
        ax.set_visible(False)
    fig.suptitle(f"Memory items decoded (the {len(order)} most used of {len(share)})",
                 fontsize=10)
    return fig


def usage_figure(share: np.ndarray) -> Figure:
    """Bar per item (sorted by usage) of its share of the addressing weight; unused counted."""
    n = len(share)
    unused = int((share < UNUSED_SHARE / n).sum())
    fig = new_figure(6.4, 3.4)
    ax = fig.add_subplot()
    ordered = np.sort(share)[::-1]
    ax.bar(np.arange(n), 100 * ordered, width=1.0, color="#3b75af")
    ax.axhline(100 / n, color="#333333", linestyle="--", linewidth=0.8,
               label=f"uniform share 1/N = {100 / n:.2g}%")
    ax.set(xlabel="memory item (sorted by usage)", ylabel="share of addressing weight (%)",
           title=f"Memory usage: {n - unused} of {n} items used, {unused} unused")
    ax.legend()
    return fig
