"""memae: memory-augmented autoencoders for unsupervised anomaly detection."""

from memae._version import __version__
from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble
from memae.memory import Memory, MemoryReadout, addressing_entropy, hard_shrink_relu
from memae.models import create_model, describe_models, list_models

__all__ = [
    "MemAEDetector",
    "MemAEEnsemble",
    "Memory",
    "MemoryReadout",
    "__version__",
    "addressing_entropy",
    "create_model",
    "describe_models",
    "hard_shrink_relu",
    "list_models",
]
