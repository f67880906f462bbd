"""The benchmark registry, its options and the result record."""

from __future__ import annotations

import importlib
import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memae._version import __version__
from memae.atomic import write_text_atomic
from memae.presets import Preset

# Modules under memae.benchmarks that register a benchmark when imported.
BENCHMARK_MODULES: tuple[str, ...] = ("mnist", "cifar10", "kdd99", "odds", "ped2")


@dataclass(frozen=True)
class BenchmarkOptions:
    """What every benchmark is run with.

    ``quick`` selects a small smoke-test variant (CI); ``seeds=None`` means the
    benchmark's own default seeds; ``config`` is the benchmark's ``--config``: a
    preset (:mod:`memae.presets`) and protocol modes, comma-separated (e.g.
    ``"paper,validation"``), ``None`` its default preset. ``jobs`` worker
    processes, each with ``threads`` torch threads, share the benchmark's units
    (:mod:`memae.benchmarks.parallel`); the tabular benchmarks' numbers do not depend
    on ``jobs``, the image benchmarks' conv nets can differ in the fourth decimal.
    ``model`` (ped2 only) evaluates a trained model, a run directory or model
    file, instead of training one. ``preset`` is the preset itself, in place of
    one named in ``config`` (which then holds modes only); ``variants`` trains
    only those ablation variants (:data:`memae.ablation.VARIANTS` names; odds then
    runs no PyOD baseline), ``None`` all of them.
    """

    out_dir: Path
    data_dir: Path | None = None
    quick: bool = False
    seeds: tuple[int, ...] | None = None
    config: str | None = None
    device: str = "cpu"
    threads: int = 1
    jobs: int = 1
    model: Path | None = None
    preset: Preset | None = None
    variants: tuple[str, ...] | None = None


@dataclass
class BenchmarkResult:
    """One benchmark run: per-row numbers, a summary, and the Markdown table.

    ``preset``, ``seeds`` and ``modes`` (the ``--config`` modes that change what is
    measured, such as ``validation``) name the run's files (:func:`result_stem`).
    """

    name: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    markdown: str
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    preset: str = ""
    seeds: tuple[int, ...] = ()
    modes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchmarkSpec:
    """A registered benchmark.

    ``validation_metrics`` reads the selection metrics (name -> MemAE's value, mean over
    seeds) from a ``--config validation`` run's result; ``None``: the benchmark has no
    validation protocol. ``sample_shape`` is the shape of one of its samples (a typical
    one where the data sets differ), on which ``memae select`` builds every
    configuration before training any.
    """

    name: str
    description: str
    run: Callable[[BenchmarkOptions], BenchmarkResult]
    validation_metrics: Callable[[BenchmarkResult], dict[str, float]] | None = None
    sample_shape: tuple[int, ...] | None = None


_BENCHMARKS: dict[str, BenchmarkSpec] = {}


def register_benchmark(spec: BenchmarkSpec) -> None:
    """Add a benchmark; names are unique."""
    if spec.name in _BENCHMARKS:
        raise ValueError(f"a benchmark named {spec.name!r} is already registered.")
    _BENCHMARKS[spec.name] = spec


def _load_all() -> None:
    for module in BENCHMARK_MODULES:
        importlib.import_module(f"memae.benchmarks.{module}")


def list_benchmarks() -> list[str]:
    """Names accepted by ``memae benchmark``."""
    _load_all()
    return sorted(_BENCHMARKS)


def get_benchmark(name: str) -> BenchmarkSpec:
    """The registered benchmark ``name``; an unknown name lists the known ones."""
    _load_all()
    if name not in _BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(sorted(_BENCHMARKS))}.")
    return _BENCHMARKS[name]


def machine_description() -> dict[str, Any]:
    """Where a result was measured."""
    import os

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "memae": __version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def seeds_label(seeds: Sequence[int]) -> str:
    """``seed0``; ``seeds0-19`` for consecutive seeds; ``seeds0-2+5`` otherwise."""
    ordered = sorted(set(seeds))
    if len(ordered) == 1:
        return f"seed{ordered[0]}"
    runs: list[list[int]] = []
    for seed in ordered:
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return "seeds" + "+".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def result_stem(benchmark: str, preset: str, seeds: Sequence[int], modes: Sequence[str] = (),
                quick: bool = False) -> str:
    """``<benchmark>_<preset>[_<mode>...]_<seeds>[_quick]``, the name of a run's files.

    Modes are sorted, so that ``--config validation,csv`` and ``csv,validation`` name the
    same files; empty parts are left out.
    """
    parts = [benchmark, preset, *sorted(modes), seeds_label(seeds) if seeds else ""]
    return "_".join(p for p in parts if p) + ("_quick" if quick else "")


def write_result(result: BenchmarkResult, options: BenchmarkOptions) -> tuple[Path, Path]:
    """Write ``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.md``; return both paths.

    The stem (:func:`result_stem`) names the benchmark, preset, modes and seeds, so runs
    of other configurations into the same folder never overwrite this one.
    """
    stem = result_stem(result.name, result.preset, result.seeds, result.modes, options.quick)
    json_path = options.out_dir / f"{stem}.json"
    md_path = options.out_dir / f"{stem}.md"
    record = {**asdict(result), "options": {**asdict(options), "out_dir": str(options.out_dir),
                                             "data_dir": str(options.data_dir),
                                             "model": None if options.model is None
                                             else str(options.model),
                                             "preset": None if options.preset is None
                                             else options.preset.to_dict()},
              "machine": machine_description()}
    write_text_atomic(json_path, json.dumps(record, indent=2, default=str), "result file")
    write_text_atomic(md_path, f"# {result.name}\n\n{result.markdown}\n\n"
                               f"Wall time: {result.seconds:.1f} s\n", "result file")
    return json_path, md_path


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std())


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; floats are written with 4 decimals."""
    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
