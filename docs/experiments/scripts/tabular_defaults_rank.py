"""The tabular-defaults rule applied to the selections' files (validation numbers only).

Reads the ``memae select --preset tabular --protocol odds|kdd99`` JSON files of each
grid and the speed script's JSON; ranks every configuration (the preset and each grid
point, labelled GRID:N) on each of the 18 panel sets (17 ODDS sets, KDDCUP99) by
validation ROC-AUC (1 best, ties share); marks a configuration eligible when it is fast
and within ``--margin`` of the preset on both the ODDS mean and KDDCUP99; prints the
table and the choice: the eligible configuration of lowest mean rank, or, within
``--tie`` of it, the first of those in ``--cheapest-first`` order.

    python docs/experiments/scripts/tabular_defaults_rank.py SPEED.json SELECT_DIR \
        --grids tabular tabular-epochs --cheapest-first LABEL ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata


def configurations(select_dir: Path, grids: list[str]) -> dict[str, dict[str, float]]:
    """Label -> {panel set: mean validation ROC-AUC}; the preset once, as ``preset``."""
    table: dict[str, dict[str, float]] = {}
    for grid in grids:
        odds = _load(select_dir / f"select_tabular_odds_{grid}_seeds0-1.json")
        kdd = _load(select_dir / f"select_tabular_kdd99_{grid}_seeds0-1.json")
        for odds_row, kdd_row in zip(odds["rows"], kdd["rows"], strict=True):
            label = "preset" if odds_row["point"] == 0 else f"{grid}:{odds_row['point']}"
            per = odds_row["result"]["summary"]["per_dataset_roc_auc"]
            values = {name: float(cells["MemAE"]) for name, cells in per.items()}
            values["kdd99"] = float(kdd_row["metrics"]["ROC-AUC"])
            table.setdefault(label, values)
    return table


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def main() -> None:
    """Print every configuration's mean rank, halves, speed and eligibility, and the choice."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("speed", type=Path)
    parser.add_argument("select_dir", type=Path)
    parser.add_argument("--grids", nargs="+", default=["tabular", "tabular-epochs"])
    parser.add_argument("--margin", type=float, default=0.005)
    parser.add_argument("--tie", type=float, default=0.25)
    parser.add_argument("--cheapest-first", nargs="+", default=[])
    args = parser.parse_args()
    table = configurations(args.select_dir, args.grids)
    fast = _load(args.speed)["fast"]
    labels = list(table)
    sets = list(table["preset"])
    ranks = np.array([rankdata([-table[label][s] for label in labels]) for s in sets])
    mean_rank = dict(zip(labels, ranks.mean(axis=0), strict=True))

    def odds_mean(label: str) -> float:
        return float(np.mean([table[label][s] for s in sets if s != "kdd99"]))

    eligible = {label: bool(fast.get(label, False))
                and odds_mean(label) >= odds_mean("preset") - args.margin
                and table[label]["kdd99"] >= table["preset"]["kdd99"] - args.margin
                for label in labels}
    print("| configuration | mean rank | ODDS | KDDCUP99 | fast | eligible |")
    print("|---|---:|---:|---:|---|---|")
    for label in sorted(labels, key=mean_rank.__getitem__):
        print(f"| {label} | {mean_rank[label]:.2f} | {odds_mean(label):.4f} | "
              f"{table[label]['kdd99']:.4f} | {'yes' if fast.get(label) else 'no'} | "
              f"{'yes' if eligible[label] else 'no'} |")
    chosen = [label for label in labels if eligible[label]]
    if not chosen:
        print("\nnone eligible: the preset stays")
        return
    best = min(mean_rank[label] for label in chosen)
    tied = [label for label in chosen if mean_rank[label] <= best + args.tie]
    order = [label for label in args.cheapest_first if label in tied]
    pick = order[0] if order else min(tied, key=mean_rank.__getitem__)
    print(f"\nlowest eligible mean rank {best:.2f}; within {args.tie}: {tied}; chosen: {pick}")


if __name__ == "__main__":
    main()
