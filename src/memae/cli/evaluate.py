"""``memae evaluate SCORES``: ROC-AUC, average precision, precision/recall/F1 from a scores CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memae.atomic import check_file_target, write_json_atomic
from memae.cli.common import add_common_options
from memae.data.inputs import binary_labels
from memae.data.tabular import load_table
from memae.metrics import anomaly_metrics
from memae.scores_file import column, read_scores


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae evaluate SCORES`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "evaluate", help="metrics of a scores file against true labels",
        description="Labels come from the scores file's label column or from --labels, a "
                    "table with one row per score (same order).")
    parser.add_argument("scores", type=Path, help="scores CSV (from `memae score`)")
    parser.add_argument("--labels", type=Path, default=None,
                        help="table holding the labels (CSV, Parquet, NPZ with y)")
    parser.add_argument("--label-col", default="label", help="label column (default: label)")
    parser.add_argument("--normal-labels", nargs="+", default=(), metavar="VALUE",
                        help="label values that are normal (default: labels are 0/1)")
    parser.add_argument("--out", type=Path, default=None, help="also write metrics as JSON")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the anomaly metrics of a scores file against its labels (and write ``--out``)."""
    if args.out is not None:
        check_file_target(args.out, "--out")
    columns = read_scores(args.scores)
    source = f"scores file {str(args.scores)!r}"
    scores = column(columns, "score", float, source)
    if args.labels is not None:
        table = load_table(args.labels, label_col=None if args.labels.suffix == ".npz"
                           else args.label_col)
        if table.y is None:
            raise ValueError(f"--labels {str(args.labels)!r} holds no labels; an NPZ needs "
                             "the key y, a table the column --label-col.")
        raw, where = table.y, f"labels in {str(args.labels)!r}"
    elif args.label_col in columns:
        raw, where = columns[args.label_col], f"column {args.label_col!r} of {source}"
    else:
        raise ValueError(f"{source} has no {args.label_col!r} column; pass --labels FILE "
                         "or --label-col NAME.")
    if len(raw) != len(scores):
        raise ValueError(f"{where} has {len(raw)} rows but there are {len(scores)} scores; "
                         "give one label per score, in the same order.")
    if not args.normal_labels and raw.dtype.kind == "U":
        try:
            raw = raw.astype(np.float64)
        except ValueError:
            pass  # binary_labels names the values and the fix
    labels = binary_labels(raw, args.normal_labels, where)
    predicted = None
    if "anomaly" in columns:
        predicted = binary_labels(column(columns, "anomaly", float, source), (),
                                  f"column 'anomaly' of {source}",
                                  "it must hold the 0/1 decisions `memae score` writes.")
    metrics = anomaly_metrics(labels, scores, predicted)
    for key, value in metrics.items():
        print(f"{key:>18}  {value:.4f}" if isinstance(value, float) else f"{key:>18}  {value}")
    if args.out is not None:
        write_json_atomic(args.out, metrics, "--out")
    return 0
