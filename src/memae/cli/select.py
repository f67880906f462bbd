"""``memae select``: score a grid of preset changes on a benchmark's validation protocol."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from memae.benchmarks.parallel import check_run_options
from memae.benchmarks.selection import check_split, load_grid, run_selection, write_selection
from memae.cli.common import show_progress
from memae.presets import load_preset


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae select`` and its options."""
    parser = subparsers.add_parser(
        "select", help="score a grid of preset changes on validation splits",
        description="Runs the preset and every point of the grid (YAML: preset fields -> "
                    "lists of values; points are the cartesian product) through the "
                    "preset's benchmark protocol on its validation split, MemAE only; "
                    "prints one table (the preset first, then one row per point: the "
                    "fields' values and the validation metrics, mean over seeds) and writes "
                    "it to <out>/select_<preset>_<grid>_<seeds>.md and .json. The preset's "
                    "protocol is --protocol, else its benchmark.protocol, else its name "
                    "before the first '-'.")
    parser.add_argument("--preset", required=True,
                        help="a preset name or the path of a preset file")
    parser.add_argument("--grid", type=Path, required=True, help="the grid YAML file")
    parser.add_argument("--protocol", default=None, metavar="BENCHMARK",
                        help="the benchmark whose validation protocol scores the points "
                             "(default: the preset's); e.g. odds or kdd99 for the tabular "
                             "defaults, which have no benchmark of their own")
    parser.add_argument("--on", required=True, metavar="validation",
                        help="the split the points are compared on: validation (the only "
                             "one; test labels are never read)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="random seeds (default: the benchmark's own)")
    parser.add_argument("--quick", action="store_true",
                        help="the benchmark's --quick data and changes; a smoke test")
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="output folder (default: runs)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data folder (default: $MEMAE_DATA)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (per worker process with --jobs)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes that share each point's models; the tabular "
                             "numbers do not change, the image benchmarks' can in the "
                             "fourth decimal")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the selection the arguments describe and print its table."""
    check_split(args.on)
    check_run_options(args.threads, args.seeds, args.jobs)
    preset, grid = load_preset(args.preset), load_grid(args.grid)
    torch.set_num_threads(args.threads)
    selection = run_selection(preset, grid, on=args.on, seeds=args.seeds,
                              data_dir=args.data_dir, quick=args.quick, device=args.device,
                              jobs=args.jobs, threads=args.threads, out_dir=args.out,
                              progress=show_progress(args), protocol=args.protocol)
    json_path, md_path = write_selection(selection, args.out)
    print(selection.markdown())
    print(f"\nwall time {selection.seconds:.1f} s; wrote {json_path} and {md_path}")
    return 0
