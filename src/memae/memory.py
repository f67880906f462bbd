"""The MemAE memory layer: addressing, hard shrinkage and the entropy loss.

Gong et al., "Memorizing Normality to Detect Anomaly", ICCV 2019, Sec. 3.3.
Every position of an encoding ``z`` (a row of a tabular code, a pixel of a
feature map, a voxel of a video feature volume) is replaced by a convex
combination of ``N`` learned memory items, so the decoder only ever sees
mixtures of memorised normal patterns.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from einops import pack, rearrange, unpack
from torch import Tensor, nn

from memae.memory_read import Read, read_memory

Addressing = Literal["dot", "cosine"]
ADDRESSINGS: tuple[str, ...] = ("dot", "cosine")
Implementation = Literal["fused", "reference"]
IMPLEMENTATIONS: tuple[str, ...] = ("fused", "reference")

# The paper's epsilon in Eq. (7); it only guards the division when w_i == lambda.
SHRINK_EPS = 1e-12


class MemoryReadout(NamedTuple):
    """What :class:`Memory` returns.

    Attributes
    ----------
    output:
        The read-out ``z_hat = w M``, same shape as the input ``(B, C, *spatial)``.
    weights:
        The addressing weights after shrinkage and re-normalisation,
        channel-first like the input: ``(B, N, *spatial)``.
    entropy:
        The mean addressing entropy over all positions (the paper's Eq. 9), a
        scalar; ``None`` when the read ran without autograd (inference).
    """

    output: Tensor
    weights: Tensor
    entropy: Tensor | None


def hard_shrink_relu(weights: Tensor, threshold: float, eps: float = SHRINK_EPS) -> Tensor:
    """Continuous hard shrinkage of Eq. (7), then L1 re-normalisation (Eq. 8).

    ``w_i <- max(w_i - lambda, 0) * w_i / (|w_i - lambda| + eps)`` keeps weights
    above ``lambda`` (almost unchanged) and zeroes the rest while staying
    differentiable almost everywhere.

    When every weight of a position falls under ``lambda`` (only possible for
    ``lambda > 1/N``, since softmax weights sum to one), the position gets an
    all-zero weight vector and therefore a zero read-out: the re-normalisation
    divides by ``max(sum, eps)``, so there is never a NaN or a division by zero.
    ``threshold == 0`` returns the weights unchanged (MemAE-nonSpar).
    """
    if threshold <= 0:
        return weights
    shifted = weights - threshold
    shrunk = F.relu(shifted) * weights / (shifted.abs() + eps)
    return F.normalize(shrunk, p=1, dim=-1, eps=eps)


def addressing_entropy(weights: Tensor, dim: int = 1, eps: float = SHRINK_EPS) -> Tensor:
    """Mean entropy ``sum_i -w_i log w_i`` of the weights over all positions.

    ``eps`` inside the log keeps the loss and its gradient finite at ``w = 0``
    (``0 * log(eps) = 0``).
    """
    return (-weights * torch.log(weights + eps)).sum(dim=dim).mean()


class Memory(nn.Module):
    """A learned memory of ``num_items`` x ``dim`` addressed by every position.

    Parameters
    ----------
    num_items:
        N, the number of memory items.
    dim:
        C, the channel dimension of the encoding (and of each item).
    shrink_threshold:
        lambda of the hard shrinkage; the paper uses values in ``[1/N, 3/N]``.
        ``0`` disables shrinkage (the paper's MemAE-nonSpar).
    addressing:
        ``"dot"``: ``softmax(z . m_i)``, what the authors' released code does; the
        logits grow with the norms of ``z`` and ``m_i``, so the network can learn
        how peaked the addressing is. ``"cosine"``: ``softmax(cos(z, m_i) / T)``,
        the paper's Eq. (5); logits are bounded by ``1/T``, so the temperature
        ``T`` sets the sharpness (``T = 1`` gives near-uniform weights for large N).
    temperature:
        ``T`` for cosine addressing. Must be 1.0 for dot addressing.
    implementation:
        ``"fused"`` (default): the one-pass read of :mod:`memae.memory_read`, the
        ``eps -> 0`` limit of Eq. (7), with a hand-written backward.
        ``"reference"``: the paper's formulas term by term
        (:func:`hard_shrink_relu`, :func:`addressing_entropy`), for checking
        and timing the fused read. Not saved with the model: a runtime choice.
    """

    def __init__(
        self,
        num_items: int,
        dim: int,
        *,
        shrink_threshold: float = 0.0025,
        addressing: Addressing = "dot",
        temperature: float = 1.0,
        implementation: Implementation = "fused",
    ) -> None:
        super().__init__()
        if not isinstance(num_items, int) or num_items < 1:
            raise ValueError(f"num_items must be a positive int, got {num_items!r}.")
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}.")
        if addressing not in ADDRESSINGS:
            raise ValueError(
                f"addressing must be one of {ADDRESSINGS}, got {addressing!r}."
            )
        if not 0 <= shrink_threshold < 1:
            raise ValueError(
                f"shrink_threshold must be in [0, 1), got {shrink_threshold!r}; "
                f"the paper uses 1/N to 3/N (here {1 / num_items:.4g} to {3 / num_items:.4g})."
            )
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}."
            )
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}.")
        if addressing == "dot" and temperature != 1.0:
            raise ValueError(
                "temperature only applies to addressing='cosine'; "
                f"got temperature={temperature!r} with addressing='dot'."
            )
        self.num_items = num_items
        self.dim = dim
        self.shrink_threshold = float(shrink_threshold)
        self.addressing = addressing
        self.temperature = float(temperature)
        self.implementation = implementation
        # The authors' initialisation: uniform in +-1/sqrt(C).
        bound = 1.0 / math.sqrt(dim)
        self.items = nn.Parameter(torch.empty(num_items, dim).uniform_(-bound, bound))

    def extra_repr(self) -> str:
        """The memory's size, threshold and addressing, as ``print(module)`` shows them."""
        return (
            f"num_items={self.num_items}, dim={self.dim}, "
            f"shrink_threshold={self.shrink_threshold}, addressing={self.addressing!r}"
            + (f", temperature={self.temperature}" if self.addressing == "cosine" else "")
        )

    def _read_reference(self, queries: Tensor) -> Read:
        if self.addressing == "cosine":
            logits = F.normalize(queries, dim=-1) @ F.normalize(self.items, dim=-1).T
            logits = logits / self.temperature
        else:
            logits = queries @ self.items.T
        weights = hard_shrink_relu(logits.softmax(dim=-1), self.shrink_threshold)
        entropy = None
        if torch.is_grad_enabled():  # as addressing_entropy, per position; training only
            entropy = (-weights * torch.log(weights + SHRINK_EPS)).sum(dim=-1)
        return Read(weights @ self.items, weights, entropy)

    def read(self, queries: Tensor) -> Read:
        """Read-outs ``(P, C)``, weights ``(P, N)`` and entropies for queries ``(P, C)``.

        Runs in the items' precision, autocast or not: bf16 would round a logit
        of 50 by 0.2, i.e. its weight by 20%.
        """
        with torch.autocast(queries.device.type, enabled=False):
            queries = queries.to(self.items.dtype)
            if self.implementation == "reference":
                return self._read_reference(queries)
            if self.addressing == "cosine":
                return read_memory(F.normalize(queries, dim=-1) / self.temperature,
                                   F.normalize(self.items, dim=-1), self.items,
                                   self.shrink_threshold)
            return read_memory(queries, self.items, self.items, self.shrink_threshold)

    def forward(self, z: Tensor) -> MemoryReadout:
        """Read the memory at every position of a channel-first ``z``.

        ``z`` is ``(B, C)``, ``(B, C, H, W)``, ``(B, C, T, H, W)`` or any
        ``(B, C, *spatial)``.
        """
        if z.ndim < 2 or z.shape[1] != self.dim:
            raise ValueError(
                f"Memory expects a channel-first tensor (B, {self.dim}, ...), "
                f"got shape {tuple(z.shape)}."
            )
        positions = rearrange(z, "b c ... -> b ... c")
        queries, packed_shape = pack([positions], "* c")  # (P, C)
        read, weights, entropy = self.read(queries)
        (read,) = unpack(read, packed_shape, "* c")
        (weights,) = unpack(weights, packed_shape, "* n")
        return MemoryReadout(
            output=rearrange(read, "b ... c -> b c ..."),
            weights=rearrange(weights, "b ... n -> b n ..."),
            entropy=None if entropy is None else entropy.mean(),
        )
