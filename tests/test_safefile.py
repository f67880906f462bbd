"""safetensors files written atomically and read whole."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

from memae import safefile
from memae.safefile import read_all, write_atomic


def test_write_then_read_gives_the_tensors_and_metadata_back(tmp_path: Path) -> None:
    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3),
               "i": torch.tensor([1, 2], dtype=torch.int64)}
    path = write_atomic(tmp_path / "m.safetensors", tensors, {"memae": '{"a": 1}'})
    header, read = read_all(path)
    assert header == {"memae": '{"a": 1}'}
    assert read.keys() == tensors.keys()
    assert all(torch.equal(read[k], tensors[k]) and read[k].dtype == tensors[k].dtype
               for k in tensors)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


@pytest.mark.parametrize(("message", "code"), [
    ("I/O error: No space left on device (os error 28)", errno.ENOSPC),
    ("I/O error: Input/output error (os error 5)", errno.EIO)])
def test_a_failed_write_is_an_os_error_and_keeps_the_previous_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str, code: int) -> None:
    path = write_atomic(tmp_path / "m.safetensors", {"w": torch.zeros(2)}, {})
    before = path.read_bytes()

    def failing(*args, **kwargs):
        raise SafetensorError(message)

    monkeypatch.setattr(safefile, "save_file", failing)
    with pytest.raises(OSError) as caught:
        write_atomic(path, {"w": torch.ones(2)}, {})
    assert caught.value.errno == code
    if code == errno.ENOSPC:  # the message says what to do about a full disk
        assert "could not be written (No space left on device); free space" in str(caught.value)
    else:
        assert message in str(caught.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_reading_a_file_that_is_not_safetensors_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"\x00" * 16)
    with pytest.raises((SafetensorError, OSError, ValueError)):
        read_all(path)
