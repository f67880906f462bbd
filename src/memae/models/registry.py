"""Named model presets: ``create_model(name, **overrides)`` and ``list_models()``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from memae.models.autoencoder import MemAutoEncoder
from memae.models.conv import ConvConfig, build_conv
from memae.models.mlp import MLPConfig, build_mlp


@dataclass(frozen=True)
class ModelEntry:
    """A preset: a config class, the builder, and the preset's field values."""

    config_cls: type
    build: Callable[[Any, str], MemAutoEncoder]
    defaults: dict[str, Any]
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, entry: ModelEntry) -> None:
    """Add a preset; names are unique."""
    if name in _REGISTRY:
        raise ValueError(f"a model named {name!r} is already registered.")
    _REGISTRY[name] = entry


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`, sorted."""
    return sorted(_REGISTRY)


def describe_models() -> dict[str, str]:
    """One line of description per registered model."""
    return {name: _REGISTRY[name].description for name in list_models()}


def _entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_models())}.")
    return _REGISTRY[name]


def model_config(name: str, **overrides: Any) -> Any:
    """The resolved config dataclass of preset ``name`` with ``overrides`` applied."""
    entry = _entry(name)
    known = {f.name for f in dataclasses.fields(entry.config_cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for model {name!r}; valid options: {sorted(known)}."
        )
    values = {**entry.defaults, **overrides}
    # JSON turns tuples into lists; restore them so configs compare equal.
    values = {k: tuple(_tuples(v)) if isinstance(v, list) else v for k, v in values.items()}
    return entry.config_cls(**values)


def _tuples(items: list) -> list:
    return [tuple(_tuples(v)) if isinstance(v, list) else v for v in items]


def create_model(name: str, **overrides: Any) -> MemAutoEncoder:
    """Build a registered model, e.g. ``create_model("conv2d_mnist", memory=False)``.

    Every model takes ``memory=False`` (the plain autoencoder baseline) and
    ``shrink_threshold=0`` (MemAE-nonSpar).
    """
    return _entry(name).build(model_config(name, **overrides), name)


register_model("mlp", ModelEntry(MLPConfig, build_mlp, {"in_features": 0},
                                 "fully connected MemAE for tabular data"))
register_model("mlp_kdd99", ModelEntry(
    MLPConfig, build_mlp,
    {"hidden": (60, 30, 10), "latent_dim": 3, "activation": "tanh", "memory_size": 50},
    "the paper's KDDCUP99 model: DAGMM widths, latent 3, memory 50",
))
register_model("conv2d", ModelEntry(ConvConfig, build_conv, {},
                                    "2-D conv MemAE; defaults are the paper's MNIST net"))
register_model("conv2d_mnist", ModelEntry(
    ConvConfig, build_conv,
    {"in_channels": 1, "channels": (16, 32, 64), "kernel_sizes": (1, 3, 3), "memory_size": 100},
    "the paper's MNIST net: Conv(1,2,16)-Conv(3,2,32)-Conv(3,2,64), memory 100",
))
register_model("conv2d_cifar10", ModelEntry(
    ConvConfig, build_conv,
    {"in_channels": 3, "channels": (64, 128, 256), "kernel_sizes": (3, 3, 3),
     "memory_size": 500},
    "the paper's CIFAR-10 net: Conv(3,2,64)-Conv(3,2,128)-Conv(3,2,256), memory 500",
))
register_model("conv3d", ModelEntry(
    ConvConfig, build_conv,
    {"spatial_dims": 3, "in_channels": 1, "channels": (96, 128, 256, 256),
     "kernel_sizes": (3, 3, 3, 3), "strides": ((1, 2, 2), 2, 2, 2),
     "decoder_kernel_sizes": (3, 3, 3, 3), "activation": "leaky_relu",
     "negative_slope": 0.2, "memory_size": 2000, "shrink_threshold": 0.0025},
    "the authors' video net: 3-D convs 1-96-128-256-256, LeakyReLU 0.2, memory 2000",
))
