"""Memory-aware score candidates on the ODDS validation splits (test parts never read).

For each ODDS set: the benchmark's stratified 60/40 split (seed 0), then its validation
split of the 60% (75/25, stratified, seed 0); the `odds` preset's MemAE ensemble is
fitted on the 75% and every candidate signal is computed per member on the 25%,
standardised by the member's mean and spread on its training rows and averaged over the
members, as the ensemble averages its reconstruction scores. Prints one JSON line of
validation ROC-AUCs per set (and the first member's memory health in its last epoch)
and writes them all to OUT.

    python docs/experiments/scripts/memory_signals.py DATA_DIR OUT.json [SET,SET,...]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from memae.benchmarks.detectors import make_detector
from memae.benchmarks.odds import split
from memae.data.odds import list_odds, load_odds
from memae.ensemble import MemAEEnsemble
from memae.models import MemAutoEncoder
from memae.presets import load_preset

MemberSignals = Callable[[MemAutoEncoder, np.ndarray, np.ndarray],
                         tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]
PAIRS = (("recon", "latent_cos"), ("recon", "nearest_cos"), ("recon", "neg_maxw"))


def read_codes(model: MemAutoEncoder, rows: np.ndarray
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The rows, their codes, the codes' memory read-outs and addressing weights."""
    assert model.memory is not None
    x = torch.from_numpy(rows)
    z = model.encoder(x)
    read, weights, _ = model.memory(z)
    return x, z, read, weights


@torch.no_grad()
def signals(model: MemAutoEncoder, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row candidate scores of one member (higher: more anomalous, as written)."""
    x, z, read, weights = read_codes(model, rows)
    assert model.memory is not None
    items = F.normalize(model.memory.items, dim=1)
    out = {
        "recon": ((x - model.decoder(read, ())) ** 2).mean(1),
        "latent": ((z - read) ** 2).sum(1),
        "latent_cos": 1 - F.cosine_similarity(z, read, dim=1),
        "nearest_cos": 1 - (F.normalize(z, dim=1) @ items.T).max(1).values,
        "neg_maxw": -weights.max(1).values,
        "entropy": -(weights * torch.log(weights.clamp_min(1e-30))).sum(1),
        "code_norm": z.norm(dim=1),
        "decoded_code_change": ((model.decoder(z, ()) - model.decoder(read, ())) ** 2).mean(1),
    }
    return {k: v.double().numpy() for k, v in out.items()}


def standardised_means(data_dir: str, name: str, member_signals: MemberSignals
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], MemAEEnsemble]:
    """Validation rows and labels, member-averaged standardised signals, the ensemble."""
    X, y = load_odds(f"{data_dir}/odds/{name}.mat")
    X_fit, X_val, y_val = split(X, y, 0, validation=True)
    ensemble = make_detector(load_preset("odds"), "MemAE", 0, len(X_fit), "cpu").fit(X_fit)
    standardised: dict[str, list[np.ndarray]] = {}
    for member in ensemble.estimators_:
        fit, val = member_signals(member.model_, member._prepare(X_fit.astype(np.float32)),
                                  member._prepare(X_val.astype(np.float32)))
        for key, values in val.items():
            standardised.setdefault(key, []).append(
                (values - fit[key].mean()) / (fit[key].std() + 1e-12))
    means = {key: np.mean(v, axis=0) for key, v in standardised.items()}
    return X_val, y_val, means, ensemble


def run_panel(names: list[str], out: str, evaluate: Callable[[str], dict[str, float]]) -> None:
    """``evaluate`` every set in ``names``, one JSON line each, all of them to ``out``."""
    torch.set_num_threads(1)
    results = {}
    for name in names:
        began = time.perf_counter()
        results[name] = evaluate(name)
        print(name, f"{time.perf_counter() - began:.1f} s",
              json.dumps({k: round(v, 4) for k, v in results[name].items()}), flush=True)
    with open(out, "w") as file:
        json.dump(results, file, indent=1)


def main(data_dir: str, out: str, names: list[str]) -> None:
    """Score the candidates on the validation split of every set in ``names``."""

    def evaluate(name: str) -> dict[str, float]:
        X_val, y_val, means, ensemble = standardised_means(
            data_dir, name, lambda model, fit, val: (signals(model, fit), signals(model, val)))
        aucs = {key: float(roc_auc_score(y_val, v)) for key, v in means.items()}
        for a, b in PAIRS:
            aucs[f"{a}+{b}"] = float(roc_auc_score(y_val, means[a] + means[b]))
        first = signals(ensemble.estimators_[0].model_,
                        ensemble.estimators_[0]._prepare(X_val.astype(np.float32)))
        for key in ("code_norm", "neg_maxw"):
            aucs[f"median_{key}_normal"] = float(np.median(first[key][y_val == 0]))
            aucs[f"median_{key}_anomalous"] = float(np.median(first[key][y_val == 1]))
        health = ensemble.estimators_[0].history_
        aucs["items_used_first_member"] = float(health.memory_items_used[-1])
        aucs["entropy_first_member"] = float(health.memory_entropy[-1])
        return aucs

    run_panel(names, out, evaluate)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2],
         sys.argv[3].split(",") if len(sys.argv) > 3 else list_odds(f"{sys.argv[1]}/odds"))
