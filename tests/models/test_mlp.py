"""The fully connected MemAE: its layer widths, the linear code, and its errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memae.models import create_model


def test_widths_mirror_through_the_code_and_the_memory() -> None:
    model = create_model("mlp", in_features=7, hidden=(5, 4), latent_dim=3, memory_size=6,
                         dropout=0.25, batch_norm=True)
    encoder = [(m.in_features, m.out_features) for m in model.encoder
               if isinstance(m, nn.Linear)]
    decoder = [(m.in_features, m.out_features) for m in model.decoder.body
               if isinstance(m, nn.Linear)]
    assert encoder == [(7, 5), (5, 4), (4, 3)] and decoder == [(3, 4), (4, 5), (5, 7)]
    assert model.memory.items.shape == (6, 3)
    # The code is linear (the memory sees its full range); so is the output (the paper's).
    assert isinstance(model.encoder[-1], nn.Identity)
    assert isinstance(model.decoder.body[-1], nn.Identity)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 4
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 4
    out = model.eval()(torch.randn(5, 7))
    assert out.reconstruction.shape == (5, 7) and out.weights.shape == (5, 6)


def test_mlp_needs_in_features() -> None:
    with pytest.raises(ValueError, match="in_features"):
        create_model("mlp")


@pytest.mark.parametrize(("options", "match"), [
    ({"hidden": (4, 0)}, "hidden and latent_dim must be positive"),
    ({"latent_dim": 0}, "hidden and latent_dim must be positive"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
])
def test_bad_widths_and_dropout_are_refused(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create_model("mlp", in_features=3, **options)
