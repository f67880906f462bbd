"""Ped2 selection on held-out training clips: train on clips 01-14, score planted events.

``train``: fit the ``ped2-cpu`` preset (or an ablation variant) on Ped2's training clips
01-14 only and save the model. ``validate``: see ``ped2_memory_scores.py``.

    OMP_NUM_THREADS=1 python docs/experiments/scripts/ped2_heldout.py train \
        --data ../shared/data/ped2 --variant MemAE --seed 0 --out runs/heldout_memae_s0
"""

from __future__ import annotations

import argparse
import time

import torch

from memae import VideoDetector
from memae.ablation import variant_params
from memae.video import discover_clips

TRAIN_CLIPS = 14  # clips 01-14 train; 15 and 16 are the held-out validation clips


def main() -> None:
    """Train one model on clips 01-14 and save it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--data", required=True)
    parser.add_argument("--variant", default="MemAE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = sorted(discover_clips(args.data, "training"), key=lambda c: c.name)
    detector = VideoDetector.from_preset(
        "ped2-cpu", random_state=args.seed, **variant_params(args.variant), verbose=True)
    started = time.perf_counter()
    detector.fit(clips[:TRAIN_CLIPS])
    print(f"trained on {[c.name for c in clips[:TRAIN_CLIPS]]} in "
          f"{time.perf_counter() - started:.0f} s")
    print("saved", detector.save(args.out))


if __name__ == "__main__":
    main()
