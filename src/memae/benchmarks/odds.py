"""``memae benchmark odds``: the ODDS tabular sets, side by side with PyOD.

For every dataset and seed: a 60/40 stratified split; each method is fitted
on the (unlabelled, contaminated) 60% and scores the 40%; ROC-AUC and AUPR
(average precision). Methods: our AE / MemAE-nonSpar / MemAE (one
configuration for all datasets: the ``odds`` preset) and PyOD's ``AutoEncoder``,
``IForest``, ``ECOD`` and ``KNN`` with their default parameters, on exactly the same
splits. PyOD is the
optional ``bench`` extra (``pip install memae[bench]``). ``--config`` also takes
``validation`` (score a stratified quarter of the training part instead of the test
part) and any other tabular preset, by name or path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from memae.ablation import VARIANTS
from memae.benchmarks.base import (
    BenchmarkOptions,
    BenchmarkResult,
    BenchmarkSpec,
    markdown_table,
    mean_std,
    register_benchmark,
)
from memae.benchmarks.detectors import benchmark_preset, make_detector, quick_preset
from memae.benchmarks.parallel import cpu_seconds, run_units
from memae.data import find_dataset, list_odds, load_odds
from memae.presets import Preset

logger = logging.getLogger(__name__)

TEST_SIZE = 0.4
QUICK_DATASETS = ("cardio", "wbc")
BASELINES = ("PyOD AutoEncoder", "PyOD IForest", "PyOD ECOD", "PyOD KNN")
METHODS = (*VARIANTS, *BASELINES)


def _pyod_models(seed: int) -> dict[str, Callable[[], Any]]:
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
        from pyod.models.iforest import IForest
        from pyod.models.knn import KNN
    except ImportError as error:
        raise ImportError("the odds benchmark compares with PyOD, which is not installed; "
                          "pip install 'memae[bench]' (or pip install pyod)") from error
    return {"PyOD AutoEncoder": lambda: AutoEncoder(random_state=seed, verbose=0, device="cpu"),
            "PyOD IForest": lambda: IForest(random_state=seed, n_jobs=1),
            "PyOD ECOD": lambda: ECOD(n_jobs=1),
            "PyOD KNN": lambda: KNN(n_jobs=1)}


def split(X: np.ndarray, y: np.ndarray, seed: int, validation: bool = False
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows a method fits, the rows it scores and their labels, for one seed.

    A stratified 60/40 split; ``validation=True`` never touches the 40% test part:
    the 60% is split again (stratified, 75/25) and its 25% plays the test part's role.
    """
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                                        random_state=seed)
    if validation:
        X_train, X_test, _, y_test = train_test_split(X_train, y_train, test_size=0.25,
                                                      stratify=y_train, random_state=seed)
    return X_train, X_test, y_test


def evaluate_split(name: str, X: np.ndarray, y: np.ndarray, seed: int, preset: Preset,
                   methods: Sequence[str] = METHODS, device: str = "cpu",
                   validation: bool = False) -> list[dict[str, Any]]:
    """Every method on one split of :func:`split`; one row per method."""
    X_train, X_test, y_test = split(X, y, seed, validation)
    baselines = _pyod_models(seed) if any(m in BASELINES for m in methods) else {}
    rows = []
    for method in methods:
        started = time.perf_counter()
        if method in VARIANTS:
            detector = make_detector(preset, method, seed, len(X_train), device).fit(X_train)
        else:
            detector = baselines[method]()
            detector.fit(X_train)
        scores = np.asarray(detector.decision_function(X_test), dtype=np.float64)
        rows.append({"dataset": name, "method": method, "seed": seed,
                     "roc_auc": float(roc_auc_score(y_test, scores)),
                     "aupr": float(average_precision_score(y_test, scores)),
                     "seconds": time.perf_counter() - started})
        logger.info("%s %s seed %d: AUC %.4f", name, method, seed, rows[-1]["roc_auc"])
    return rows


