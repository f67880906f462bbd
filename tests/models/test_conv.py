from __future__ import annotations

import pytest
import torch

from memae.models import create_model


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (17, 23), (64, 48)])
def test_conv2d_output_size_equals_input_size(size: tuple[int, int]) -> None:
    model = create_model("conv2d", in_channels=2)
    x = torch.randn(2, 2, *size)
    assert model(x).reconstruction.shape == x.shape
