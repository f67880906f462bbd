"""MemAEEnsemble: subsampled members, standardised averaged scores, OOB thresholds, save/load."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from memae import MemAEDetector, MemAEEnsemble
from memae.model_file import ModelFileError
from tests.conftest import FAST, rewrite_model_file, set_field
from tests.test_detector import EXPECTED_FAILED

MEMBER = MemAEDetector(**{**FAST, "epochs": 4}, validation_fraction=0.0, patience=None)


def contaminated(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Normal rows on a 2-D plane in 6-D, 5% outliers off it."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(2, 6))
    X = rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 6))
    y = np.zeros(n, dtype=int)
    y[: n // 20] = 1
    X[: n // 20] += rng.normal(scale=3.0, size=(n // 20, 6))
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted() -> tuple[MemAEEnsemble, np.ndarray, np.ndarray]:
    X, y = contaminated()
    return MemAEEnsemble(MEMBER, n_estimators=3, max_samples=150, random_state=0).fit(X), X, y


def test_score_is_the_mean_of_standardised_member_scores(fitted) -> None:
    ensemble, X, _ = fitted
    by_hand = np.mean([(m.decision_function(X) - m.decision_scores_.mean())
                       / m.decision_scores_.std() for m in ensemble.estimators_], axis=0)
    # float32 scores, as a member's: equal to the float64 mean up to float32 rounding
    assert ensemble.decision_function(X).dtype == ensemble.decision_scores_.dtype == np.float32
    np.testing.assert_allclose(ensemble.decision_function(X), by_hand, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ensemble.decision_scores_, by_hand, rtol=1e-6, atol=1e-6)


def test_members_train_on_distinct_subsamples_of_the_asked_size(fitted) -> None:
    ensemble, X, _ = fitted
    assert len(ensemble.estimators_) == 3
    for rows, member in zip(ensemble.samples_, ensemble.estimators_, strict=True):
        assert len(np.unique(rows)) == len(rows) == 150
        assert len(member.decision_scores_) == 150
    assert not np.array_equal(ensemble.samples_[0], ensemble.samples_[1])
    seeds = {m.random_state for m in ensemble.estimators_}
    assert len(seeds) == 3


@pytest.mark.parametrize(("max_samples", "expected"), [(1000, 400), (0.25, 100), (1.0, 400)])
def test_max_samples_as_count_or_share(max_samples, expected) -> None:
    X, _ = contaminated()
    ensemble = MemAEEnsemble(MemAEDetector(**{**MEMBER.get_params(), "epochs": 1}), n_estimators=1,
                             max_samples=max_samples, random_state=0).fit(X)
    assert len(ensemble.samples_[0]) == expected


def test_finds_the_outliers_and_is_reproducible(fitted) -> None:
    ensemble, X, y = fitted
    scores = ensemble.decision_function(X)
    assert roc_auc_score(y, scores) >= 0.95
    again = MemAEEnsemble(MEMBER, n_estimators=3, max_samples=150, random_state=0).fit(X)
    np.testing.assert_array_equal(again.decision_function(X), scores)
    other = MemAEEnsemble(MEMBER, n_estimators=3, max_samples=150, random_state=1).fit(X)
    assert not np.array_equal(other.decision_function(X), scores)


def test_contamination_threshold_and_labels(fitted) -> None:
    ensemble, X, _ = fitted
    assert ensemble.labels_.mean() == pytest.approx(0.1, abs=0.01)
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.labels_)
    proba = ensemble.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)


def test_target_fpr_uses_out_of_bag_scores() -> None:
    X, y = contaminated()
    ensemble = MemAEEnsemble(MEMBER, n_estimators=3, max_samples=150, target_fpr=0.05,
                             random_state=0).fit(X)
    oob = ensemble.oob_scores_
    in_all = np.ones(len(X), dtype=bool)
    for rows in ensemble.samples_:
        mask = np.zeros(len(X), dtype=bool)
        mask[rows] = True
        in_all &= mask
    assert np.array_equal(np.isnan(oob), in_all)
    assert np.mean(oob[~in_all] > ensemble.threshold_) <= 0.05
    refused = MemAEEnsemble(MEMBER, n_estimators=2, max_samples=1.0, target_fpr=0.05,
                            random_state=0)
    with pytest.raises(ValueError, match="out-of-bag rows.*lower max_samples"):
        refused.fit(X)
    assert not hasattr(refused, "estimators_")  # refused before any training


@pytest.mark.parametrize(("params", "match"), [
    ({"n_estimators": 0}, "n_estimators must be an int >= 1, got 0"),
    ({"n_estimators": 2.5}, "n_estimators must be an int >= 1"),
    ({"max_samples": 1}, "max_samples must be an int >= 2 or a float in"),
    ({"max_samples": 1.5}, "max_samples must be"),
    ({"max_samples": 0.0}, "max_samples must be"),
    ({"max_samples": True}, "max_samples must be"),
    ({"contamination": 0.7}, "contamination must be"),
])
def test_bad_parameters_are_named(params, match) -> None:
    X, _ = contaminated(50)
    with pytest.raises(ValueError, match=match):
        MemAEEnsemble(MEMBER, **params).fit(X)


def test_estimator_must_be_a_detector() -> None:
    from sklearn.ensemble import IsolationForest

    with pytest.raises(TypeError, match="estimator must be a MemAEDetector.*IsolationForest"):
        MemAEEnsemble(IsolationForest()).fit(contaminated(50)[0])


def test_explain_averages_scaled_member_errors(fitted) -> None:
    ensemble, X, _ = fitted
    maps = ensemble.explain(X[:20])
    assert maps.shape == (20, X.shape[1])
    offset = np.mean(ensemble.member_mean_ / ensemble.member_std_)
    np.testing.assert_allclose(maps.mean(axis=1) - offset, ensemble.decision_function(X[:20]),
                               rtol=1e-4, atol=1e-4)


def test_save_load_round_trip(fitted, tmp_path: Path) -> None:
    ensemble, X, _ = fitted
    path = ensemble.save(tmp_path / "ensemble.safetensors")
    loaded = MemAEEnsemble.load(path)
    np.testing.assert_array_equal(loaded.decision_function(X), ensemble.decision_function(X))
    np.testing.assert_array_equal(loaded.oob_scores_, ensemble.oob_scores_)
    assert loaded.threshold_ == ensemble.threshold_
    assert loaded.get_params(deep=False)["n_estimators"] == 3
    assert loaded.estimator.get_params() == {**MEMBER.get_params(), "device": "cpu"}
    with pytest.raises(ValueError, match="holds an ensemble model.*MemAEEnsemble.load"):
        MemAEDetector.load(path)
    single = ensemble.estimators_[0].save(tmp_path / "single.safetensors")
    with pytest.raises(ValueError, match="holds a detector model.*MemAEDetector.load"):
        MemAEEnsemble.load(single)


def test_unfitted_ensemble_refuses_to_save_or_score(tmp_path: Path) -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match="not fitted"):
        MemAEEnsemble(MEMBER).save(tmp_path / "x.safetensors")
    with pytest.raises(NotFittedError):
        MemAEEnsemble(MEMBER).decision_function(np.zeros((2, 3)))


def test_large_inputs_are_scored_in_chunks_with_the_same_result(fitted, monkeypatch) -> None:
    import memae.ensemble

    ensemble, X, _ = fitted
    whole = ensemble.decision_function(X)
    monkeypatch.setattr(memae.ensemble, "VALIDATION_CHUNK_ROWS", 64)
    np.testing.assert_array_equal(ensemble.decision_function(X), whole)


def test_images_work_like_tables() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((40, 1, 8, 8), dtype=np.float32) * 0.1
    images[:, :, 2:6, 2:6] += 0.8  # normal: a bright square
    odd = rng.random((5, 1, 8, 8), dtype=np.float32)  # anomalies: noise
    layers = {"channels": (4, 8), "kernel_sizes": (3, 3), "strides": (2, 2),
              "decoder_kernel_sizes": (3, 3)}
    member = MemAEDetector(model="conv2d", model_params=layers, epochs=30, random_state=0,
                           device="cpu")
    ensemble = MemAEEnsemble(member, n_estimators=2, max_samples=30, random_state=0)
    ensemble.fit(images)
    assert ensemble.explain(odd).shape == odd.shape
    assert ensemble.decision_function(odd).min() > np.median(ensemble.decision_scores_)


def test_load_model_picks_the_class_and_edited_files_are_refused(fitted, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from memae import load as load_model
    from memae.loading import read_metadata
    from memae.model_file import METADATA_KEY

    ensemble, X, _ = fitted
    path = ensemble.save(tmp_path / "ensemble.safetensors")
    assert isinstance(load_model(path), MemAEEnsemble)
    single = ensemble.estimators_[0].save(tmp_path / "single.safetensors")
    assert isinstance(load_model(single), MemAEDetector)
    tensors = load_file(path)
    del tensors["estimators.1.rows"]
    edited = tmp_path / "edited.safetensors"
    save_file(tensors, edited, metadata={METADATA_KEY: json.dumps(read_metadata(path))})
    with pytest.raises(ValueError, match="corrupt or edited.*save the model again"):
        MemAEEnsemble.load(edited)


@pytest.mark.parametrize("where, value, field", [
    (("threshold",), float("nan"), "threshold"),
    (("members",), [], "members"),
    (("params", "n_estimators"), 3, "members"),
])
def test_edited_ensemble_fields_are_refused_naming_the_field(tmp_path, where, value,
                                                             field) -> None:
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    path = tmp_path / "e.safetensors"
    MemAEEnsemble(MemAEDetector(**{**FAST, "epochs": 1}), n_estimators=2, max_samples=20,
                  random_state=0).fit(X).save(path)
    edited = rewrite_model_file(path.read_bytes(), tmp_path / "edited.safetensors",
                                set_field(where, value))
    with pytest.raises(ModelFileError, match=re.escape(field)):
        MemAEEnsemble.load(edited)
    member = rewrite_model_file(path.read_bytes(), tmp_path / "member.safetensors",
                      set_field(("members", 1, "params", "score_batch_size"), 0))
    with pytest.raises(ModelFileError, match=r"members\[1\]\.params\.score_batch_size"):
        MemAEEnsemble.load(member)


@parametrize_with_checks(
    [MemAEEnsemble(MemAEDetector(epochs=2, batch_size=16, device="cpu"), n_estimators=2,
                   max_samples=0.8, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)
