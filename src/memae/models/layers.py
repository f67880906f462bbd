"""Small building blocks shared by the model families."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu", "elu", "sigmoid")


def activation(name: str, negative_slope: float = 0.2) -> nn.Module:
    """An activation module by name (``leaky_relu`` uses ``negative_slope``)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    if name == "elu":
        return nn.ELU()
    if name == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}.")


def output_activation(name: str | None) -> nn.Module:
    """Identity for ``None`` (the paper's linear output), else :func:`activation`."""
    return nn.Identity() if name is None else activation(name)


def per_layer(value: int | Sequence[int], n_layers: int, name: str) -> tuple[int, ...]:
    """Broadcast an int to every layer, or check a sequence has one entry per layer."""
    if isinstance(value, int):
        return (value,) * n_layers
    values = tuple(value)
    if len(values) != n_layers:
        raise ValueError(
            f"{name} needs one entry per layer ({n_layers}), got {values!r}."
        )
    return values


