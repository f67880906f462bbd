"""The paper's ablation: AE, MemAE-nonSpar and MemAE (Gong et al., ICCV 2019, Sec. 4).

Every benchmark trains the same encoder and decoder three ways and reports them
in this order:

- **AE**: no memory, the plain autoencoder;
- **MemAE-nonSpar**: the memory without hard shrinkage (lambda = 0) and without the
  addressing-entropy loss (alpha = 0), the two sparsity terms the paper removes;
- **MemAE**: the full model, as the configuration describes it.

Each variant is a set of estimator parameters laid over a configuration. The
names are those of MemAE's detector parameters (``memory``, ``shrink_threshold``,
``entropy_weight``), so the table serves every data kind.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VARIANTS", "variant_params"]

# variant name -> parameter overrides; the order is the paper's table order.
VARIANTS: dict[str, dict[str, Any]] = {
    "AE": {"memory": False},
    "MemAE-nonSpar": {"shrink_threshold": 0.0, "entropy_weight": 0.0},
    "MemAE": {},
}


def variant_params(name: str) -> dict[str, Any]:
    """The parameter overrides of ablation variant ``name`` (a fresh dict).

    Raises
    ------
    ValueError
        For a name that is not in :data:`VARIANTS`; the message lists them.
    """
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {name!r}; pick one "
                         "of those names.")
    return dict(VARIANTS[name])
