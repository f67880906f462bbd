"""Data-parallel training: no process group means one process, unchanged; ``torchrun
--nproc_per_node=2 -m memae train`` (gloo, 127.0.0.1) matches one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from memae import MemAEDetector, VideoDetector
from memae.cli import main
from memae.distributed import (
    distributed_context,
    init_from_env,
    launched_by_torchrun,
    wrap_data_parallel,
)
from memae.run_dir import RunDir
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint
from memae.video import make_synthetic_videos, write_frame_folders
from tests.conftest import SRC

# The default mlp has no batch norm, so both runs compute the same function;
# batch_size is the global batch (two ranks x 16). MemAE-nonSpar
# (shrink_threshold=0): hard shrinkage is discontinuous at the threshold and
# turns float round-off into ~3e-4 weight differences after 35 steps (measured,
# docs/hardening.md), which would say nothing about the sharding logic.
FLAGS = ["--epochs", "5", "--batch-size", "32", "--seed", "0", "--learning-rate", "0.003",
         "--device", "cpu", "--shrink-threshold", "0", "--set", "detector.patience=null",
         "--set", "detector.validation_fraction=0.1", "--set", "detector.model_params=null",
         "--quiet"]
# Same data order and the same averaged gradient: only float summation order
# differs (two partial batch sums averaged by all-reduce instead of one sum). The mlp
# with its own (dot) addressing: cosine at T = 0.05 scales rounding differences by 1/T.
# Measured: max |weight difference| 9e-8 (float32 rounding of O(1) weights),
# scores 1.5e-6 relative. A sharding or weighting mistake moves weights by
# ~1e-3 within an epoch; the bounds below sit well between the two.
ATOL = 1e-6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_a_process_group_training_is_one_process_and_the_model_unwrapped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert distributed_context() == (0, 1)
    model = torch.nn.Linear(2, 2)
    assert wrap_data_parallel(model, torch.device("cpu")) is model
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not launched_by_torchrun()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not launched_by_torchrun()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launched_by_torchrun()


def test_joining_needs_the_variables_torchrun_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match=r"\['RANK', 'MASTER_ADDR', 'MASTER_PORT'\] are not "
                                         r"set; launch with torchrun"):
        init_from_env()


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_process_ddp_matches_one_process(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # 225 rows: 203 trained on, so the last global batch is odd (11) and the
    # ranks get 6 and 5 samples; the loss weighting keeps the gradient exact.
    X = (rng.normal(size=(225, 3)) @ rng.normal(size=(3, 10))).astype(np.float32)
    data = tmp_path / "X.csv"
    np.savetxt(data, X, delimiter=",", header=",".join(f"f{j}" for j in range(10)),
               comments="", fmt="%.9g")
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1",
           "GLOO_SOCKET_IFNAME": "lo"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--nnodes=1", "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
               "-m", "memae", "train", "--data", str(data), "--out", str(tmp_path / "ddp"),
               *FLAGS]
    done = subprocess.run(command, env=env, capture_output=True, timeout=240)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "one"), *FLAGS]) == 0

    ddp = MemAEDetector.load(tmp_path / "ddp" / RunDir.MODEL)
    single = MemAEDetector.load(tmp_path / "one" / RunDir.MODEL)
    assert ddp.history_.best_epoch == single.history_.best_epoch == 5
    np.testing.assert_allclose(ddp.history_.train_loss, single.history_.train_loss, rtol=1e-6)
    for key, value in single.model_.state_dict().items():
        np.testing.assert_allclose(ddp.model_.state_dict()[key].numpy(), value.numpy(),
                                   atol=ATOL, err_msg=key)
    np.testing.assert_allclose(ddp.decision_function(X), single.decision_function(X),
                               rtol=2e-5)
    # Rank 0 alone wrote the checkpoint, and it is the finished run.
    checkpoints = tmp_path / "ddp" / RunDir.CHECKPOINTS
    assert [p.name for p in checkpoints.iterdir()] == [CHECKPOINT_NAME]
    assert load_checkpoint(checkpoints / CHECKPOINT_NAME)[0].finished


# The ped2-cpu net without batch norm (local batch norm on half a batch computes
# another function than on the whole batch), windows of 8 frames at 32 x 32.
VIDEO_FLAGS = ["--kind", "video", "--set", "detector.size=[32, 32]",
               "--set", "detector.clip_length=8", "--set", "detector.smoothing=3",
               "--set", "detector.model_params={channels: [4, 8, 8, 8], batch_norm: false}",
               "--memory-size", "20", "--shrink-threshold", "0", "--epochs", "2",
               "--batch-size", "8", "--learning-rate", "0.001", "--seed", "0",
               "--device", "cpu", "--quiet"]


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_process_ddp_matches_one_process_for_video(tmp_path: Path) -> None:
    # 2 clips x 17 windows: batches of 8 and a last one of 2, one window per rank.
    root = write_frame_folders(make_synthetic_videos(n_train=2, n_test=1, n_frames=24, seed=3),
                               tmp_path / "videos")
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1",
           "GLOO_SOCKET_IFNAME": "lo"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--nnodes=1", "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
               "-m", "memae", "train", "--data", str(root), "--out", str(tmp_path / "ddp"),
               *VIDEO_FLAGS]
    done = subprocess.run(command, env=env, capture_output=True, timeout=240)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert main(["train", "--data", str(root), "--out", str(tmp_path / "one"),
                 *VIDEO_FLAGS]) == 0
    ddp = VideoDetector.load(tmp_path / "ddp" / RunDir.MODEL)
    single = VideoDetector.load(tmp_path / "one" / RunDir.MODEL)
    assert ddp.history_.steps == single.history_.steps == 10
    np.testing.assert_allclose(ddp.history_.train_loss, single.history_.train_loss, rtol=1e-5)
    for key, value in single.model_.state_dict().items():
        np.testing.assert_allclose(ddp.model_.state_dict()[key].numpy(), value.numpy(),
                                   atol=1e-5, err_msg=key)
