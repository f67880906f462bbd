"""Reproducible benchmarks behind ``memae benchmark NAME``.

Each benchmark module (listed in :data:`BENCHMARK_MODULES`) defines a
``run(options: BenchmarkOptions) -> BenchmarkResult`` function and registers
it with :func:`register_benchmark` at import time. :func:`write_result`
stores every result as JSON and as a Markdown table.
"""

from memae.benchmarks.base import (
    BENCHMARK_MODULES,
    BenchmarkOptions,
    BenchmarkResult,
    BenchmarkSpec,
    get_benchmark,
    list_benchmarks,
    register_benchmark,
    write_result,
)

__all__ = [
    "BENCHMARK_MODULES",
    "BenchmarkOptions",
    "BenchmarkResult",
    "BenchmarkSpec",
    "get_benchmark",
    "list_benchmarks",
    "register_benchmark",
    "write_result",
]
