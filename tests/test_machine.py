"""What the machine has: physical memory and native bf16."""

from __future__ import annotations

import os

import pytest
import torch

from memae.machine import cpu_has_native_bf16, physical_memory


def test_physical_memory_is_pages_times_page_size(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = {"SC_PHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(os, "sysconf", lambda name: sizes[name])
    assert physical_memory() == 4_096_000

    def unsupported(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", unsupported)
    assert physical_memory() is None


@pytest.mark.parametrize(("amx", "avx512_bf16", "native"), [
    (False, False, False), (True, False, True), (False, True, True)])
def test_native_bf16_is_amx_or_avx512_bf16(monkeypatch: pytest.MonkeyPatch, amx: bool,
                                           avx512_bf16: bool, native: bool) -> None:
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16,
                        raising=False)
    assert cpu_has_native_bf16() is native
