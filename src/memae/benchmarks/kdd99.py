"""``memae benchmark kdd99``: KDDCUP99 under the DAGMM protocol (Gong et al. 2019, Table 3).

The ``normal.`` traffic (about 20%) is the anomaly class. For every seed the
data is split 50/50 at random; a detector is trained on the non-anomalous
samples of the first half; on the second half the top 20% of scores are
flagged; precision, recall and F1 of that flagging are averaged over seeds.

The detector is the ``kdd99`` preset's (``memae presets kdd99``). ``--config``
also takes ``csv`` (read the raw CSV and min-max scale it on the training half),
``validation`` (score a held-out fifth of the training half instead of the test
half) and any other tabular preset, by name or path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score
from sklearn.preprocessing import MinMaxScaler

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
from memae.data import find_dataset, load_kddcup99
from memae.presets import Preset

logger = logging.getLogger(__name__)

FLAG_SHARE = 0.2  # the protocol flags the top 20% of test scores
PAPER = {"AE": {"f1": 0.9342},
         "MemAE": {"precision": 0.9627, "recall": 0.9655, "f1": 0.9641}}
QUICK_ROWS = 100_000


def load_kdd(options: BenchmarkOptions, raw_csv: bool) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1 = ``normal.`` traffic, the anomaly class)."""
    root = find_dataset("kdd99", options.data_dir)
    name = "kddcup.data_10_percent.gz" if raw_csv else "kdd_cup.npz"
    X, y, _ = load_kddcup99(root / name)
    return X, y.astype(np.int64)


def split_rows(y: np.ndarray, seed: int, validation: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of one seed: the training rows (non-anomalous only) and the scored rows.

    A random 50/50 split; ``validation=True`` scores a fifth of the training
    half (anomalies included) instead of the test half, and trains on the rest.
    """
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:len(y) // 2], order[len(y) // 2:]
    if validation:
        train, test = train[len(train) // 5:], train[:len(train) // 5]
    return train[y[train] == 0], test


def evaluate_seed(X: np.ndarray, y: np.ndarray, preset: Preset, variant: str, seed: int,
                  *, scale: bool, validation: bool = False, device: str = "cpu"
                  ) -> dict[str, Any]:
    """One 50/50 split, one detector, the top-20% flagging on the test half.

    ``validation=True`` never touches the test half: a fifth of the training
    half (anomalies included) is held out and plays the test half's role.
    """
    started = time.perf_counter()
    train, test = split_rows(y, seed, validation)
    X_train, X_test = X[train], X[test]
    if scale:
        # Min-max scaling fitted on the training half only (the raw CSV path).
        scaler = MinMaxScaler().fit(X_train)
        X_train = scaler.transform(X_train).astype(np.float32)
        X_test = np.clip(scaler.transform(X_test), -10, 10).astype(np.float32)
    detector = make_detector(preset, variant, seed, len(train), device).fit(X_train)
    scores = detector.decision_function(X_test)
    flagged = (scores > np.quantile(scores, 1 - FLAG_SHARE)).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y[test], flagged, average="binary", zero_division=0)
    row = {"variant": variant, "seed": seed, "precision": float(precision),
           "recall": float(recall), "f1": float(f1),
           "roc_auc": float(roc_auc_score(y[test], scores)),
           "seconds": time.perf_counter() - started}
    logger.info("%s seed %d: F1 %.4f", variant, seed, f1)
    return row


def summarize(rows: Sequence[dict[str, Any]], seeds: Sequence[int],
              source: str) -> tuple[dict[str, Any], str]:
    """Mean and std over seeds per variant, with the paper's numbers beside them."""
    summary: dict[str, Any] = {}
    table = []
    for variant in VARIANTS:
        picked = [r for r in rows if r["variant"] == variant]
        if not picked:
            continue
        stats = {k: mean_std([r[k] for r in picked])
                 for k in ("precision", "recall", "f1", "roc_auc")}
        summary[variant] = {k: {"mean": m, "std": s} for k, (m, s) in stats.items()}
        paper = PAPER.get(variant, {})
        table.append([variant, *(f"{stats[k][0]:.4f} ± {stats[k][1]:.4f}"
                                 for k in ("precision", "recall", "f1", "roc_auc")),
                      *(paper.get(k, "-") for k in ("precision", "recall", "f1"))])
    header = ["variant", "precision", "recall", "F1", "ROC-AUC",
              "paper precision", "paper recall", "paper F1"]
    note = (f"KDDCUP99 10% ({source}), DAGMM protocol: random 50/50 split per seed, trained "
            f"on the non-anomalous first half, top {FLAG_SHARE:.0%} of test scores flagged; "
            f"mean ± std over seeds {list(seeds)}.")
    return {"variants": summary, "paper": PAPER}, markdown_table(header, table) + f"\n\n{note}"


def run(options: BenchmarkOptions) -> BenchmarkResult:
    """KDDCUP99 for AE, MemAE-nonSpar and MemAE over (by default) 20 seeds."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    preset, modes = benchmark_preset(options.config, "kdd99", "tabular", ("csv", "validation"),
                                     preset=options.preset)
    raw_csv, validation = "csv" in modes, "validation" in modes
    X, y = load_kdd(options, raw_csv)
    seeds = options.seeds or tuple(range(20))
    if options.quick:
        keep = np.sort(np.random.default_rng(0).choice(len(y), QUICK_ROWS, replace=False))
        X, y, seeds = X[keep], y[keep], options.seeds or (0,)
        preset = quick_preset(preset)

    def unit_row(unit: tuple[int, str]) -> dict[str, Any]:
        seed, variant = unit
        return evaluate_seed(X, y, preset, variant, seed, scale=raw_csv,
                             validation=validation, device=options.device)

    units = [(seed, variant) for seed in seeds for variant in options.variants or VARIANTS]
    rows = run_units(unit_row, units, options.jobs, options.threads)
    source = "raw CSV, min-max fitted on training data" if raw_csv else "kdd_cup.npz"
    if validation:
        source += "; validation: a held-out fifth of the training half, test half unused"
    summary, markdown = summarize(rows, seeds, source)
    settings = {"preset": preset.to_dict(), "seeds": list(seeds), "source": source,
                "n_rows": int(len(y))}
    settings["cpu_seconds"] = cpu_seconds() - cpu_started
    return BenchmarkResult("kdd99", rows, summary, markdown, time.perf_counter() - started,
                           settings, preset.name, tuple(seeds), tuple(sorted(modes)))


def validation_metrics(result: BenchmarkResult) -> dict[str, float]:
    """MemAE's F1 and ROC-AUC, mean over seeds."""
    memae = result.summary["variants"]["MemAE"]
    return {"F1": memae["f1"]["mean"], "ROC-AUC": memae["roc_auc"]["mean"]}


register_benchmark(BenchmarkSpec("kdd99", "KDDCUP99 (DAGMM protocol), precision/recall/F1",
                                 run, validation_metrics, (118,)))
