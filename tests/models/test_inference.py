"""Scoring copies: batch norms folded, the same reconstructions, the model left alone."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memae.models import create_model
from memae.models.autoencoder import MemAutoEncoder
from memae.models.inference import for_scoring

NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _with_running_stats(model: MemAutoEncoder, shape: tuple[int, ...]) -> MemAutoEncoder:
    """Batch norms whose running statistics and affine parameters are far from identity."""
    torch.manual_seed(0)
    model.train()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, NORMS):
                module.weight.uniform_(0.5, 2.0)
                module.bias.uniform_(-0.5, 0.5)
        for _ in range(3):
            model(torch.randn(shape) * 2.0 + 0.3)
    return model


MODELS = [
    ("conv3d", {"channels": (4, 8), "kernel_sizes": (3, 3), "strides": ((1, 2, 2), 2),
                "decoder_kernel_sizes": (3, 3), "memory_size": 20}, (3, 1, 8, 12, 16)),
    ("conv2d", {"in_channels": 2, "memory_size": 30}, (4, 2, 28, 28)),
    ("mlp", {"in_features": 12, "hidden": (16, 8), "latent_dim": 4, "batch_norm": True,
             "memory_size": 10}, (32, 12)),
]


@pytest.mark.parametrize(("name", "options", "shape"), MODELS)
def test_folded_copy_reconstructs_as_the_model_does(name: str, options: dict,
                                                    shape: tuple[int, ...]) -> None:
    model = _with_running_stats(create_model(name, **options), shape)
    norms_before = sum(isinstance(m, NORMS) for m in model.modules())
    assert norms_before > 0
    x = torch.randn(shape)
    folded = for_scoring(model)
    assert folded is not model
    assert model.training  # the model keeps its mode and its norms
    assert sum(isinstance(m, NORMS) for m in model.modules()) == norms_before
    assert not any(isinstance(m, NORMS) for m in folded.modules())
    assert not folded.training
    with torch.no_grad():
        expected = model.eval()(x)
        got = folded(x)
    scale = expected.reconstruction.abs().max()
    torch.testing.assert_close(got.reconstruction, expected.reconstruction,
                               atol=1e-5 * float(scale), rtol=0)
    torch.testing.assert_close(got.weights, expected.weights, atol=1e-5, rtol=0)


def test_activation_after_a_folded_norm_runs_in_place() -> None:
    name, options, shape = MODELS[0]
    model = _with_running_stats(create_model(name, **options), shape)
    folded = for_scoring(model)
    activations = [m for m in folded.modules() if isinstance(m, nn.LeakyReLU)]
    assert activations and all(m.inplace for m in activations)
    assert not any(m.inplace for m in model.modules() if isinstance(m, nn.LeakyReLU))


def test_model_without_norms_is_scored_as_it_is() -> None:
    model = create_model("mlp", in_features=5, memory_size=4).train()
    assert for_scoring(model) is model
    assert not model.training


def test_norm_without_running_statistics_is_kept() -> None:
    model = create_model("conv2d", in_channels=1, memory_size=8)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.track_running_stats = False
            module.running_mean = module.running_var = None
    x = torch.randn(3, 1, 28, 28)
    folded = for_scoring(model)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in folded.modules()) == sum(
        isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with torch.no_grad():
        torch.testing.assert_close(folded(x).reconstruction, model.eval()(x).reconstruction)
