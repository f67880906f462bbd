"""``memae benchmark NAME``: run a registered benchmark, write JSON and Markdown."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from memae.benchmarks import BenchmarkOptions, get_benchmark, list_benchmarks, write_result
from memae.benchmarks.parallel import check_run_options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``memae benchmark NAME`` and its options on ``subparsers``."""
    parser = subparsers.add_parser(
        "benchmark", help="reproduce a paper benchmark on real data",
        description="Runs a benchmark and writes <out>/<name>_<preset>[_<mode>]_<seeds>.json "
                    "and .md (e.g. runs/kdd99_kdd99_seeds0-19.json; --quick adds _quick).")
    parser.add_argument("name", help=f"one of: {', '.join(list_benchmarks()) or '(none yet)'}")
    parser.add_argument("--quick", action="store_true", help="small smoke-test variant")
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="output folder (default: runs)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data folder (default: $MEMAE_DATA)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="random seeds")
    parser.add_argument("--config", default=None,
                        help="comma-separated: a preset (name or YAML file; default: the "
                             "benchmark's own) and protocol modes such as validation")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (per worker process with --jobs)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes that share the models to train (mnist, "
                             "cifar10, kdd99, odds); the tabular numbers do not change, the "
                             "image benchmarks' can in the fourth decimal")
    parser.add_argument("--model", type=Path, default=None,
                        help="ped2: evaluate this trained video model (a run directory of "
                             "`memae train --kind video` or its model file) instead of "
                             "training one")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the benchmark, write its JSON and Markdown results and print the table; 0 on success."""
    check_run_options(args.threads, args.seeds, args.jobs)
    spec = get_benchmark(args.name)
    if args.model is not None and args.name != "ped2":
        raise ValueError(f"--model: only ped2 evaluates a trained model; {args.name} trains "
                         "its own models, drop --model.")
    if args.model is not None and (args.seeds is not None or args.config is not None):
        raise ValueError("--model evaluates the model as it was trained; drop --seeds and "
                         "--config (its settings are in the model file).")
    torch.set_num_threads(args.threads)
    options = BenchmarkOptions(out_dir=args.out, data_dir=args.data_dir, quick=args.quick,
                               seeds=None if args.seeds is None else tuple(args.seeds),
                               config=args.config, device=args.device, threads=args.threads,
                               jobs=args.jobs, model=args.model)
    result = spec.run(options)
    json_path, md_path = write_result(result, options)
    print(result.markdown)
    print(f"\nwall time {result.seconds:.1f} s; wrote {json_path} and {md_path}")
    return 0
