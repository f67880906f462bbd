"""``memae benchmark mnist``: one-class MNIST (Gong et al. 2019, Table 1).

Only the first 10,000 MNIST training images are available here (about 1,000
per digit; the paper trained on about 6,000 per digit). The detector is the
``mnist`` preset's (``memae presets mnist``); ``--config`` also takes
``validation`` (the protocol on held-out training images) and any other images
preset, by name or path.
"""

from __future__ import annotations

import time

import numpy as np

from memae.benchmarks.base import (
    BenchmarkOptions,
    BenchmarkResult,
    BenchmarkSpec,
    register_benchmark,
)
from memae.benchmarks.detectors import benchmark_preset
from memae.benchmarks.oneclass import (
    ImageBenchmark,
    ImageSplits,
    run_image_benchmark,
    validation_metrics,
)
from memae.benchmarks.parallel import cpu_seconds
from memae.data import find_dataset, load_mnist

SPEC = ImageBenchmark(
    name="mnist",
    paper={"AE": 0.9619, "MemAE-nonSpar": 0.9725, "MemAE": 0.9751},
    note=("MNIST here has only the first 10,000 training images (about 1,000 per digit; "
          "the paper had about 6,000)."),
)


def load_splits(options: BenchmarkOptions) -> ImageSplits:
    """Training and test digits as float32 ``(n, 1, 28, 28)`` in [0, 1]."""
    root = find_dataset("mnist", options.data_dir)
    train_x, train_y = load_mnist(root, "train")
    test_x, test_y = load_mnist(root, "test")

    def scale(images: np.ndarray) -> np.ndarray:
        return (images.astype(np.float32) / 255.0)[:, None]

    return ImageSplits(scale(train_x), train_y.astype(np.int64), scale(test_x),
                       test_y.astype(np.int64), [str(d) for d in range(10)])


def run(options: BenchmarkOptions) -> BenchmarkResult:
    """One-class MNIST for AE, MemAE-nonSpar and MemAE."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    preset, modes = benchmark_preset(options.config, "mnist", "images", ("validation",),
                                     preset=options.preset)
    rows, summary, markdown, settings = run_image_benchmark(
        SPEC, load_splits(options), preset, quick=options.quick,
        validation="validation" in modes, seeds=options.seeds or (0,), device=options.device,
        jobs=options.jobs, threads=options.threads, variants=options.variants)
    settings["cpu_seconds"] = cpu_seconds() - cpu_started
    return BenchmarkResult("mnist", rows, summary, markdown, time.perf_counter() - started,
                           settings, preset.name, tuple(settings["seeds"]),
                           tuple(sorted(modes)))


register_benchmark(BenchmarkSpec("mnist", "one-class MNIST, AE / MemAE-nonSpar / MemAE", run,
                                 validation_metrics, (1, 28, 28)))
