"""Helpers of the run-directory subcommands: threads, the input spec, batched scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from memae.cli.common import input_spec, score_batches, set_threads
from memae.run_dir import RunDir


def test_set_threads_defaults_to_one_and_refuses_zero() -> None:
    before = torch.get_num_threads()
    try:
        set_threads(None)
        assert torch.get_num_threads() == 1
        set_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="--threads must be >= 1, got 0"):
        set_threads(0)


def test_without_input_json_the_spec_follows_the_model_and_batches_score_alike(
        small_detector, tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    small_detector.save(run.model)
    spec = input_spec(run, small_detector)  # no input.json beside the model
    assert spec.kind == "table"
    X = np.random.default_rng(3).normal(size=(37, 4)).astype(np.float32)
    np.testing.assert_allclose(score_batches(small_detector, X, progress=False),
                               small_detector.decision_function(X), rtol=1e-6)
    assert score_batches(small_detector, X[:0], progress=False).shape == (0,)
