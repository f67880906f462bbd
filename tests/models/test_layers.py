"""The shared building blocks: activations by name, per-layer settings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memae.models.layers import ACTIVATIONS, activation, output_activation, per_layer


def test_every_activation_name_builds_its_module() -> None:
    x = torch.tensor([-2.0, 0.0, 3.0])
    expected = {"relu": [0.0, 0.0, 3.0], "leaky_relu": [-0.4, 0.0, 3.0],
                "tanh": torch.tanh(x).tolist(), "sigmoid": torch.sigmoid(x).tolist(),
                "gelu": nn.functional.gelu(x).tolist(), "elu": nn.functional.elu(x).tolist()}
    assert set(expected) == set(ACTIVATIONS)
    for name, values in expected.items():
        torch.testing.assert_close(activation(name)(x), torch.tensor(values))
    torch.testing.assert_close(activation("leaky_relu", 0.5)(x), torch.tensor([-1.0, 0.0, 3.0]))
    assert isinstance(output_activation(None), nn.Identity)
    assert isinstance(output_activation("sigmoid"), nn.Sigmoid)
    with pytest.raises(ValueError, match=r"activation must be one of .*got 'swish'"):
        activation("swish")


def test_per_layer_broadcasts_an_int_and_checks_a_sequence() -> None:
    assert per_layer(3, 4, "kernel_sizes") == (3, 3, 3, 3)
    assert per_layer([1, 3], 2, "kernel_sizes") == (1, 3)
    with pytest.raises(ValueError, match=r"strides needs one entry per layer \(3\), got \(2, 2\)"):
        per_layer((2, 2), 3, "strides")
