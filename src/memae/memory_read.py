"""The memory read in one pass: addressing, hard shrinkage, re-normalisation and entropy.

For queries ``q`` (P, C), keys ``K`` and values ``V`` (N, C) the paper's read is
``w = softmax(q K^T)``, the hard shrinkage of Eq. (7)
``w_i <- max(w_i - lambda, 0) * w_i / (|w_i - lambda| + eps)``, the L1
re-normalisation of Eq. (8) and ``z_hat = w V``. Away from the threshold the
shrinkage keeps ``w_i`` (to within ``eps / (w_i - lambda)``) where ``w_i > lambda``
and zeroes it elsewhere, so the re-normalised weights are a softmax restricted
to the kept items: ``w'_i = exp(l_i - logsumexp_{j kept} l_j)``. Its entropy is
``-sum_i w'_i log w'_i``, with no log of zero, and its gradient is the softmax
gradient on the kept items and zero on the others: the ``eps -> 0`` limit of
Eq. (7), without the derivative ``1 + eps (lambda - eps) / (w - lambda + eps)^2``
that spikes where float rounding puts ``w_i`` next to ``lambda``.

:func:`read_memory` computes this for a block of rows at a time, so that each
intermediate (rows x N) stays in the CPU's cache, keeps only the weights for the
backward pass and writes the backward by hand (:class:`FusedMemoryRead`). A block
that keeps few of its weights (a trained memory keeps a few items per position)
gathers them for the read-out and the backward instead of multiplying (rows x N)
matrices that are mostly zeros.
Without autograd it does the least work: no entropy, nothing saved, in place.
Under tracing or export (ONNX, ``torch.compile``) it is the same arithmetic as
plain tensor operations (:func:`read_memory_graph`), whose autograd gradient is
the same restricted-softmax gradient.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Elements of one (rows x N) block on the CPU: 2 MiB of float32, which stays in a
# core's L2 or near it; larger blocks save per-block overhead (benchmarks/memory_speed.py).
CPU_BLOCK_ELEMENTS = 2**19
# Below these shares of nonzero weights a block gathers its kept items instead of
# multiplying dense (rows x N) matrices: in the backward (four products saved) and in the
# read-out (one product saved). Measured on one CPU core, where a gather costs tens of
# multiply-adds (benchmarks/memory_speed.py).
SPARSE_BACKWARD_DENSITY = 0.015
SPARSE_READ_DENSITY = 0.005


class Read(NamedTuple):
    """What :func:`read_memory` returns.

    Attributes
    ----------
    output:
        ``w' V``, (P, C).
    weights:
        ``w'``, (P, N): zero where the softmax weight was not above ``lambda``,
        each row summing to one (or all zero when no weight of the row was).
    entropy:
        ``-sum_i w'_i log w'_i`` per row, (P,); ``None`` on the inference path.
    """

    output: Tensor
    weights: Tensor
    entropy: Tensor | None


def _block_rows(rows: int, items: int, device: torch.device) -> int:
    if device.type != "cpu":
        return max(rows, 1)
    return max(1, min(rows, CPU_BLOCK_ELEMENTS // max(items, 1)))


def _blocks(rows: int, items: int, device: torch.device) -> list[slice]:
    step = _block_rows(rows, items, device)
    return [slice(start, min(rows, start + step)) for start in range(0, rows, step)]


NonZero = tuple[Tensor, Tensor, Tensor]  # rows, items and values of a block's nonzero weights


def _forward_block(queries: Tensor, keys_t: Tensor, values: Tensor, threshold: float,
                   weights: Tensor, output: Tensor, entropy: Tensor | None,
                   for_backward: bool) -> NonZero | None:
    """One block of the read into ``weights``, ``output`` (and ``entropy``), in place.

    Returns the block's nonzero weights when few enough for the sparse backward
    (``for_backward``) or for a gathered read, else ``None``.
    """
    torch.mm(queries, keys_t, out=weights)
    torch.ops.aten._softmax.out(weights, -1, False, out=weights)
    if threshold <= 0:  # nonSpar: every weight is kept, nothing to re-normalise
        torch.mm(weights, values, out=output)
        if entropy is not None:
            entropy.copy_(_entropy(weights))
        return None
    nonzero = _few_kept(weights, threshold, SPARSE_BACKWARD_DENSITY if for_backward
                        else SPARSE_READ_DENSITY)
    if nonzero is not None and len(nonzero[0]) <= SPARSE_READ_DENSITY * weights.numel():
        rows, items = nonzero
        flat = rows * weights.shape[1] + items
        kept_weights = weights.view(-1).index_select(0, flat)
        # A row with every weight under the threshold has no entry and stays all zero.
        total = torch.zeros_like(weights[:, 0]).index_add_(0, rows, kept_weights)
        kept_weights /= total.index_select(0, rows)
        weights.zero_().view(-1).index_copy_(0, flat, kept_weights)
        output.zero_().index_add_(0, rows, values.index_select(0, items) * kept_weights[:, None])
        if entropy is not None:
            entropy.zero_().index_add_(0, rows, torch.special.xlogy(kept_weights, kept_weights))
            entropy.neg_()
        return rows, items, kept_weights
    F.threshold(weights, threshold, 0.0, inplace=True)
    weights.div_(weights.sum(dim=-1, keepdim=True).clamp_min_(torch.finfo(weights.dtype).tiny))
    torch.mm(weights, values, out=output)
    if entropy is not None:
        entropy.copy_(_entropy(weights))
    if for_backward and nonzero is not None:
        rows, items = nonzero
        return rows, items, weights.view(-1).index_select(0, rows * weights.shape[1] + items)
    return None


def _few_kept(weights: Tensor, threshold: float, share: float) -> tuple[Tensor, Tensor] | None:
    """Rows and items of a block's weights above ``threshold`` (as ``nonzero``), or ``None``.

    ``None`` when they are more than ``share`` of the block, or off the CPU.
    """
    if weights.device.type != "cpu":  # dense products are cheap there; counting would sync
        return None
    # Chunks of items whose maximum is found in one pass; only the chunks that hold a
    # kept weight are looked into. Every kept weight lies in such a chunk, so more such
    # chunks than ``share`` allows means more kept weights, too.
    limit = share * weights.numel()
    rows_n, items_n = weights.shape
    # Large memories: chunk c holds items c, c + s, c + 2 s, ... for up to 16 slices of
    # s >= 128 items, maxima taken across slices in full vector lanes. Small ones:
    # contiguous chunks, maxima by max-pooling.
    pieces = max([p for p in range(2, 17) if items_n % p == 0 and items_n // p >= 128],
                 default=1)
    if pieces > 1:
        chunked = weights.view(rows_n, pieces, -1).transpose(1, 2)  # (rows, chunks, pieces)
        maxima = chunked.amax(dim=2)
    else:
        width = next(w for w in (16, 8, 4, 2, 1) if items_n % w == 0)
        chunked = weights.view(rows_n, -1, width)
        maxima = F.max_pool1d(weights.unsqueeze(1), width, width).squeeze(1)
    held = maxima > threshold
    if torch.count_nonzero(held) > limit:
        return None
    rows, chunks = held.nonzero(as_tuple=True)
    piece, offset = (chunked[rows, chunks] > threshold).nonzero(as_tuple=True)
    if len(piece) > limit:
        return None
    return rows[piece], chunks[piece] * chunked.stride(1) + offset * chunked.stride(2)


def _entropy(weights: Tensor) -> Tensor:
    return torch.special.xlogy(weights, weights).sum(dim=-1).neg_()


class FusedMemoryRead(torch.autograd.Function):
    """Forward and hand-written backward of the read, one block of rows at a time.

    Saves the queries, keys, values, the weights ``w'`` and the per-row entropy
    ``H``. With ``g`` the gradient reaching ``w'`` (from the read-out and from
    the weights themselves) and ``h`` the one reaching ``H``, the gradient of the
    logits is ``w' * (g - <w', g>) - h * (w' log w' + w' H)``: zero wherever
    ``w'`` is, so the backward of a block whose weights are mostly shrunk to zero
    (a trained memory keeps a few items per position) works on its nonzero
    weights only.
    """

    @staticmethod
    def forward(ctx, queries: Tensor, keys: Tensor, values: Tensor,
                threshold: float) -> tuple[Tensor, Tensor, Tensor]:
        """The read-out, the shrunk weights and the per-row entropy of the memory read."""
        rows, items = queries.shape[0], keys.shape[0]
        weights = queries.new_empty(rows, items)
        output = queries.new_empty(rows, values.shape[1])
        entropy = queries.new_empty(rows)
        keys_t = keys.T
        ctx.blocks = [(block, _forward_block(queries[block], keys_t, values, threshold,
                                             weights[block], output[block], entropy[block],
                                             for_backward=True))
                      for block in _blocks(rows, items, queries.device)]
        ctx.save_for_backward(queries, keys, values, weights, entropy)
        ctx.set_materialize_grads(False)
        return output, weights, entropy

    @staticmethod
    def backward(ctx, grad_output: Tensor | None, grad_weights: Tensor | None,
                 grad_entropy: Tensor | None) -> tuple[Tensor | None, ...]:
        """Gradients of the queries, keys and values (``None`` for the threshold)."""
        queries, keys, values, weights, entropy = ctx.saved_tensors
        grad_queries = torch.empty_like(queries)
        grad_keys = torch.zeros_like(keys)
        grad_values = torch.zeros_like(values)
        for block, nonzero in ctx.blocks:
            grads = (None if grad_output is None else grad_output[block],
                     None if grad_weights is None else grad_weights[block],
                     None if grad_entropy is None else grad_entropy[block])
            w, q, h = weights[block], queries[block], entropy[block]
            if nonzero is None:
                _backward_dense(w, q, h, keys, values, grads,
                                grad_queries[block], grad_keys, grad_values)
            else:
                _backward_sparse(nonzero, q, h, keys, values, grads,
                                 grad_queries[block], grad_keys, grad_values)
        return grad_queries, grad_keys, grad_values, None


Grads = tuple[Tensor | None, Tensor | None, Tensor | None]


def _backward_dense(w: Tensor, q: Tensor, h: Tensor, keys: Tensor, values: Tensor,
                    grads: Grads, grad_q: Tensor, grad_keys: Tensor, grad_values: Tensor) -> None:
    grad_output, grad_weights, grad_entropy = grads
    g = torch.zeros_like(w) if grad_weights is None else grad_weights.clone()
    if grad_output is not None:
        g.addmm_(grad_output, values.T)
        grad_values.addmm_(w.T, grad_output)
    grad_logits = torch._softmax_backward_data(g, w, -1, w.dtype)
    if grad_entropy is not None:
        spread = torch.special.xlogy(w, w).addcmul_(w, h[:, None])
        grad_logits.addcmul_(spread, grad_entropy[:, None], value=-1.0)
    torch.mm(grad_logits, keys, out=grad_q)
    grad_keys.addmm_(grad_logits.T, q)


def _backward_sparse(nonzero: tuple[Tensor, Tensor, Tensor], q: Tensor, h: Tensor,
                     keys: Tensor, values: Tensor, grads: Grads, grad_q: Tensor,
                     grad_keys: Tensor, grad_values: Tensor) -> None:
    rows, items, w = nonzero  # the block's nonzero weights, (K,) each
    grad_output, grad_weights, grad_entropy = grads
    g = torch.zeros_like(w) if grad_weights is None else grad_weights[rows, items]
    if grad_output is not None:
        out_rows = grad_output.index_select(0, rows)
        g += (out_rows * values.index_select(0, items)).sum(dim=-1)
        grad_values.index_add_(0, items, out_rows * w[:, None])
    inner = torch.zeros_like(h).index_add_(0, rows, w * g)  # <w', g> per row
    grad_logits = w * (g - inner.index_select(0, rows))
    if grad_entropy is not None:
        spread = torch.special.xlogy(w, w).addcmul_(w, h.index_select(0, rows))
        grad_logits.addcmul_(spread, grad_entropy.index_select(0, rows), value=-1.0)
    grad_q.zero_().index_add_(0, rows, keys.index_select(0, items) * grad_logits[:, None])
    grad_keys.index_add_(0, items, q.index_select(0, rows) * grad_logits[:, None])


@torch.no_grad()
def _read_inference(queries: Tensor, keys: Tensor, values: Tensor, threshold: float) -> Read:
    rows, items = queries.shape[0], keys.shape[0]
    weights = queries.new_empty(rows, items)
    output = queries.new_empty(rows, values.shape[1])
    keys_t = keys.T
    for block in _blocks(rows, items, queries.device):
        _forward_block(queries[block], keys_t, values, threshold, weights[block], output[block],
                       None, for_backward=False)
    return Read(output, weights, None)


def read_memory_graph(queries: Tensor, keys: Tensor, values: Tensor, threshold: float) -> Read:
    """The read as plain, traceable tensor operations (same arithmetic, no blocks)."""
    weights = torch.softmax(queries @ keys.T, dim=-1)
    if threshold > 0:
        weights = torch.where(weights > threshold, weights, 0.0)
        weights = weights / weights.sum(dim=-1, keepdim=True).clamp_min(
            torch.finfo(weights.dtype).tiny)
    # log of the clamped weight: a zero weight adds nothing and gets a finite gradient.
    entropy = -(weights * weights.clamp_min(torch.finfo(weights.dtype).tiny).log()).sum(dim=-1)
    return Read(weights @ values, weights, entropy)


def _tracing() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def read_memory(queries: Tensor, keys: Tensor, values: Tensor, threshold: float) -> Read:
    """Read a memory: ``softmax(queries keys^T)``, shrunk at ``threshold``, times ``values``.

    Parameters
    ----------
    queries:
        (P, C). For cosine addressing, the unit queries divided by the temperature.
    keys, values:
        (N, C). For dot addressing both are the memory items; for cosine
        addressing the keys are the unit items.
    threshold:
        lambda; ``0`` keeps every weight (MemAE-nonSpar).

    Returns
    -------
    Read
        With autograd recording, through :class:`FusedMemoryRead`; without it,
        the same values in place and without the entropy.
    """
    if _tracing():
        return read_memory_graph(queries, keys, values, threshold)
    tensors = (queries, keys, values)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return Read(*FusedMemoryRead.apply(queries, keys, values, float(threshold)))
    return _read_inference(queries, keys, values, float(threshold))
