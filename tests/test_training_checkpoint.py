"""Checkpoints and resumption: a killed fit resumes to bitwise the same scores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from memae import MemAEDetector, training_checkpoint
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint
from tests.conftest import SRC, plant_pickle

# Dropout draws from the global torch RNG, early stopping keeps a best epoch:
# resumption has to restore both to be exact.
PARAMS = {"batch_size": 16, "random_state": 3, "device": "cpu", "patience": 4,
          "learning_rate": 3e-3, "model_params": {"dropout": 0.1}}


def _data(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.normal(size=(n, 3)) @ rng.normal(size=(3, 12))).astype(np.float32)


def test_resume_after_a_crash_is_bitwise_identical(tmp_path: Path, monkeypatch) -> None:
    X = _data()
    full = MemAEDetector(**PARAMS, epochs=8).fit(X)
    save = training_checkpoint.save_checkpoint

    def crash_after_epoch_3(path, state, extra=None):
        save(path, state, extra)
        if state.epoch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(training_checkpoint, "save_checkpoint", crash_after_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        MemAEDetector(**PARAMS, epochs=8).fit(X, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)[0]
    assert not state.finished and state.epoch == 3 and len(state.history.train_loss) == 3
    resumed = MemAEDetector(**PARAMS, epochs=8).fit(X, checkpoint_dir=tmp_path, resume=True)
    assert resumed.history_ == full.history_
    np.testing.assert_array_equal(resumed.decision_scores_, full.decision_scores_)
    for key, value in full.model_.state_dict().items():
        assert torch.equal(resumed.model_.state_dict()[key], value), key


def test_resume_refuses_another_run(tmp_path: Path) -> None:
    X = _data(100)
    MemAEDetector(**PARAMS, epochs=1).fit(X, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=r"another run.*\['learning_rate'\]"):
        MemAEDetector(**{**PARAMS, "learning_rate": 0.1}, epochs=1).fit(
            X, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="another run.*training data"):
        MemAEDetector(**PARAMS, epochs=1).fit(X + 1, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        MemAEDetector(**PARAMS, epochs=1).fit(X, resume=True)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    X = _data(100)
    MemAEDetector(**PARAMS, epochs=1).fit(X, checkpoint_dir=tmp_path)
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a usable memae training checkpoint.*delete"):
        MemAEDetector(**PARAMS, epochs=2).fit(X, checkpoint_dir=tmp_path, resume=True)


SCRIPT = textwrap.dedent("""
    import sys, numpy as np, torch
    torch.set_num_threads(1)
    from memae import MemAEDetector
    X = np.load(sys.argv[1])
    params = {params!r}
    detector = MemAEDetector(**params, epochs=6).fit(
        X, checkpoint_dir=sys.argv[2], resume=True)
    np.save(sys.argv[3], detector.decision_function(X))
""")


def _fit_in_subprocess(script: Path, args: list[Path]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], env=env,
                            stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_mid_training_then_resume_gives_identical_scores(tmp_path: Path) -> None:
    X = _data(600)
    data, run, out = tmp_path / "X.npy", tmp_path / "run", tmp_path / "scores.npy"
    np.save(data, X)
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT.format(params=PARAMS))

    victim = _fit_in_subprocess(script, [data, run, out])
    deadline = time.monotonic() + 120
    while not (run / CHECKPOINT_NAME).exists():
        assert victim.poll() is None, victim.stderr.read().decode()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    killed_at = load_checkpoint(run / CHECKPOINT_NAME)[0]
    assert not killed_at.finished and 1 <= killed_at.epoch < 6
    assert not out.exists()
    # No temporary file of a checkpoint is left visible as a checkpoint.
    assert [p.name for p in run.iterdir() if not p.name.startswith(".")] == [CHECKPOINT_NAME]

    resumed = _fit_in_subprocess(script, [data, run, out])
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read().decode()
    uninterrupted = MemAEDetector(**PARAMS, epochs=6).fit(X).decision_function(X)
    np.testing.assert_array_equal(np.load(out), uninterrupted)


def test_planted_pickles_stay_inert(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    with pytest.raises((ValueError, TypeError)):
        load_checkpoint(plant_pickle(tmp_path / "planted", marker))
    assert not marker.exists()
