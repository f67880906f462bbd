"""encoder -> memory -> decoder: the composition, its ablations and its spec."""

from __future__ import annotations

import pytest
import torch

from memae.models import create_model
from memae.models.autoencoder import MemoryConfig


def test_forward_is_decoder_of_the_memory_read_of_the_code() -> None:
    torch.manual_seed(0)
    model = create_model("mlp", in_features=6, latent_dim=3, memory_size=4).eval()
    x = torch.randn(5, 6)
    with torch.no_grad():
        z = model.encoder(x)
        read = model.memory(z)
        expected = model.decoder(read.output, ())
        out = model(x)
    torch.testing.assert_close(out.reconstruction, expected)
    torch.testing.assert_close(out.weights, read.weights)
    assert out.entropy is None  # read without autograd: the entropy is not computed
    assert model(x).entropy is not None


def test_without_memory_the_code_goes_straight_to_the_decoder() -> None:
    torch.manual_seed(0)
    model = create_model("mlp", in_features=6, latent_dim=3, memory=False).eval()
    x = torch.randn(5, 6)
    with torch.no_grad():
        out = model(x)
        torch.testing.assert_close(out.reconstruction, model.decoder(model.encoder(x), ()))
    assert model.memory is None and out.weights is None and out.entropy is None


def test_default_shrink_threshold_is_one_over_n() -> None:
    assert create_model("conv2d", memory_size=40).memory.shrink_threshold == pytest.approx(1 / 40)
    assert MemoryConfig(memory_size=8, shrink_threshold=0.0).build_memory(2).shrink_threshold == 0
    assert MemoryConfig(memory=False).build_memory(2) is None


def test_spec_names_the_family_and_the_whole_config() -> None:
    model = create_model("mlp_kdd99", in_features=118)
    spec = model.spec()
    assert spec["family"] == "mlp_kdd99"
    assert spec["config"]["hidden"] == (60, 30, 10) and spec["config"]["in_features"] == 118
    assert spec["config"]["memory_size"] == 50 and spec["config"]["memory"] is True


def test_forward_with_distance_is_forward_and_the_codes_distance_to_their_read_outs() -> None:
    torch.manual_seed(0)
    model = create_model("conv2d", memory_size=20).eval()
    x = torch.randn(3, 1, 28, 28)
    output, distance = model.forward_with_distance(x)
    plain = model(x)
    torch.testing.assert_close(output.reconstruction, plain.reconstruction)
    z = model.encoder(x)
    expected = ((z - model.memory(z).output) ** 2).sum(dim=1)
    assert distance is not None and distance.shape == z.shape[:1] + z.shape[2:]
    torch.testing.assert_close(distance, expected)
    ae = create_model("conv2d", memory=False).eval()
    assert ae.forward_with_distance(x)[1] is None
