"""Loaders for the benchmark data formats (pure NumPy/SciPy; no torch)."""

from memae.data.cifar import CIFAR10_CLASSES, RestrictedUnpickler, load_cifar10
from memae.data.datadir import DATASET_DIRS, ENV_VAR, find_dataset, resolve_data_dir
from memae.data.idx import load_idx, load_mnist
from memae.data.kdd import KDD_FEATURES, load_kddcup99
from memae.data.odds import list_odds, load_odds
from memae.data.tabular import CategoricalEncoder, Table, load_table

__all__ = [
    "CIFAR10_CLASSES",
    "CategoricalEncoder",
    "DATASET_DIRS",
    "ENV_VAR",
    "KDD_FEATURES",
    "RestrictedUnpickler",
    "Table",
    "find_dataset",
    "list_odds",
    "load_cifar10",
    "load_idx",
    "load_kddcup99",
    "load_mnist",
    "load_odds",
    "load_table",
    "resolve_data_dir",
]
