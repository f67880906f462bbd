"""Per-item calibrated memory signals on the ODDS validation splits (test parts never read).

The same splits, ensemble and standardisation as ``memory_signals.py`` (imported from
it). Each member's training codes are assigned to their nearest memory item (cosine);
per item, the mean and spread of the codes' cosine distance to it, and the share of
training codes it holds, are computed on the member's training rows. Items holding
fewer than ``MIN_CODES`` training codes use the statistics pooled over all codes.
Candidates (higher: more anomalous):

- ``nearest_z``: the code's cosine distance to its nearest item, standardised by that
  item's training mean and spread;
- ``read_z``: the cosine distance of the code to its read-out, standardised by the
  statistics of the same distance over the training codes of the code's nearest item;
- ``rarity``: minus the log of the share of training codes whose nearest item is the
  code's nearest item (a rare prototype: few training rows look like it);
- sums of the standardised ``recon`` with each.

    python docs/experiments/scripts/memory_signals_calibrated.py DATA_DIR OUT.json [SETS]
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F
from memory_signals import read_codes, run_panel, standardised_means
from sklearn.metrics import roc_auc_score

from memae.data.odds import list_odds
from memae.models import MemAutoEncoder

MIN_CODES = 5
CANDIDATES = ("nearest_z", "read_z", "rarity")


@torch.no_grad()
def raw(model: MemAutoEncoder, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row reconstruction error, nearest item and the two cosine distances."""
    x, z, read, _ = read_codes(model, rows)
    assert model.memory is not None
    cos = F.normalize(z, dim=1) @ F.normalize(model.memory.items, dim=1).T
    best = cos.max(1)
    return {"recon": ((x - model.decoder(read, ())) ** 2).mean(1).double().numpy(),
            "item": best.indices.numpy(),
            "nearest": (1 - best.values).double().numpy(),
            "read": (1 - F.cosine_similarity(z, read, dim=1)).double().numpy()}


def per_item(items: np.ndarray, values: np.ndarray, n_items: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of ``values`` per item, pooled where an item has too few codes."""
    count = np.bincount(items, minlength=n_items)
    total = np.bincount(items, values, minlength=n_items)
    squares = np.bincount(items, values ** 2, minlength=n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean ** 2, 0))
    pooled = count < MIN_CODES
    mean[pooled], std[pooled] = values.mean(), values.std()
    return mean, np.maximum(std, 1e-6)


def signals(fit: dict[str, np.ndarray], val: dict[str, np.ndarray], n_items: int
            ) -> dict[str, np.ndarray]:
    """Validation-row candidates of one member, from its training-row statistics."""
    out = {"recon": val["recon"]}
    for key, name in (("nearest", "nearest_z"), ("read", "read_z")):
        mean, std = per_item(fit["item"], fit[key], n_items)
        out[name] = (val[key] - mean[val["item"]]) / std[val["item"]]
    share = (np.bincount(fit["item"], minlength=n_items) + 1) / (len(fit["item"]) + n_items)
    out["rarity"] = -np.log(share[val["item"]])
    return out


def member_signals(model: MemAutoEncoder, X_fit: np.ndarray, X_val: np.ndarray
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One member's candidates on its training rows and on the validation rows."""
    assert model.memory is not None
    n_items = model.memory.items.shape[0]
    fit, val = raw(model, X_fit), raw(model, X_val)
    return signals(fit, fit, n_items), signals(fit, val, n_items)


def main(data_dir: str, out: str, names: list[str]) -> None:
    """Score the candidates on the validation split of every set in ``names``."""

    def evaluate(name: str) -> dict[str, float]:
        _, y_val, means, _ = standardised_means(data_dir, name, member_signals)
        aucs = {key: float(roc_auc_score(y_val, v)) for key, v in means.items()}
        for key in CANDIDATES:
            aucs[f"recon+{key}"] = float(roc_auc_score(y_val, means["recon"] + means[key]))
        return aucs

    run_panel(names, out, evaluate)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2],
         sys.argv[3].split(",") if len(sys.argv) > 3 else list_odds(f"{sys.argv[1]}/odds"))
