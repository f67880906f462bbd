"""Model zoo: registered MemAE families and presets."""

from memae.models.autoencoder import AutoEncoderOutput, MemAutoEncoder, MemoryConfig
from memae.models.conv import ConvConfig
from memae.models.mlp import MLPConfig
from memae.models.registry import (
    create_model,
    describe_models,
    list_models,
    model_config,
    register_model,
)

__all__ = [
    "AutoEncoderOutput",
    "ConvConfig",
    "MLPConfig",
    "MemAutoEncoder",
    "MemoryConfig",
    "create_model",
    "describe_models",
    "list_models",
    "model_config",
    "register_model",
]
