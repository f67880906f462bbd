"""Every registered model: shapes, gradients, ablations, errors."""

from __future__ import annotations

import json

import pytest
import torch

from memae.models import create_model, list_models, model_config


def _input(name: str) -> torch.Tensor:
    config = model_config(name, in_features=10) if name.startswith("mlp") else model_config(name)
    if name.startswith("mlp"):
        return torch.randn(4, 10)
    if config.spatial_dims == 3:
        return torch.randn(2, config.in_channels, 16, 32, 32)
    size = 32 if config.in_channels == 3 else 28
    return torch.randn(3, config.in_channels, size, size)


def _create(name: str, **kwargs) -> torch.nn.Module:
    if name.startswith("mlp"):
        kwargs.setdefault("in_features", 10)
    return create_model(name, **kwargs)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("variant", [{}, {"memory": False}, {"shrink_threshold": 0.0}])
def test_forward_backward_no_nan(name: str, variant: dict) -> None:
    torch.manual_seed(0)
    model = _create(name, **variant)
    x = _input(name)
    out = model(x)
    assert out.reconstruction.shape == x.shape
    assert (out.weights is None) == (variant.get("memory") is False)
    loss = ((out.reconstruction - x) ** 2).mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_paper_shapes() -> None:
    mnist = create_model("conv2d_mnist")
    assert mnist.memory.items.shape == (100, 64)
    assert mnist(torch.randn(1, 1, 28, 28)).weights.shape == (1, 100, 4, 4)
    cifar = create_model("conv2d_cifar10")
    assert cifar.memory.items.shape == (500, 256)
    video = create_model("conv3d")
    assert video.memory.items.shape == (2000, 256)
    assert video.memory.shrink_threshold == 0.0025
    kdd = create_model("mlp_kdd99", in_features=118)
    assert kdd.memory.items.shape == (50, 3)


def test_unknown_name_lists_known_models() -> None:
    with pytest.raises(ValueError, match="known models: .*conv2d"):
        create_model("resnet")


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['widths'\]"):
        create_model("mlp", in_features=3, widths=(3,))


@pytest.mark.parametrize("name", list_models())
def test_spec_rebuilds_the_same_model(name: str) -> None:
    torch.manual_seed(0)
    model = _create(name, memory_size=20).eval()
    with torch.no_grad():  # weights no initialisation would give, as after training
        for parameter in model.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    spec = json.loads(json.dumps(model.spec()))  # as a model file stores it: lists, no tuples
    torch.manual_seed(1)
    rebuilt = create_model(name, **spec["config"]).eval()
    assert rebuilt.config == model.config and rebuilt.family == model.family
    rebuilt.load_state_dict(model.state_dict())  # strict: the same layers, names and shapes
    weights, again = model.state_dict(), rebuilt.state_dict()
    assert weights.keys() == again.keys()
    assert all(torch.equal(weights[key], again[key]) for key in weights)
    x = _input(name)
    with torch.no_grad():
        first, second = model(x), rebuilt(x)
    assert torch.equal(first.reconstruction, second.reconstruction)
    assert torch.equal(first.weights, second.weights)
