"""Video nets run channels-last 3-D on the CPU: same numbers as the contiguous layout."""

from __future__ import annotations

import pytest
import torch

from memae.models import create_model
from memae.video import layout
from memae.video.score import window_errors


@pytest.fixture
def net() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("conv3d", channels=(4, 8), strides=((1, 2, 2), 2), kernel_sizes=(3, 3),
                        decoder_kernel_sizes=(3, 3),
                        memory_size=20).eval()


def test_channels_last_errors_equal_contiguous_ones(net: torch.nn.Module,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    windows = torch.rand(3, 1, 8, 16, 24) * 2 - 1
    monkeypatch.setattr(layout, "CPU_MEMORY_FORMAT", torch.contiguous_format)
    plain = window_errors(net, windows)
    monkeypatch.setattr(layout, "CPU_MEMORY_FORMAT", torch.channels_last_3d)
    last = window_errors(net, windows)
    conv_weights = [p for p in net.parameters() if p.ndim == 5]
    assert conv_weights and all(
        p.is_contiguous(memory_format=torch.channels_last_3d) for p in conv_weights)
    assert last.shape == plain.shape == (3, 8, 16, 24)
    torch.testing.assert_close(last, plain, atol=1e-5, rtol=1e-4)


def test_video_layout_is_contiguous_off_the_cpu() -> None:
    assert layout.video_memory_format(torch.device("cpu")) == torch.channels_last_3d
    assert layout.video_memory_format(torch.device("meta")) == torch.contiguous_format
