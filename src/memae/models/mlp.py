"""Fully connected MemAE for tabular data (the paper's KDDCUP99 model)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from memae.models.autoencoder import MemAutoEncoder, MemoryConfig
from memae.models.layers import activation, output_activation


@dataclass
class MLPConfig(MemoryConfig):
    """``in_features -> hidden... -> latent_dim -> memory -> hidden reversed -> in_features``.

    The paper's KDDCUP99 reading (DAGMM widths): ``in_features=120`` (118 here),
    ``hidden=(60, 30, 10)``, ``latent_dim=3``, ``activation="tanh"``,
    ``memory_size=50``.
    """

    in_features: int = 0
    hidden: tuple[int, ...] = (64, 32)
    latent_dim: int = 8
    activation: str = "tanh"
    batch_norm: bool = False
    dropout: float = 0.0
    output_activation: str | None = None
    memory_size: int = 50


class _Decoder(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, z: Tensor, spatial: tuple[int, ...]) -> Tensor:
        return self.body(z)


def _stack(widths: tuple[int, ...], config: MLPConfig, last_activation: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i == len(widths) - 2:
            layers.append(last_activation)
            break
        if config.batch_norm:
            layers.append(nn.BatchNorm1d(b))
        layers.append(activation(config.activation))
        if config.dropout > 0:
            layers.append(nn.Dropout(config.dropout))
    return nn.Sequential(*layers)


def build_mlp(config: MLPConfig, family: str) -> MemAutoEncoder:
    """Build the fully connected encoder/memory/decoder described by ``config``."""
    if not isinstance(config.in_features, int) or config.in_features < 1:
        raise ValueError(
            f"in_features must be a positive int (the number of columns), got "
            f"{config.in_features!r}; pass create_model('{family}', in_features=X.shape[1])."
        )
    if config.latent_dim < 1 or any(h < 1 for h in config.hidden):
        raise ValueError(
            f"hidden and latent_dim must be positive, got hidden={config.hidden!r}, "
            f"latent_dim={config.latent_dim!r}."
        )
    if not 0 <= config.dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {config.dropout!r}.")
    widths = (config.in_features, *config.hidden, config.latent_dim)
    # The code z is linear (no squashing) so the memory sees its full range.
    encoder = _stack(widths, config, nn.Identity())
    decoder = _Decoder(_stack(widths[::-1], config, output_activation(config.output_activation)))
    return MemAutoEncoder(encoder, decoder, config.build_memory(config.latent_dim),
                          family=family, config=config)
