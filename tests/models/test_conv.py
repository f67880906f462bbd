"""Conv MemAEs: any input size comes back, 2-D and 3-D, and stage lists are checked."""

from __future__ import annotations

import pytest
import torch

from memae.models import create_model

TWO_STAGES = {"channels": (4, 8), "kernel_sizes": (3, 3), "strides": (2, 2),
              "decoder_kernel_sizes": (3, 3)}


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (17, 23), (64, 48)])
def test_conv2d_output_size_equals_input_size(size: tuple[int, int]) -> None:
    model = create_model("conv2d", in_channels=2)
    x = torch.randn(2, 2, *size)
    assert model(x).reconstruction.shape == x.shape


def test_conv3d_keeps_time_and_space_and_reads_the_memory_per_position() -> None:
    model = create_model("conv2d", **{**TWO_STAGES, "strides": ((1, 2, 2), 2)}, spatial_dims=3,
                         memory_size=5).eval()
    x = torch.randn(2, 1, 6, 9, 10)
    out = model(x)
    assert out.reconstruction.shape == x.shape
    # time 6 -> 6 -> 3, height 9 -> 5 -> 3, width 10 -> 5 -> 3 (padding k // 2)
    assert out.weights.shape == (2, 5, 3, 3, 3)


@pytest.mark.parametrize(("options", "match"), [
    ({"strides": (2,)}, r"strides needs one entry per stage of channels=\(4, 8\)"),
    ({"decoder_kernel_sizes": (3, 3, 3)}, "decoder_kernel_sizes needs one entry per stage"),
    ({"spatial_dims": 1}, "spatial_dims must be 2 or 3, got 1"),
])
def test_stage_lists_and_dimensions_are_checked(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        create_model("conv2d", **{**TWO_STAGES, **options})
