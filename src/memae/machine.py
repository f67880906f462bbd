"""What this machine has, for guards that refuse work which cannot fit before allocating it."""

from __future__ import annotations

import os

import torch

__all__ = ["cpu_has_native_bf16", "physical_memory"]


def physical_memory() -> int | None:
    """Bytes of physical memory, or ``None`` where the platform does not report it."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AMX tiles or AVX-512 BF16).

    Elsewhere (e.g. AVX2-only CPUs) bf16 autocast is emulated: several times slower
    than float32.
    """
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
