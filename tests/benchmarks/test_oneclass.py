"""The one-class protocol on synthetic images, with hand-checkable numbers."""

from __future__ import annotations

import numpy as np
import pytest

from memae.benchmarks.oneclass import (
    ImageBenchmark,
    ImageSplits,
    augment_images,
    holdout_split,
    normalize_images,
    run_image_benchmark,
    run_oneclass,
    subsample,
    summarize_oneclass,
)
from memae.presets import Preset


def bars(n: int, vertical: bool, seed: int) -> np.ndarray:
    """(n, 1, 12, 12) images: one bright bar at a random position on faint noise."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 0.1, size=(n, 1, 12, 12)).astype(np.float32)
    for image, pos in zip(images, rng.integers(2, 10, size=n), strict=True):
        if vertical:
            image[0, :, pos] = 1.0
        else:
            image[0, pos, :] = 1.0
    return images


def test_holdout_split_is_stratified_and_disjoint() -> None:
    labels = np.repeat(np.arange(3), [100, 50, 10])
    images = np.arange(len(labels), dtype=np.float32)
    train_x, train_y, val_x, val_y = holdout_split(images, labels, 0.2, seed=0)
    assert np.bincount(val_y).tolist() == [20, 10, 2]
    assert np.bincount(train_y).tolist() == [80, 40, 8]
    assert not set(train_x.tolist()) & set(val_x.tolist())
    assert sorted([*train_x.tolist(), *val_x.tolist()]) == images.tolist()
    again = holdout_split(images, labels, 0.2, seed=0)[2]
    np.testing.assert_array_equal(val_x, again)
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(images, labels, 1.0, seed=0)


def test_subsample_keeps_order_and_size() -> None:
    images, labels = np.arange(10.0), np.arange(10)
    sub_x, sub_y = subsample(images, labels, 4, seed=1)
    assert len(sub_y) == 4 and np.all(np.diff(sub_y) > 0)
    np.testing.assert_array_equal(sub_x, sub_y.astype(float))
    assert subsample(images, labels, 20, seed=1)[1] is labels


TWO_STAGES = {"channels": (8, 8), "kernel_sizes": (3, 3), "strides": (2, 2),
              "decoder_kernel_sizes": (3, 3)}
SMALL_CONV = Preset(name="small", kind="images", description="two conv stages, 10 items",
                    detector={"model": "conv2d", "model_params": TWO_STAGES, "memory_size": 10,
                              "epochs": 20, "batch_size": 32, "learning_rate": 3e-3,
                              "validation_fraction": 0.0, "patience": None},
                    benchmark={"quick": {"epochs": 2}})


def test_validation_mode_never_reads_the_evaluation_split() -> None:
    train = np.concatenate([bars(40, False, 0), bars(40, True, 1)])
    poisoned = np.full((10, 1, 12, 12), np.nan, dtype=np.float32)
    splits = ImageSplits(train, np.repeat([0, 1], 40), poisoned, np.repeat([0, 1], 5),
                         ["horizontal", "vertical"])
    spec = ImageBenchmark(name="bars", paper={}, note="", validation_fraction=0.25,
                          quick_classes=(0,), quick_variants=("AE",))
    rows, _, markdown, settings = run_image_benchmark(
        spec, splits, SMALL_CONV, quick=True, validation=True, seeds=[0], device="cpu")
    assert settings["n_train_images"] == 60 and settings["n_eval_images"] == 20
    assert settings["preset"]["detector"]["epochs"] == 2  # benchmark.quick
    assert [(r["class"], r["variant"]) for r in rows] == [("horizontal", "AE")]
    assert "test split unused" in markdown
    with pytest.raises(ValueError, match="NaN"):
        run_image_benchmark(spec, splits, SMALL_CONV, quick=True, validation=False,
                            seeds=[0], device="cpu")


def test_oneclass_protocol_separates_synthetic_classes() -> None:
    train = np.concatenate([bars(64, False, 0), bars(64, True, 1)])
    evaluation = np.concatenate([bars(40, False, 2), bars(40, True, 3)])
    labels = np.repeat([0, 1], 64)
    eval_labels = np.repeat([0, 1], 40)
    splits = ImageSplits(train, labels, evaluation, eval_labels, ["horizontal", "vertical"])
    rows = run_oneclass(splits, SMALL_CONV, classes=[0, 1], seeds=[0], variants=("MemAE",))
    assert [(r["class"], r["variant"], r["seed"]) for r in rows] == [
        ("horizontal", "MemAE", 0), ("vertical", "MemAE", 0)]
    # A bar orientation never seen in training reconstructs badly.
    assert min(r["roc_auc"] for r in rows) > 0.85, rows
    assert all(0.5 < r["aupr"] <= 1.0 for r in rows)


def test_summary_averages_seeds_then_classes() -> None:
    rows = [{"class": c, "variant": v, "seed": s, "roc_auc": auc, "aupr": auc / 2}
            for c, v, s, auc in [("a", "AE", 0, 0.6), ("a", "AE", 1, 0.8), ("b", "AE", 0, 0.9),
                                 ("a", "MemAE", 0, 1.0), ("b", "MemAE", 0, 0.8)]]
    summary, markdown = summarize_oneclass(rows, {"AE": 0.5, "MemAE": 0.75}, "note.")
    assert summary["per_class_roc_auc"]["a"]["AE"] == pytest.approx(0.7)
    assert summary["mean_roc_auc"]["AE"] == pytest.approx(0.8)  # (0.7 + 0.9) / 2
    assert summary["mean_roc_auc"]["MemAE"] == pytest.approx(0.9)
    assert summary["mean_aupr"]["MemAE"] == pytest.approx(0.45)
    assert "| **mean ROC-AUC (ours)** | 0.8000 | 0.9000 |" in markdown
    assert "| mean ROC-AUC (paper) | 0.5000 | 0.7500 |" in markdown
    assert markdown.endswith("note.")


def test_gcn_l1_normalises_each_image_on_its_own() -> None:
    images = np.zeros((3, 1, 2, 2), dtype=np.float32)
    images[0, 0] = [[0, 0], [0, 4]]  # mean 1, deviations -1 -1 -1 3, mean |dev| 1.5
    images[1] = 10 * images[0] + 5  # same shape, more contrast and brightness
    # images[2] stays constant: no contrast to normalise, it stays zero
    out = normalize_images(images, "gcn_l1")
    np.testing.assert_allclose(out[0, 0], [[-2 / 3, -2 / 3], [-2 / 3, 2]], rtol=1e-6)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-5)
    np.testing.assert_array_equal(out[2], 0.0)
    assert out.dtype == np.float32 and normalize_images(images, "none") is images
    with pytest.raises(ValueError, match="image_normalization: got 'l2'"):
        normalize_images(images, "l2")


def test_shift1_appends_eight_one_pixel_shifts_with_edge_repeat() -> None:
    images = np.arange(2 * 1 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4)
    out = augment_images(images, "shift1")
    assert out.shape == (18, 1, 3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:2], images)  # the originals come first
    blocks = out.reshape(9, 2, 1, 3, 4)
    # every block is one shift of both images; each shift appears once
    shifted_right = np.concatenate([images[..., :1], images[..., :-1]], axis=-1)
    shifted_down = np.concatenate([images[..., :1, :], images[..., :-1, :]], axis=-2)
    down_right = np.concatenate([shifted_down[..., :1], shifted_down[..., :-1]], axis=-1)
    for expected in (shifted_right, shifted_down, down_right):
        assert sum(np.array_equal(b, expected) for b in blocks) == 1
    assert len({b.tobytes() for b in blocks}) == 9


def test_hflip_appends_mirrors_and_unknown_names_are_refused() -> None:
    images = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
    out = augment_images(images, "hflip")
    np.testing.assert_array_equal(out[2:, 0, 0], [[1, 0], [5, 4]])
    assert augment_images(images, "none") is images
    with pytest.raises(ValueError, match="augmentation: got 'rotate'"):
        augment_images(images, "rotate")


def test_augmentation_enlarges_only_the_training_images() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((40, 1, 8, 8), dtype=np.float32)
    labels = np.repeat([0, 1], 20)
    splits = ImageSplits(images[::2], labels[::2], images[1::2], labels[1::2], ["a", "b"])
    config = SMALL_CONV.with_(epochs=1, batch_size=5, augmentation="hflip")
    rows = run_oneclass(splits, config, classes=[0], seeds=[0], variants=["MemAE"])
    plain = run_oneclass(splits, config.with_(augmentation="none"), classes=[0], seeds=[0],
                         variants=["MemAE"])
    assert rows[0]["roc_auc"] != plain[0]["roc_auc"]  # the training set changed


def test_two_jobs_give_the_rows_of_one() -> None:
    rng = np.random.default_rng(1)
    images = rng.random((40, 1, 8, 8), dtype=np.float32)
    labels = np.repeat([0, 1], 20)
    images[labels == 0, :, 2:6, 2:6] += 1.0
    splits = ImageSplits(images[::2], labels[::2], images[1::2], labels[1::2], ["a", "b"])
    config = SMALL_CONV.with_(epochs=2, batch_size=5)

    def rows(jobs: int) -> list[dict]:
        out = run_oneclass(splits, config, classes=[0, 1], seeds=[0], jobs=jobs)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in out]

    serial = rows(1)
    assert [(r["class"], r["variant"]) for r in serial] == [
        (c, v) for c in "ab" for v in ("AE", "MemAE-nonSpar", "MemAE")]
    assert rows(2) == serial


def test_an_ensemble_config_runs_the_protocol() -> None:
    rng = np.random.default_rng(0)
    images = 0.3 * rng.random((60, 1, 8, 8), dtype=np.float32)
    labels = np.repeat([0, 1], 30)
    images[labels == 0, :, 2:6, 2:6] += 1.0  # class 0 (normal): a bright square
    images[labels == 1, :, 0:3, :] += 1.0  # class 1: a bright band at the top
    splits = ImageSplits(images[::2], labels[::2], images[1::2], labels[1::2], ["a", "b"])
    config = Preset(name="bagged", kind="images", description="two small nets on 10 images",
                    detector={"model": "conv2d", "epochs": 5, "validation_fraction": 0.0,
                              "patience": None,
                              "model_params": {**TWO_STAGES, "channels": (4, 8)}},
                    benchmark={"n_estimators": 2, "max_samples": 10})
    rows = run_oneclass(splits, config, classes=[0], seeds=[0], variants=["MemAE"])
    assert len(rows[0]["epochs"]) == 2
    assert rows[0]["roc_auc"] >= 0.9  # 1.0 measured: every band ranks above every square
