"""``memae demo``: the offline one-class digits demo (MemAE vs the plain AE)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memae.atomic import check_file_target, write_json_atomic
from memae.cli.common import add_common_options, set_threads, show_progress
from memae.demo import run_demo


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae demo`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "demo", help="one-class digits demo, fully offline",
        description="Each of scikit-learn's 8x8 digits in turn is normal; MemAE and the plain "
                    "autoencoder train with identical settings; prints ROC-AUC per digit.")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)),
                        choices=range(10), metavar="D", help="digits to run (default all)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    add_common_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the digits demo, print its ROC-AUC table (and write ``--json``); 0 on success."""
    set_threads(args.threads)
    if args.json is not None:
        check_file_target(args.json, "--json")
    progress = show_progress(args)
    if progress:  # on stderr: stdout holds the table alone
        print(f"memae demo: {2 * len(args.digits)} fits (MemAE and the plain autoencoder per "
              "normal digit), a few seconds each on one CPU thread", file=sys.stderr, flush=True)
    result = run_demo(seed=args.seed, digits=tuple(args.digits), progress=progress)
    print(result.table())
    means = result.means()
    print("\nmean ROC-AUC: " + ", ".join(f"{k} {v:.4f}" for k, v in means.items())
          + f"  ({result.seconds:.1f} s)")
    if args.json is not None:
        write_json_atomic(args.json, {"auc": result.auc, "means": means,
                                      "seconds": result.seconds, "seed": args.seed}, "--json")
    return 0
