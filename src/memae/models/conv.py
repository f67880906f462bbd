"""Strided conv encoders and mirrored transposed-conv decoders in 2-D or 3-D."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from memae.models.autoencoder import MemAutoEncoder, MemoryConfig
from memae.models.layers import activation, output_activation

Size = int | tuple[int, ...]


@dataclass
class ConvConfig(MemoryConfig):
    """A conv MemAE: ``len(channels)`` strided conv stages, mirrored on the way back.

    ``kernel_sizes`` and ``strides`` hold one entry per encoder stage (an int or
    a per-axis tuple); ``decoder_kernel_sizes`` one per decoder stage, listed in
    the decoder's order. The decoder's last stage maps to ``in_channels`` with
    no norm and ``output_activation`` (``None``: linear, as the paper).
    """

    in_channels: int = 1
    channels: tuple[int, ...] = (16, 32, 64)
    kernel_sizes: tuple[Size, ...] = (1, 3, 3)
    strides: tuple[Size, ...] = (2, 2, 2)
    decoder_kernel_sizes: tuple[Size, ...] = (3, 3, 3)
    activation: str = "relu"
    negative_slope: float = 0.2
    batch_norm: bool = True
    output_activation: str | None = None
    spatial_dims: int = 2


def _tuple(value: Size, dims: int) -> tuple[int, ...]:
    return (value,) * dims if isinstance(value, int) else tuple(value)


def _stage_output(size: Sequence[int], kernel: Size, stride: Size) -> tuple[int, ...]:
    """Spatial size after a conv with padding ``k // 2`` (PyTorch's formula)."""
    dims = len(size)
    k, s = _tuple(kernel, dims), _tuple(stride, dims)
    return tuple((n + 2 * (kk // 2) - kk) // ss + 1 for n, kk, ss in zip(size, k, s, strict=True))


class DeconvStage(nn.Module):
    """Transposed conv (+ norm + activation) told the exact size to produce."""

    def __init__(self, conv: nn.Module, post: nn.Module) -> None:
        super().__init__()
        self.conv = conv
        self.post = post

    def forward(self, z: Tensor, size: tuple[int, ...]) -> Tensor:
        """The stage's output for ``z``, of spatial size ``size``."""
        return self.post(self.conv(z, output_size=list(size)))


class ConvDecoder(nn.Module):
    """Replays the encoder's strides in reverse so the output size equals the input's."""

    def __init__(self, stages: Sequence[DeconvStage], kernels: Sequence[Size],
                 strides: Sequence[Size]) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.kernels = tuple(kernels)
        self.strides = tuple(strides)

    def forward(self, z: Tensor, spatial: tuple[int, ...]) -> Tensor:
        """The reconstruction of code ``z`` at the encoder's input size ``spatial``."""
        sizes = [tuple(int(n) for n in spatial)]
        for kernel, stride in zip(self.kernels[:-1], self.strides[:-1], strict=True):
            sizes.append(_stage_output(sizes[-1], kernel, stride))
        for stage, size in zip(self.stages, reversed(sizes), strict=True):
            z = stage(z, size)
        return z


def build_conv(config: ConvConfig, family: str) -> MemAutoEncoder:
    """Build the encoder/memory/decoder described by ``config``."""
    n = len(config.channels)
    for name in ("kernel_sizes", "strides", "decoder_kernel_sizes"):
        if len(getattr(config, name)) != n:
            raise ValueError(
                f"{name} needs one entry per stage of channels={config.channels!r}, "
                f"got {getattr(config, name)!r}."
            )
    if config.spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, got {config.spatial_dims!r}.")
    # Per-axis sizes are tuples of spatial_dims entries, a length the type checker cannot
    # tie to the 2-D or 3-D class chosen here, so the constructors are typed loosely.
    conv: Callable[..., nn.Module] = nn.Conv2d if config.spatial_dims == 2 else nn.Conv3d
    deconv: Callable[..., nn.Module] = (nn.ConvTranspose2d if config.spatial_dims == 2
                                        else nn.ConvTranspose3d)
    norm = nn.BatchNorm2d if config.spatial_dims == 2 else nn.BatchNorm3d

    def post(ch: int) -> nn.Module:
        act = activation(config.activation, config.negative_slope)
        return nn.Sequential(norm(ch), act) if config.batch_norm else act

    def pad(kernel: Size) -> tuple[int, ...]:
        return tuple(k // 2 for k in _tuple(kernel, config.spatial_dims))

    widths = (config.in_channels, *config.channels)
    encoder = nn.Sequential(*(
        nn.Sequential(conv(widths[i], widths[i + 1], config.kernel_sizes[i],
                           stride=config.strides[i], padding=pad(config.kernel_sizes[i])),
                      post(widths[i + 1]))
        for i in range(n)
    ))
    stages = []
    for j, kernel in enumerate(config.decoder_kernel_sizes):
        i = n - 1 - j  # the encoder stage this one mirrors
        last = i == 0
        layer = deconv(widths[i + 1], widths[i], kernel, stride=config.strides[i],
                       padding=pad(kernel))
        stages.append(DeconvStage(
            layer, output_activation(config.output_activation) if last else post(widths[i])
        ))
    decoder = ConvDecoder(stages, config.kernel_sizes, config.strides)
    return MemAutoEncoder(encoder, decoder, config.build_memory(config.channels[-1]),
                          family=family, config=config)
