"""The benchmarks' detectors: variants over a preset, step caps, --config, tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from memae import MemAEDetector
from memae.ablation import VARIANTS
from memae.benchmarks.detectors import benchmark_preset, epochs_for, make_detector, quick_preset
from memae.ensemble import MemAEEnsemble
from memae.presets import Preset, load_preset


def toy(benchmark: dict[str, Any] | None = None, **detector: Any) -> Preset:
    return Preset(name="toy", kind="tabular", description="a test table",
                  detector={"model": "mlp", "validation_fraction": 0.0, "patience": None,
                            **detector}, benchmark=benchmark or {})


def test_variants_are_the_papers_ablation() -> None:
    ae, nonspar, memae = (make_detector(toy(memory_size=40), v, seed=3, n_train=100)
                          for v in VARIANTS)
    assert list(VARIANTS) == ["AE", "MemAE-nonSpar", "MemAE"]
    assert (ae.memory, nonspar.memory, memae.memory) == (False, True, True)
    # MemAE-nonSpar drops both sparsity terms: hard shrinkage and the entropy loss.
    assert (nonspar.shrink_threshold, nonspar.entropy_weight) == (0.0, 0.0)
    assert memae.shrink_threshold is None  # 1 / memory_size inside the model
    assert ae.entropy_weight == memae.entropy_weight == 0.0002
    assert {d.random_state for d in (ae, nonspar, memae)} == {3}
    assert {d.memory_size for d in (ae, nonspar, memae)} == {40}


def test_unknown_variant_is_named() -> None:
    with pytest.raises(ValueError, match="'VAE'"):
        make_detector(toy(), "VAE", seed=0, n_train=10)


def test_input_transform_is_fitted_on_the_training_rows_before_the_detector() -> None:
    preset = toy({"input_transform": "quantile-uniform"},
                 model_params={"hidden": (8,), "latent_dim": 2}, memory_size=10, epochs=2)
    X = np.random.default_rng(0).lognormal(size=(300, 4))
    pipeline = make_detector(preset, "MemAE", seed=1, n_train=len(X)).fit(X)
    transform, detector = (step for _, step in pipeline.steps)
    assert transform.n_quantiles == 300 and transform.output_distribution == "uniform"
    # the detector saw the rows as quantiles in [0, 1], not the skewed raw values
    assert detector.scale_mean_ == pytest.approx(np.full(4, 0.5), abs=0.01)
    assert pipeline.decision_function(X[:5]) == pytest.approx(
        detector.decision_function(transform.transform(X[:5])))
    with pytest.raises(ValueError, match="input_transform must be one of"):
        make_detector(preset.with_(input_transform="rank"), "MemAE", seed=1, n_train=10)


@pytest.mark.parametrize(("n_train", "expected"), [(64, 50), (6400, 20), (64_000, 2), (10**7, 1)])
def test_max_steps_caps_epochs(n_train: int, expected: int) -> None:
    # 100 batches of 64 per epoch at n=6400: 2000 steps / 100 = 20 epochs.
    assert epochs_for(50, 64, 2000, n_train) == expected
    assert epochs_for(50, 64, None, n_train) == 50
    capped = make_detector(toy({"max_steps": 2000}, epochs=50, batch_size=64), "MemAE", 0,
                           n_train)
    assert capped.epochs == expected


def test_benchmark_config_takes_modes_aliases_names_and_files(tmp_path) -> None:
    assert benchmark_preset(None, "kdd99", "tabular") == (load_preset("kdd99"), set())
    assert benchmark_preset("default", "odds", "tabular")[0].name == "odds"
    preset, modes = benchmark_preset("paper, validation", "cifar10", "images", ("validation",),
                                     {"paper": "cifar10-paper"})
    assert (preset.name, modes) == ("cifar10-paper", {"validation"})
    assert benchmark_preset("cifar10-paper", "cifar10", "images")[0].name == "cifar10-paper"
    mine = tmp_path / "mine.yaml"
    mine.write_text("kind: tabular\ndescription: mine\ndetector: {epochs: 2}\n")
    preset, modes = benchmark_preset(f"csv,{mine}", "kdd99", "tabular", ("csv",))
    assert (preset.detector, modes) == ({"epochs": 2}, {"csv"})
    with pytest.raises(ValueError, match=r"unknown preset 'fast'.*known presets: .*kdd99.*"
                                         r"kdd99 also takes csv, validation"):
        benchmark_preset("fast", "kdd99", "tabular", ("csv", "validation"))
    with pytest.raises(ValueError, match="preset 'mnist' has kind 'images'.*tabular"):
        benchmark_preset("mnist", "kdd99", "tabular")
    with pytest.raises(ValueError, match="more than one preset"):
        benchmark_preset("odds,kdd99", "kdd99", "tabular")


# The MemAE detector each benchmark builds (seed 7), written out in full: a change to a
# preset file or to make_detector that alters a benchmark's detector fails here.
FIXED = {"contamination": 0.1, "device": "cpu", "entropy_weight": 0.0002,
         "learning_rate": 0.001, "memory": True, "patience": None, "random_state": 7,
         "score_batch_size": 1024, "shrink_threshold": None, "target_fpr": None,
         "validation_fraction": 0.0, "verbose": False, "weight_decay": 0.0,
         "lr_schedule": "constant", "max_steps": None, "precision": "fp32",
         "pseudo_anomaly": 0.0, "pseudo_anomaly_kind": "patch"}
WIDE_COSINE = {"hidden": (128, 64), "latent_dim": 32, "addressing": "cosine",
               "temperature": 0.02}
KDD = {**FIXED, "batch_size": 1024, "epochs": 4, "memory_size": 2000, "model": "mlp_kdd99",
       "model_params": WIDE_COSINE, "standardize": False}
ODDS = {**FIXED, "batch_size": 64, "memory_size": 2000, "model": "mlp",
        "model_params": WIDE_COSINE, "standardize": "auto"}
ONE_CODE = {"channels": (16, 32, 64, 64), "kernel_sizes": (3, 3, 3, 7), "strides": (2, 2, 2, 7),
            "decoder_kernel_sizes": (7, 3, 3, 3), "addressing": "cosine", "temperature": 0.05}
MNIST = {**FIXED, "batch_size": 64, "epochs": 50, "memory_size": None,
         "model": "conv2d_mnist", "model_params": ONE_CODE, "standardize": "auto"}
CIFAR = {**MNIST, "epochs": 10, "model": "conv2d_cifar10"}
CIFAR_PAPER = {**CIFAR, "model_params": {"addressing": "cosine", "temperature": 0.05}}
QUANTILE = {"copy": True, "ignore_implicit_zeros": False, "n_quantiles": 1000,
            "output_distribution": "uniform", "random_state": 7, "subsample": 10_000}
ENSEMBLE = {"contamination": 0.1, "max_samples": 512, "n_estimators": 10, "random_state": 7,
            "target_fpr": None}
# (preset, --quick, rows it trains on) -> what make_detector builds for MemAE
BUILT: dict[tuple[str, bool, int], dict[str, Any]] = {
    ("kdd99", False, 197_000): {"transform": QUANTILE, "detector": KDD},
    ("kdd99", False, 40_000): {"transform": QUANTILE, "detector": KDD},
    ("kdd99", True, 40_000): {"transform": QUANTILE,
                              "detector": {**KDD, "epochs": 3, "batch_size": 256}},
    # <= 100 steps of 64 rows over min(512, n) rows per member
    ("odds", False, 150): {"ensemble": ENSEMBLE, "member": {**ODDS, "epochs": 34}},
    ("odds", False, 300): {"ensemble": ENSEMBLE, "member": {**ODDS, "epochs": 20}},
    ("odds", False, 5000): {"ensemble": ENSEMBLE, "member": {**ODDS, "epochs": 13}},
    ("odds", True, 300): {"ensemble": ENSEMBLE, "member": {**ODDS, "epochs": 20}},
    ("mnist", False, 900): MNIST,
    ("mnist", True, 900): {**MNIST, "epochs": 15},
    ("cifar10", False, 4500): CIFAR,
    ("cifar10", True, 4500): {**CIFAR, "epochs": 3},
    ("cifar10-paper", False, 4500): CIFAR_PAPER,
    ("cifar10-paper", True, 4500): {**CIFAR_PAPER, "epochs": 3},
}
# what each variant changes in the MemAE detector
CHANGES = {"AE": {"memory": False}, "MemAE-nonSpar": {"shrink_threshold": 0.0,
                                                      "entropy_weight": 0.0}, "MemAE": {}}
IMAGE_SETTINGS = {"mnist": "gcn_l1", "cifar10": "gcn_l1", "cifar10-paper": "gcn_l1"}


def built(detector: Any) -> dict[str, Any]:
    """What a benchmark detector is made of, as plain parameters."""
    if isinstance(detector, Pipeline):
        (_, transform), (_, last) = detector.steps
        return {"transform": transform.get_params(), "detector": built(last)}
    if isinstance(detector, MemAEEnsemble):
        params = detector.get_params(deep=False)
        return {"ensemble": {k: v for k, v in params.items() if k != "estimator"},
                "member": built(params["estimator"])}
    return detector.get_params()


def changed(expected: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for wrapped in ("detector", "member"):
        if wrapped in expected:
            return {**expected, wrapped: changed(expected[wrapped], changes)}
    return {**expected, **changes}


@pytest.mark.parametrize(("name", "quick", "n_train"), list(BUILT))
@pytest.mark.parametrize("variant", list(CHANGES))
def test_benchmarks_build_the_fixed_detectors(name: str, quick: bool, n_train: int,
                                              variant: str) -> None:
    preset = load_preset(name)
    preset = quick_preset(preset) if quick else preset
    detector = make_detector(preset, variant, seed=7, n_train=n_train)
    assert built(detector) == changed(BUILT[name, quick, n_train], CHANGES[variant])
    settings = preset.settings
    assert settings.image_normalization == IMAGE_SETTINGS.get(name, "none")
    assert settings.augmentation == "none"


def test_benchmark_config_builds_an_ensemble_with_member_step_budgets() -> None:
    config = Preset(name="bagged", kind="tabular", description="4 members of 256 rows",
                    detector={"model": "mlp", "epochs": 100, "batch_size": 64},
                    benchmark={"max_steps": 100, "n_estimators": 4, "max_samples": 256})
    built = make_detector(config, "MemAE-nonSpar", 3, n_train=10_000)
    assert isinstance(built, MemAEEnsemble)
    assert (built.n_estimators, built.max_samples, built.random_state) == (4, 256, 3)
    # 256 rows are 4 batches of 64, so 100 steps are 25 epochs per member.
    assert built.estimator.epochs == 25 and built.estimator.shrink_threshold == 0.0
    assert isinstance(make_detector(config.with_(n_estimators=1), "MemAE", 3, 10_000),
                      MemAEDetector)