def summarize(rows: Sequence[dict[str, Any]], seeds: Sequence[int],
              validation: bool = False) -> tuple[dict[str, Any], str]:
    """Per-dataset and overall means, mean ranks, and MemAE's wins against each method.

    Means are over seeds per data set, then over data sets. A method's rank on a
    data set is its place by mean ROC-AUC there (1: best; ties share the mean of
    their places); its mean rank averages that over the data sets.
    """
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))

    def cell(dataset: str, method: str, key: str) -> float:
        return mean_std([r[key] for r in rows if r["dataset"] == dataset
                         and r["method"] == method])[0]

    summary: dict[str, Any] = {"datasets": datasets}
    parts = []
    for key, title in (("roc_auc", "ROC-AUC"), ("aupr", "AUPR")):
        per = {d: {m: cell(d, m, key) for m in methods} for d in datasets}
        means = {m: float(np.mean([per[d][m] for d in datasets])) for m in methods}
        table = [[d, *(per[d][m] for m in methods)] for d in datasets]
        table.append([f"**mean {title}**", *(means[m] for m in methods)])
        parts.append(f"{title}\n\n" + markdown_table(["dataset", *methods], table))
        summary[f"per_dataset_{key}"], summary[f"mean_{key}"] = per, means
    per_auc = summary["per_dataset_roc_auc"]
    ranks = np.array([rankdata([-per_auc[d][m] for m in methods]) for d in datasets])
    summary["mean_rank_roc_auc"] = {m: float(r) for m, r in zip(methods, ranks.mean(axis=0),
                                                                  strict=True)}
    parts.append("Mean rank by ROC-AUC (1: best)\n\n" + markdown_table(
        methods, [[summary["mean_rank_roc_auc"][m] for m in methods]]))
    if "MemAE" in methods:
        summary["memae_wins_roc_auc"] = {
            m: f"{sum(per_auc[d]['MemAE'] > per_auc[d][m] for d in datasets)}/{len(datasets)}"
            for m in methods if m != "MemAE"}
        parts.append("Data sets where MemAE's ROC-AUC is higher\n\n" + markdown_table(
            list(summary["memae_wins_roc_auc"]), [list(summary["memae_wins_roc_auc"].values())]))
    if {"MemAE", "AE"} <= set(methods):
        summary["memae_beats_ae_roc_auc"] = summary["memae_wins_roc_auc"]["AE"]
    note = (f"ODDS: stratified {1 - TEST_SIZE:.0%}/{TEST_SIZE:.0%} split per seed, fitted "
            f"on the unlabelled training part; mean over seeds {list(seeds)}. PyOD models "
            f"use their default parameters. MemAE > AE (ROC-AUC) on "
            f"{summary.get('memae_beats_ae_roc_auc', '-')} datasets.")
    if validation:
        note += (" Validation mode: a stratified quarter of the training part is scored; "
                 "the test part is unused.")
    return summary, "\n\n".join(parts) + f"\n\n{note}"


def run(options: BenchmarkOptions) -> BenchmarkResult:
    """All ODDS sets (quick: two of them, one seed) for our three variants and PyOD."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    preset, modes = benchmark_preset(options.config, "odds", "tabular", ("validation",),
                                     preset=options.preset)
    validation = "validation" in modes
    root = find_dataset("odds", options.data_dir)
    names = list_odds(root)
    seeds = options.seeds or ((0,) if options.quick else tuple(range(5)))
    if options.quick:
        names = [n for n in names if n in QUICK_DATASETS]
        preset = quick_preset(preset)
    data = {name: load_odds(root / f"{name}.mat") for name in names}
    methods = METHODS if options.variants is None else options.variants
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"variants must be names from {list(METHODS)}, got {unknown!r}.")

    def unit_rows(unit: tuple[str, int]) -> list[dict[str, Any]]:
        name, seed = unit
        return evaluate_split(name, *data[name], seed, preset, methods, options.device,
                              validation)

    units = [(name, seed) for name in names for seed in seeds]
    rows = [row for rows_of_unit in run_units(unit_rows, units, options.jobs, options.threads)
            for row in rows_of_unit]
    summary, markdown = summarize(rows, seeds, validation)
    settings = {"preset": preset.to_dict(), "seeds": list(seeds), "datasets": names,
                "test_size": TEST_SIZE, "validation": validation}
    settings["cpu_seconds"] = cpu_seconds() - cpu_started
    return BenchmarkResult("odds", rows, summary, markdown, time.perf_counter() - started,
                           settings, preset.name, tuple(seeds), tuple(sorted(modes)))


def validation_metrics(result: BenchmarkResult) -> dict[str, float]:
    """MemAE's ROC-AUC and AUPR: the mean over data sets of the mean over seeds."""
    return {"ROC-AUC": result.summary["mean_roc_auc"]["MemAE"],
            "AUPR": result.summary["mean_aupr"]["MemAE"]}


register_benchmark(BenchmarkSpec("odds", "17 ODDS sets vs PyOD AutoEncoder, IForest, ECOD, KNN",
                                 run, validation_metrics, (8,)))
