"""Size of Ped2's frame differences: what a model reading them has to reconstruct.

Prints, for the training clips at a given input size, the mean square of the difference
images ``f_t - f_(t-1)`` (the error of reconstructing every difference as zeros, the bar
the training MSE of an ``input_signal="difference"`` model is compared with in
``docs/video.md``) and their largest magnitude. No labels are read.

Usage::

    python benchmarks/ped2_difference_stats.py --data-dir ../shared/data --size 80 120
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memae.video import discover_clips, frame_differences, iter_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, nargs=2, default=(80, 120), metavar=("H", "W"))
    args = parser.parse_args()
    size = (args.size[0], args.size[1])
    clips = discover_clips(args.data_dir / "ped2", "training")
    total, count, largest = 0.0, 0, 0.0
    for clip in clips:
        for change in frame_differences(iter_frames(clip, size)):
            total += float(np.square(change, dtype=np.float64).sum())
            count += change.size
            largest = max(largest, float(np.abs(change).max()))
    print(f"{len(clips)} training clips at {size[0]} x {size[1]}: mean square of the "
          f"differences {total / count:.6f}, largest magnitude {largest:.3f}")


if __name__ == "__main__":
    main()
