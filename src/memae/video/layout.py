"""Memory layout of video tensors: channels-last 3-D on the CPU.

oneDNN's 3-D convolutions run faster on ``(B, C, T, H, W)`` tensors stored channels
last (``benchmarks/memory_speed.py --sections conv3d``), and the memory then reads
its ``(positions, C)`` queries without a copy. The layout changes no value beyond
float rounding; other devices keep the contiguous layout.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

CPU_MEMORY_FORMAT = torch.channels_last_3d


def video_memory_format(device: torch.device) -> torch.memory_format:
    """The layout video nets and their inputs use on ``device``."""
    return CPU_MEMORY_FORMAT if device.type == "cpu" else torch.contiguous_format


def in_video_layout(model: nn.Module, x: Tensor) -> Tensor:
    """Put ``model`` (in place, a no-op when it already is) and ``x`` in the video layout."""
    layout = video_memory_format(x.device)
    model.to(memory_format=layout)
    return x.contiguous(memory_format=layout)
