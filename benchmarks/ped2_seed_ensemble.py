"""Ped2 frame AUC of an ensemble over saved video models (e.g. one preset, several seeds).

The ensemble's score of a frame is the mean, over the models, of that frame's score
min-max normalised within its video (the paper's per-video normalisation, applied to
each model first so that no model's scale dominates); the evaluation then normalises
per video again and pools, as for a single model. Every subset of two or more models is
printed beside each model's own AUC, for sliding and fast mode. This reads Ped2's test
labels: it measures an ensemble fixed in advance (``docs/video.md``), it is not a way to
pick one.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/ped2_seed_ensemble.py seed0.safetensors \\
        seed1.safetensors seed2.safetensors --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch

from memae.video import discover_clips, evaluate_mode, load_video_model
from memae.video.evaluate import frame_auc, minmax_normalize

MODES = ("sliding", "fast")


def ensemble_scores(members: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Per video, the mean of the members' min-max normalised scores."""
    return [np.mean([minmax_normalize(video) for video in videos], axis=0)
            for videos in zip(*members, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="two or more video model files")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("an ensemble needs at least two model files")
    torch.set_num_threads(1)
    root = args.data_dir / "ped2"
    test = discover_clips(root, "testing", labels=root / "ped2.mat")
    labels = [np.asarray(clip.labels) for clip in test]
    scores: dict[str, list[list[np.ndarray]]] = {mode: [] for mode in MODES}
    print("| models | frame AUC sliding | frame AUC fast |\n|---|---|---|")
    for path in args.models:
        model = load_video_model(path)
        results = [evaluate_mode(model, test, mode) for mode in MODES]
        for mode, result in zip(MODES, results, strict=True):
            scores[mode].append(result.scores)
        print(f"| {path.name} | {results[0].frame_auc:.4f} | {results[1].frame_auc:.4f} |",
              flush=True)
    for size in range(2, len(args.models) + 1):
        for subset in itertools.combinations(range(len(args.models)), size):
            aucs = [frame_auc(ensemble_scores([scores[mode][i] for i in subset]), labels)
                    for mode in MODES]
            names = " + ".join(args.models[i].name for i in subset)
            print(f"| {names} | {aucs[0]:.4f} | {aucs[1]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
