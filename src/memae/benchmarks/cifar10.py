"""``memae benchmark cifar10``: one-class CIFAR-10 (Gong et al. 2019, Table 1).

The data here is a JPEG (quality 75) copy of CIFAR-10, so pixels differ
slightly from the original batches. The detector is the ``cifar10`` preset's
(``memae presets cifar10``), a net narrower than the paper's so that the whole
benchmark fits the CPU budget; ``--config paper`` (the ``cifar10-paper`` preset)
trains the paper's 64-128-256 net instead. ``--config`` also takes
``validation`` (the protocol on held-out training images) and any other images
preset, by name or path.
"""

from __future__ import annotations

import time

import numpy as np
from einops import rearrange

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
from memae.data import CIFAR10_CLASSES, find_dataset, load_cifar10

# --config short names -> presets
ALIASES = {"paper": "cifar10-paper"}

SPEC = ImageBenchmark(
    name="cifar10",
    paper={"AE": 0.5706, "MemAE-nonSpar": 0.6058, "MemAE": 0.6088},
    note="CIFAR-10 (JPEG q75 copy): pixels are not bit-exact to the original batches.",
    quick_classes=(0,), quick_eval=2000, quick_variants=("MemAE",),
)


def load_splits(options: BenchmarkOptions, train_classes: list[str] | None = None
                ) -> ImageSplits:
    """Training and test images as float32 ``(n, 3, 32, 32)`` in [0, 1].

    ``train_classes`` loads only those classes' training images (all by default).
    """
    root = find_dataset("cifar10", options.data_dir)
    train_x, train_y, _ = load_cifar10(root, "train", classes=train_classes)
    test_x, test_y, names = load_cifar10(root, "test")

    def scale(images: np.ndarray) -> np.ndarray:
        return rearrange(images.astype(np.float32) / 255.0, "n h w c -> n c h w")

    return ImageSplits(scale(train_x), train_y, scale(test_x), test_y, list(names))


def run(options: BenchmarkOptions) -> BenchmarkResult:
    """One-class CIFAR-10 for AE, MemAE-nonSpar and MemAE."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    preset, modes = benchmark_preset(options.config, "cifar10", "images", ("validation",),
                                     ALIASES, options.preset)
    validation = "validation" in modes
    # The quick test trains on its classes only; no need to decode the others.
    needed = ([CIFAR10_CLASSES[c] for c in SPEC.quick_classes]
              if options.quick and not validation else None)
    rows, summary, markdown, settings = run_image_benchmark(
        SPEC, load_splits(options, needed), preset, quick=options.quick,
        validation=validation, seeds=options.seeds or (0,), device=options.device,
        jobs=options.jobs, threads=options.threads, variants=options.variants)
    settings["cpu_seconds"] = cpu_seconds() - cpu_started
    return BenchmarkResult("cifar10", rows, summary, markdown, time.perf_counter() - started,
                           settings, preset.name, tuple(settings["seeds"]),
                           tuple(sorted(modes)))


register_benchmark(BenchmarkSpec("cifar10", "one-class CIFAR-10, AE / MemAE-nonSpar / MemAE",
                                 run, validation_metrics, (3, 32, 32)))
