"""The shared benchmark helpers: variants, step caps, presets, tables."""

from __future__ import annotations

import pytest

from memae.benchmarks.ablation import (
    VARIANTS,
    TrainConfig,
    epochs_for,
    make_detector,
    markdown_table,
    mean_std,
    parse_config,
)


def test_variants_are_the_papers_ablation() -> None:
    config = TrainConfig(model="mlp", memory_size=40)
    ae, nonspar, memae = (make_detector(config, v, seed=3, n_train=100) for v in VARIANTS)
    assert list(VARIANTS) == ["AE", "MemAE-nonSpar", "MemAE"]
    assert (ae.memory, nonspar.memory, memae.memory) == (False, True, True)
    assert nonspar.shrink_threshold == 0.0
    assert memae.shrink_threshold is None  # 1 / memory_size inside the model
    assert {d.random_state for d in (ae, nonspar, memae)} == {3}
    assert {d.memory_size for d in (ae, nonspar, memae)} == {40}


def test_unknown_variant_is_named() -> None:
    with pytest.raises(ValueError, match="'VAE'"):
        make_detector(TrainConfig(model="mlp"), "VAE", seed=0, n_train=10)


def test_input_transform_is_fitted_on_the_training_rows_before_the_detector() -> None:
    import numpy as np

    config = TrainConfig(model="mlp", model_params={"hidden": (8,), "latent_dim": 2},
                         memory_size=10, epochs=2, input_transform="quantile-uniform")
    X = np.random.default_rng(0).lognormal(size=(300, 4))
    pipeline = make_detector(config, "MemAE", seed=1, n_train=len(X)).fit(X)
    transform, detector = (step for _, step in pipeline.steps)
    assert transform.n_quantiles == 300 and transform.output_distribution == "uniform"
    # the detector saw the rows as quantiles in [0, 1], not the skewed raw values
    assert detector.scale_mean_ == pytest.approx(np.full(4, 0.5), abs=0.01)
    assert pipeline.decision_function(X[:5]) == pytest.approx(
        detector.decision_function(transform.transform(X[:5])))
    with pytest.raises(ValueError, match="input_transform must be one of"):
        make_detector(config.with_(input_transform="rank"), "MemAE", seed=1, n_train=10)


@pytest.mark.parametrize(("n_train", "expected"), [(64, 50), (6400, 20), (64_000, 2), (10**7, 1)])
def test_max_steps_caps_epochs(n_train: int, expected: int) -> None:
    # 100 batches of 64 per epoch at n=6400: 2000 steps / 100 = 20 epochs.
    config = TrainConfig(model="mlp", epochs=50, batch_size=64, max_steps=2000)
    assert epochs_for(config, n_train) == expected
    assert epochs_for(config.with_(max_steps=None), n_train) == 50


def test_parse_config_accepts_known_presets_and_names_unknown_ones() -> None:
    assert parse_config(None, ("paper",)) == set()
    assert parse_config("default", ("paper",)) == set()
    assert parse_config("paper, validation", ("paper", "validation")) == {"paper", "validation"}
    with pytest.raises(ValueError, match=r"\['fast'\].*paper, validation"):
        parse_config("paper,fast", ("paper", "validation"))


def test_mean_std_and_markdown_table() -> None:
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
    assert mean_std([0.5]) == (0.5, 0.0)
    table = markdown_table(["a", "b"], [["x", 0.123456], ["y", "-"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x | 0.1235 |", "| y | - |"]
