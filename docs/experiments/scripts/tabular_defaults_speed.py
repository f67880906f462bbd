"""Speed check of the tabular-defaults candidates against PyOD's AutoEncoder defaults.

For cardio, satellite, shuttle and mnist: the odds benchmark's stratified 60/40 split
(seed 0), then its validation split of the 60% (75/25, stratified, seed 0); every
method is fitted on the 75% and scores the 25% (the test part is never read). Methods:
PyOD's ``AutoEncoder`` with its defaults, the ``tabular`` preset, and each point of the
grids as a change to it (labelled GRID:N), built as ``memae benchmark odds`` builds
MemAE. One torch thread; one warm-up fit of PyOD and of the preset, then ``--repeats``
rounds that run every method once in turn; medians of fit + score wall time. Prints
one table per set and, per candidate, whether its median is at most PyOD's on every
set; writes the times (and, for reference, each run's validation ROC-AUC) to OUT.

    OMP_NUM_THREADS=1 python docs/experiments/scripts/tabular_defaults_speed.py DATA_DIR \
        OUT.json [--grids docs/experiments/grids/tabular.yaml ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pyod.models.auto_encoder import AutoEncoder
from sklearn.metrics import roc_auc_score

from memae.benchmarks.detectors import make_detector
from memae.benchmarks.odds import split
from memae.benchmarks.selection import load_grid, point_preset
from memae.data.odds import load_odds
from memae.presets import Preset, load_preset

SETS = ("cardio", "satellite", "shuttle", "mnist")
PYOD = "PyOD AutoEncoder"


def timed(make: Callable[[], Any], X_fit: np.ndarray, X_val: np.ndarray,
          y_val: np.ndarray) -> tuple[float, float]:
    """Fit + score wall time and the validation ROC-AUC of one fresh detector."""
    started = time.perf_counter()
    detector = make()
    detector.fit(X_fit)
    scores = np.asarray(detector.decision_function(X_val), dtype=np.float64)
    return time.perf_counter() - started, float(roc_auc_score(y_val, scores))


def main() -> None:
    """Time every candidate and PyOD on the four sets; print and write the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--grids", type=Path, nargs="+",
                        default=[Path("docs/experiments/grids/tabular.yaml")])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = load_preset("tabular")
    candidates: dict[str, Preset] = {"preset": base}
    for grid in args.grids:
        for index, point in enumerate(load_grid(grid).points(), start=1):
            candidates[f"{grid.stem}:{index}"] = point_preset(base, point, str(grid))
    results: dict[str, Any] = {"repeats": args.repeats, "sets": {}}
    for name in SETS:
        X, y = load_odds(args.data_dir / "odds" / f"{name}.mat")
        X_fit, X_val, y_val = split(X, y, 0, validation=True)

        def makers(n_fit: int = len(X_fit)) -> dict[str, Callable[[], Any]]:
            made: dict[str, Callable[[], Any]] = {
                PYOD: lambda: AutoEncoder(random_state=0, verbose=0, device="cpu")}
            for label, preset in candidates.items():
                made[label] = (lambda p=preset: make_detector(p, "MemAE", 0, n_fit, "cpu"))
            return made

        methods = makers()
        for warm in (PYOD, "preset"):
            timed(methods[warm], X_fit, X_val, y_val)
        seconds: dict[str, list[float]] = {m: [] for m in methods}
        aucs: dict[str, float] = {}
        for _ in range(args.repeats):
            for method, make in methods.items():
                spent, aucs[method] = timed(make, X_fit, X_val, y_val)
                seconds[method].append(spent)
        medians = {m: float(np.median(s)) for m, s in seconds.items()}
        results["sets"][name] = {"rows": len(X_fit), "seconds": seconds, "median": medians,
                                 "validation_roc_auc": aucs}
        print(f"\n{name} ({len(X_fit)} training rows): median fit + score seconds, ratio to "
              f"PyOD, validation ROC-AUC")
        for method in methods:
            ratio = medians[method] / medians[PYOD]
            print(f"  {method:>18}  {medians[method]:7.2f} s  {ratio:5.2f}x  "
                  f"{aucs[method]:.4f}")
        args.out.write_text(json.dumps(results, indent=2))
    fast = {label: all(results["sets"][s]["median"][label] <= results["sets"][s]["median"][PYOD]
                       for s in SETS) for label in candidates}
    results["fast"] = fast
    args.out.write_text(json.dumps(results, indent=2))
    print("\nfast (at most PyOD's median on all four):",
          ", ".join(label for label, ok in fast.items() if ok) or "none")


if __name__ == "__main__":
    main()
