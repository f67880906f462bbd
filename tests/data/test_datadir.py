from __future__ import annotations

from pathlib import Path

import pytest

from memae.data import DATASET_DIRS, find_dataset, resolve_data_dir


def test_explicit_argument_beats_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "arg").mkdir()
    monkeypatch.setenv("MEMAE_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"
    assert resolve_data_dir(None) == tmp_path / "env"


def test_missing_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMAE_DATA", raising=False)
    with pytest.raises(ValueError, match="pass --data-dir DIR .* or set MEMAE_DATA=DIR"):
        resolve_data_dir(None)
    monkeypatch.setenv("MEMAE_DATA", "")
    with pytest.raises(ValueError, match="--data-dir"):
        resolve_data_dir(None)
    monkeypatch.setenv("MEMAE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"\$MEMAE_DATA=.*nowhere' is not a directory"):
        resolve_data_dir(None)
    with pytest.raises(FileNotFoundError, match=r"data_dir=.*absent' is not a directory"):
        resolve_data_dir(tmp_path / "absent")
    with pytest.raises(TypeError, match="data_dir=3"):
        resolve_data_dir(3)  # type: ignore[arg-type]


def test_find_dataset(tmp_path: Path) -> None:
    (tmp_path / "kddcup99").mkdir()
    assert find_dataset("kdd99", tmp_path) == tmp_path / "kddcup99"
    with pytest.raises(FileNotFoundError, match=r"dataset 'ped2' not found: .*ped2' is missing"):
        find_dataset("ped2", tmp_path)
    with pytest.raises(ValueError, match=r"name='kdd' is not a known dataset; choose from"):
        find_dataset("kdd", tmp_path)


@pytest.mark.real_data
def test_real_data_dir_has_every_dataset(shared_data: Path) -> None:
    for name, folder in DATASET_DIRS.items():
        assert find_dataset(name, shared_data) == shared_data / folder
