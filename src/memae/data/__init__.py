"""Loaders for the benchmark data formats (pure NumPy/SciPy; no torch)."""

from memae.data.cifar import CIFAR10_CLASSES, RestrictedUnpickler, load_cifar10
from memae.data.idx import load_idx, load_mnist

__all__ = ["CIFAR10_CLASSES", "RestrictedUnpickler", "load_cifar10", "load_idx", "load_mnist"]
