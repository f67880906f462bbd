"""Loaders for the benchmark data formats (pure NumPy/SciPy; no torch)."""

from memae.data.idx import load_idx, load_mnist

__all__ = ["load_idx", "load_mnist"]
