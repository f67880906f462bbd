"""The encoder -> memory -> decoder composition shared by every model family."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from torch import Tensor, nn

from memae.memory import Memory


class AutoEncoderOutput(NamedTuple):
    """What every model's ``forward`` returns.

    Attributes
    ----------
    reconstruction:
        Same shape as the input.
    weights:
        Memory addressing weights ``(B, N, *latent_spatial)``; ``None`` for the
        plain autoencoder (``memory=False``).
    entropy:
        Mean addressing entropy over the code's positions, the paper's Eq. (9);
        ``None`` without a memory or when it was read without autograd.
    """

    reconstruction: Tensor
    weights: Tensor | None
    entropy: Tensor | None = None


@dataclass
class MemoryConfig:
    """Fields shared by every family: the memory and its ablations.

    ``memory=False`` gives the plain autoencoder with the same encoder and
    decoder; ``shrink_threshold=0`` turns hard shrinkage off (MemAE-nonSpar, which
    also drops the entropy loss in training: :mod:`memae.ablation`).
    ``shrink_threshold=None`` means ``1 / memory_size``, the lower end of the paper's
    range.
    """

    memory: bool = True
    memory_size: int = 100
    shrink_threshold: float | None = None
    addressing: str = "dot"
    temperature: float = 1.0

    def build_memory(self, dim: int) -> Memory | None:
        """The :class:`Memory` for codes of width ``dim``, or ``None`` when ``memory`` is off."""
        if not self.memory:
            return None
        threshold = (
            1.0 / self.memory_size if self.shrink_threshold is None else self.shrink_threshold
        )
        return Memory(
            self.memory_size,
            dim,
            shrink_threshold=threshold,
            addressing=self.addressing,  # type: ignore[arg-type]
            temperature=self.temperature,
        )


class MemAutoEncoder(nn.Module):
    """``decoder(memory(encoder(x)))``; the memory is skipped when absent.

    Families build the encoder and decoder: the encoder maps ``x`` to a
    channel-first code, the decoder maps the code back and is also given the
    input's spatial size ``x.shape[2:]`` (empty for tabular data), so conv
    decoders can match any input size. ``family`` and ``config`` are kept so a
    checkpoint can rebuild the model from its JSON alone.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        memory: Memory | None,
        *,
        family: str,
        config: Any,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.memory = memory
        self.decoder = decoder
        self.family = family
        self.config = config

    def spec(self) -> dict[str, Any]:
        """JSON-ready ``{"family": ..., "config": {...}}`` that rebuilds this model."""
        return {"family": self.family, "config": asdict(self.config)}

    def forward(self, x: Tensor) -> AutoEncoderOutput:
        """Encode ``x``, read the memory (if any) and decode to ``x``'s spatial size."""
        return self._run(x, with_distance=False)[0]

    def forward_with_distance(self, x: Tensor) -> tuple[AutoEncoderOutput, Tensor | None]:
        """:meth:`forward`, and how far each code lies from what the memory gives back.

        The second item is ``|z - z_hat|^2`` per latent position, ``(B, *latent_spatial)``:
        the squared distance of the encoder's code to its memory read-out; ``None``
        without a memory.
        """
        return self._run(x, with_distance=True)

    def _run(self, x: Tensor, with_distance: bool) -> tuple[AutoEncoderOutput, Tensor | None]:
        z = self.encoder(x)
        if self.memory is None:
            return AutoEncoderOutput(self.decoder(z, tuple(x.shape[2:])), None), None
        read, weights, entropy = self.memory(z)
        distance = ((z - read) ** 2).sum(dim=1) if with_distance else None
        return AutoEncoderOutput(self.decoder(read, tuple(x.shape[2:])), weights, entropy), \
            distance
