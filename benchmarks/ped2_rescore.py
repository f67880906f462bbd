"""Score a saved Ped2 video model's test frames with other frame scores (diagnosis only).

The weights are not touched; only the config's score fields change. Each setting is
evaluated on Ped2's test labels, so what this prints is a diagnosis of a model already
evaluated (``docs/video.md``, run 8), or the evaluation of a candidate whose keep-or-revert
rule was written down before it ran (``patch_max`` for the fifth version, same file).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/ped2_rescore.py ped2_cpu_seed0.safetensors \\
        --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from memae.video import discover_clips, evaluate_mode, load_video_model

SETTINGS = {
    "patch_max": {"reduction": "patch_max"},
    "paper score (mean, no moving average)":
        {"score_normalization": "none", "reduction": "mean", "temporal_smoothing": 1},
    "zscore / patch_max, no moving average":
        {"score_normalization": "zscore", "reduction": "patch_max", "temporal_smoothing": 1},
    "paper score with a 17-frame moving average":
        {"score_normalization": "none", "reduction": "mean", "temporal_smoothing": 17},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a video model file (with an error reference "
                        "for the z-scored setting)")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--setting", action="append", choices=sorted(SETTINGS),
                        help="score only these settings (repeatable; default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    video_model = load_video_model(args.model)
    names = args.setting or list(SETTINGS)
    needs_reference = any(SETTINGS[n].get("score_normalization", "none") != "none"
                          for n in names)
    if needs_reference and video_model.reference is None:
        parser.error("the model has no error reference; train it with score_normalization "
                     "set, or pass --setting for scores without one")
    root = args.data_dir / "ped2"
    test = discover_clips(root, "testing", labels=root / "ped2.mat")
    original = video_model.config
    for name in names:
        fields = SETTINGS[name]
        video_model.config = dataclasses.replace(original, **fields)
        aucs = [evaluate_mode(video_model, test, mode).frame_auc for mode in ("sliding", "fast")]
        print(f"{name}: frame AUC {aucs[0]:.4f} (sliding) / {aucs[1]:.4f} (fast)", flush=True)


if __name__ == "__main__":
    main()
