"""Shared fixtures and helpers: small deterministic data sets, hostile files, model-file edits."""

from __future__ import annotations

import json
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from hypothesis import HealthCheck, settings
from safetensors import safe_open
from safetensors.torch import save_file

from memae import MemAEDetector
from memae.video import make_synthetic_videos, write_frame_folders

# CI runs the property tests on a fixed example sequence, so a result does not
# depend on the draw; locally they explore fresh examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Small models train far faster on one thread than with thread hand-offs.
torch.set_num_threads(1)


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal data on a 2-D plane inside 8-D, plus off-plane anomalies."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    normal = rng.normal(size=(300, 2)) @ basis + 0.05 * rng.normal(size=(300, 8))
    test_normal = rng.normal(size=(100, 2)) @ basis + 0.05 * rng.normal(size=(100, 8))
    anomalies = rng.normal(size=(100, 8)) * 2.0
    X_test = np.vstack([test_normal, anomalies])
    y_test = np.r_[np.zeros(100), np.ones(100)]
    return normal.astype(np.float32), X_test.astype(np.float32), y_test


REPO_ROOT = Path(__file__).resolve().parents[1]
# The copy of memae under test, for subprocesses started by the tests.
SRC = REPO_ROOT / "src"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that reads the real data without the ``real_data`` marker."""
    unmarked = [item.nodeid for item in items
                if "data_root" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("real_data") is None]
    if unmarked:
        raise pytest.UsageError("tests that read the real data need @pytest.mark.real_data: "
                                + ", ".join(unmarked))


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data: ``$MEMAE_DATA`` or ``<repo>/../shared/data``; skips if absent."""
    root = Path(os.environ.get("MEMAE_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"real data folder {root} not found (set MEMAE_DATA)")
    return root


@pytest.fixture(scope="session")
def shared_data(data_root: Path) -> Path:
    """Alias of ``data_root`` used by the loader tests."""
    return data_root


FAST = {"epochs": 15, "batch_size": 32, "random_state": 0, "device": "cpu"}


# Property tests that each train or decode something: few examples, no deadline.
QUICK = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@pytest.fixture(scope="session")
def small_detector() -> MemAEDetector:
    """A detector fitted for two epochs on 80 rows of 4 normal features."""
    X = np.random.default_rng(0).normal(size=(80, 4)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 2}).fit(X)


class _Payload:
    """Unpickling this writes ``marker``: proof that a loader ran code from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def plant_pickle(path: Path, marker: Path, npy: bool = False) -> Path:
    """A pickle at ``path`` that writes ``marker`` if it is ever unpickled; with ``npy``,
    behind a real NPY header, as an object array."""
    if npy:
        with path.open("wb") as handle:
            np.save(handle, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds none."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def rewrite_model_file(source: bytes, path: Path, edit_meta=None, edit_tensors=None,
                       key: str = "memae") -> Path:
    """A copy of a model file with its JSON document and/or tensors edited."""
    original = path.with_suffix(".orig")
    original.write_bytes(source)
    with safe_open(str(original), framework="pt") as f:
        header = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    meta = json.loads(header[key])
    if edit_meta is not None:
        edit_meta(meta)
    if edit_tensors is not None:
        edit_tensors(tensors)
    save_file(tensors, str(path), metadata={key: json.dumps(meta)})
    return path


def set_field(where: tuple[str | int, ...], value):
    """An edit for :func:`rewrite_model_file`: set the JSON field at ``where`` to ``value``."""
    def edit(meta: dict) -> None:
        for key in where[:-1]:
            meta = meta[key]
        meta[where[-1]] = value
    return edit


@pytest.fixture(scope="session")
def shifted_detector() -> tuple[MemAEDetector, np.ndarray]:
    """A detector fitted on 8 features of very different offsets and scales, and test rows."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    train = (rng.normal(size=(200, 2)) @ basis).astype(np.float32)
    X_test = rng.normal(size=(60, 8)).astype(np.float32) * 2
    # Shift and stretch the features so standardisation matters to the scores.
    shift = np.linspace(-50, 50, train.shape[1], dtype=np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 5}, memory_size=12).fit(train * 3 + shift)
    return detector, X_test * 3 + shift


def _ped2_ranges(labels: np.ndarray) -> np.ndarray:
    """1-based inclusive [first; last] of the single abnormal run of ``labels``."""
    where = np.flatnonzero(labels) + 1
    return np.array([[where[0]], [where[-1]]], dtype=float)


def write_fake_ped2(data: Path, n_train: int, n_test: int, n_frames: int, seed: int) -> Path:
    """A Ped2 layout of synthetic clips in ``data``: ped2/training, ped2/testing, ped2.mat."""
    videos = make_synthetic_videos(n_train=n_train, n_test=n_test, n_frames=n_frames,
                                   seed=seed)
    write_frame_folders(videos, data / "ped2")
    cells = np.empty((1, n_test), dtype=object)
    for k, labels in enumerate(videos.test_labels):
        cells[0, k] = _ped2_ranges(labels)
    scipy.io.savemat(data / "ped2" / "ped2.mat", {"gt": cells})
    return data


@pytest.fixture(scope="session")
def fake_ped2_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a tiny Ped2 layout: ped2/ with 2 + 2 synthetic clips, ped2.mat."""
    return write_fake_ped2(tmp_path_factory.mktemp("data"), 2, 2, 24, seed=11)
