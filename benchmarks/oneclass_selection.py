"""How the MNIST and CIFAR-10 configurations are chosen: candidates on the validation split.

The validation split is the one ``memae benchmark NAME --config validation``
uses: 10% of every class's training images held out (``oneclass.holdout_split``,
seed 0). Each candidate trains MemAE (seed 0) on the remaining images of two
classes (MNIST: digits 0 and 7; CIFAR-10: airplane and cat) and scores the
held-out images of all ten classes; the test split is never read.
``docs/results.md`` holds the tables this prints.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/oneclass_selection.py mnist --data-dir ../shared/data
    OMP_NUM_THREADS=1 python benchmarks/oneclass_selection.py cifar10 --data-dir ../shared/data
    python benchmarks/oneclass_selection.py mnist --only "first conv 3x3, 50 epochs"
    python benchmarks/oneclass_selection.py mnist --all-classes --only "first conv 3x3, 30 epochs" \
        "gcn_l1 images"
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memae import MemAEDetector
from memae.benchmarks import cifar10, mnist
from memae.benchmarks.base import BenchmarkOptions
from memae.benchmarks.oneclass import ImageSplits, holdout_split, run_oneclass
from memae.presets import Preset, load_preset

# Conv model parameters that add a fourth encoder stage (7x7 kernel, stride 7) to the
# three stride-2 stages of the MNIST and CIFAR-10 nets: their 4x4 grid (from 28 x 28 or
# 32 x 32 images) becomes one 64-d code per image, mirrored by the decoder.
ONE_CODE_PER_IMAGE: dict[str, Any] = {
    "channels": (16, 32, 64, 64), "kernel_sizes": (3, 3, 3, 7), "strides": (2, 2, 2, 7),
    "decoder_kernel_sizes": (7, 3, 3, 3),
}


def candidate(model: str, **fields: Any) -> Preset:
    """A configuration trained for a fixed number of epochs on every training image."""
    return Preset(name="candidate", kind="images", description="a selection candidate",
                  detector={"model": model, "validation_fraction": 0.0,
                            "patience": None}).with_(**fields)


def params(config: Preset) -> dict[str, Any]:
    return config.detector["model_params"]


PAPER_NET = candidate("conv2d_mnist", model_params={"addressing": "cosine", "temperature": 0.05},
                      epochs=15, batch_size=64, learning_rate=1e-3)


def k3(epochs: int, temperature: float = 0.05, **changes: Any) -> Preset:
    model_params = {"kernel_sizes": (3, 3, 3), "addressing": "cosine",
                    "temperature": temperature}
    return PAPER_NET.with_(model_params=model_params, epochs=epochs, **changes)



# The MNIST configuration chosen in the second round (3x3 first conv, 30 epochs); the
# third round's candidates change it.
K3_30 = k3(30)


def gcn_1x1(epochs: int = 30, **changes: Any) -> Preset:
    """``K3_30`` on gcn_l1 images with a 1x1 code, plus ``changes`` to its model."""
    return K3_30.with_(image_normalization="gcn_l1", epochs=epochs,
                       model_params={**params(K3_30), **ONE_CODE_PER_IMAGE, **changes})


MNIST: dict[str, Preset] = {
    "first conv 1x1 (the paper), 15 epochs": PAPER_NET,
    "first conv 1x1, 50 epochs": PAPER_NET.with_(epochs=50),
    "first conv 3x3, 15 epochs": k3(15),
    "first conv 3x3, 15 epochs, T = 0.1": k3(15, 0.1),
    "first conv 3x3, 15 epochs, memory 400": k3(15, memory_size=400),
    "first conv 3x3, 30 epochs": k3(30),
    "first conv 3x3, 30 epochs, memory 400": k3(30, memory_size=400),
    "first conv 3x3, 30 epochs, T = 0.02": k3(30, 0.02),
    "first conv 3x3, 30 epochs, batch 32": k3(30, batch_size=32),
    "first conv 3x3, 50 epochs": k3(50),
    "gcn_l1 images": K3_30.with_(image_normalization="gcn_l1"),
    "1x1 code": K3_30.with_(model_params={**params(K3_30), **ONE_CODE_PER_IMAGE}),
    "gcn_l1 images, 1x1 code": gcn_1x1(),
    "gcn_l1, 1x1 code of 32": gcn_1x1(channels=(16, 32, 64, 32)),
    "gcn_l1, 1x1 code of 128": gcn_1x1(channels=(16, 32, 64, 128)),
    "gcn_l1, 1x1 code, memory 400": gcn_1x1(memory_size=400),
    "gcn_l1, 1x1 code, T = 0.1": gcn_1x1(temperature=0.1),
    "gcn_l1, 1x1 code, 50 epochs": gcn_1x1(epochs=50),
    "gcn_l1, 1x1 code, memory 400, 50 epochs": gcn_1x1(epochs=50, memory_size=400),
    "gcn_l1, 1x1 code, 100 epochs": gcn_1x1(epochs=100),
    # fourth round: fixed one-pixel shifts of each training digit (9x the images, for a
    # sixth of the paper's training set) at the same number of steps as the chosen 50
    # epochs (6 x 9 = 54). Rule fixed before the run: adopt it only if it beats 0.9628 by
    # more than 0.005.
    "gcn_l1, 1x1 code, shift1, 6 epochs": gcn_1x1(epochs=6).with_(augmentation="shift1"),
}

CIFAR_FIRST = candidate("conv2d_cifar10",
                        model_params={"channels": (16, 32, 64), "addressing": "cosine",
                                      "temperature": 0.05},
                        epochs=3, batch_size=64, learning_rate=1e-3)
CIFAR_10_EPOCHS = CIFAR_FIRST.with_(epochs=10)  # chosen in the second round
CIFAR10: dict[str, Preset] = {
    "16-32-64, 3 epochs": CIFAR_FIRST,
    "16-32-64, 10 epochs": CIFAR_10_EPOCHS,
    "16-32-64, 20 epochs": CIFAR_FIRST.with_(epochs=20),
    "32-64-128, 10 epochs": CIFAR_FIRST.with_(
        epochs=10, model_params={**params(CIFAR_FIRST), "channels": (32, 64, 128)}),
    "gcn_l1 images": CIFAR_10_EPOCHS.with_(image_normalization="gcn_l1"),
    "1x1 code": CIFAR_10_EPOCHS.with_(model_params={**params(CIFAR_10_EPOCHS),
                                                    **ONE_CODE_PER_IMAGE}),
    "gcn_l1 images, 1x1 code": CIFAR_10_EPOCHS.with_(
        image_normalization="gcn_l1",
        model_params={**params(CIFAR_10_EPOCHS), **ONE_CODE_PER_IMAGE}),
    # fourth round: mirror images of each training image (2x the images) at the chosen
    # configuration's number of steps (5 x 2 = 10 epochs' worth). Rule fixed before the
    # run: adopt only if it beats 0.5911 by more than 0.005.
    "gcn_l1 images, 1x1 code, hflip, 5 epochs": load_preset("cifar10").with_(
        epochs=5, augmentation="hflip"),
}

def same(a: Preset, b: Preset) -> bool:
    """Whether two configurations train the same detector on the same images."""
    def protocol(p: Preset) -> tuple[str, str]:
        return p.settings.image_normalization, p.settings.augmentation
    return (MemAEDetector(**a.detector).get_params() == MemAEDetector(**b.detector).get_params()
            and protocol(a) == protocol(b))


BENCHMARKS = {"mnist": (mnist, MNIST, (0, 7)), "cifar10": (cifar10, CIFAR10, (0, 3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS))
    parser.add_argument("--data-dir", type=Path, default=None, help="default: $MEMAE_DATA")
    parser.add_argument("--only", nargs="+", default=None, help="candidates' names")
    parser.add_argument("--all-classes", action="store_true",
                        help="every class normal in turn (default: the two of the first rounds)")
    args = parser.parse_args()
    module, candidates, classes = BENCHMARKS[args.benchmark]
    preset = load_preset(args.benchmark)
    unknown = sorted(set(args.only or ()) - set(candidates))
    if unknown:
        parser.error(f"--only: got {unknown}; expected names from {list(candidates)}")
    if args.all_classes:
        classes = tuple(range(10))
    torch.set_num_threads(1)
    full = module.load_splits(BenchmarkOptions(out_dir=Path("."), data_dir=args.data_dir))
    train_x, train_y, val_x, val_y = holdout_split(full.train_x, full.train_y,
                                                   module.SPEC.validation_fraction, seed=0)
    splits = ImageSplits(train_x, train_y, val_x, val_y, full.class_names)
    names = [full.class_names[c] for c in classes]
    print(f"| setting | {' | '.join(names)} | mean |")
    print("|---|" + "---|" * (len(names) + 1))
    for name in args.only or list(candidates):
        rows = run_oneclass(splits, candidates[name], classes, (0,), "cpu", ("MemAE",))
        aucs = [r["roc_auc"] for r in rows]
        chosen = " (the benchmark's preset)" if same(candidates[name], preset) else ""
        cells = " | ".join(f"{auc:.4f}" for auc in aucs)
        print(f"| {name}{chosen} | {cells} | {np.mean(aucs):.4f} |", flush=True)

if __name__ == "__main__":
    main()
