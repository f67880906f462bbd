"""Memory usage and decoded memory items, on memories whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import torch

from memae import create_model
from memae.report.model_views import decode_prototypes, memory_usage, usage_figure

CONV = {"channels": (4, 8), "kernel_sizes": (3, 3), "strides": (2, 2),
        "decoder_kernel_sizes": (3, 3), "memory_size": 5, "shrink_threshold": 0.0}


def _identical_items(model) -> torch.Tensor:
    with torch.no_grad():
        model.memory.items.copy_(model.memory.items[:1].expand_as(model.memory.items))
    return model.memory.items[0]


def test_identical_items_share_the_weight_equally() -> None:
    torch.manual_seed(0)
    model = create_model("conv2d", **CONV).eval()
    _identical_items(model)
    X = np.random.default_rng(0).random((6, 1, 10, 10)).astype(np.float32)
    np.testing.assert_allclose(memory_usage(model, X, batch_size=4), np.full(5, 0.2), atol=1e-6)


def test_a_decoded_item_is_what_the_decoder_sees_when_only_that_item_is_read() -> None:
    # With identical items every addressing reads out that item at every position,
    # so any input reconstructs to the item's decoding (the gallery's definition).
    torch.manual_seed(1)
    model = create_model("conv2d", **CONV).eval()
    _identical_items(model)
    prototypes = decode_prototypes(model, (1, 10, 10))
    assert prototypes.shape == (5, 1, 10, 10)
    x = torch.rand(3, 1, 10, 10)
    with torch.no_grad():
        reconstruction = model(x).reconstruction.numpy()
    for sample in reconstruction:
        np.testing.assert_allclose(sample, prototypes[0], atol=1e-5)
    np.testing.assert_allclose(prototypes[4], prototypes[0], atol=1e-6)


def test_mlp_items_decode_to_whole_samples() -> None:
    torch.manual_seed(0)
    model = create_model("mlp", in_features=7, memory_size=3).eval()
    prototypes = decode_prototypes(model, (7,))
    with torch.no_grad():
        expected = model.decoder(model.memory.items, ()).numpy()
    np.testing.assert_allclose(prototypes, expected, atol=1e-6)


def test_usage_figure_counts_unused_items() -> None:
    title = usage_figure(np.array([0.5, 0.5, 0.0, 1e-6])).axes[0].get_title()
    assert title == "Memory usage: 2 of 4 items used, 2 unused"
