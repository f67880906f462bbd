"""Mean ± std over seeds of Ped2 results written by separate ``memae benchmark ped2`` runs.

Reads the JSON each run wrote (one seed each, e.g. run side by side on two cores) and
prints, per scoring mode, the frame AUC, the frame AUC before the temporal moving average
(``frame_auc_unsmoothed``, where the run has it) and the pixel AUROC: every file's value,
then the mean and the population standard deviation, as the other benchmarks report
seeds. This is how the "mean ± std over seeds" rows of ``docs/video.md`` are computed.

Usage::

    python benchmarks/ped2_seed_summary.py results/ped2/ped2_cpu_diff80avg7_seed{0,1,2}.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from memae.benchmarks.ablation import markdown_table, mean_std

MODES = ("sliding", "fast")
METRICS = ("frame_auc", "frame_auc_unsmoothed", "pixel_auc")


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The result rows of one ``ped2`` JSON file, with a clear error for anything else."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"{path}: cannot read it as JSON ({error}); pass the .json files "
                         "that `memae benchmark ped2` wrote.") from error
    if not isinstance(result, dict) or result.get("name") != "ped2":
        raise SystemExit(f"{path}: not a `memae benchmark ped2` result (no \"name\": \"ped2\").")
    return result["rows"]


def summary_rows(files: list[Path]) -> list[list[Any]]:
    """One table row per mode and metric: the files' values, then mean ± std."""
    runs = [load_rows(path) for path in files]
    table = []
    for mode in MODES:
        for metric in METRICS:
            values = [next((r.get(metric) for r in rows if r["mode"] == mode), None)
                      for rows in runs]
            present = [v for v in values if v is not None]
            if not present:
                continue
            mean, std = mean_std(present)
            cells = ["n/a" if v is None else v for v in values]
            table.append([mode, metric, *cells, f"{mean:.4f} ± {std:.4f} (n={len(present)})"])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+", help="ped2 result JSON files")
    args = parser.parse_args()
    header = ["mode", "metric", *(path.stem for path in args.files), "mean ± std"]
    print(markdown_table(header, summary_rows(args.files)))


if __name__ == "__main__":
    main()
