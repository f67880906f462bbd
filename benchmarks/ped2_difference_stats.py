"""Size and rhythm of Ped2's frame differences: what a model reading them has to reconstruct.

Prints, for the training clips at a given input size:

- the mean square of the difference images ``f_t - f_(t-1)`` (the error of reconstructing
  every difference as zeros, the bar the training MSE of an ``input_signal="difference"``
  model is compared with in ``docs/video.md``) and their largest magnitude;
- the rhythm of each clip's motion energy (the mean square of each difference image, frame
  by frame): the lag of the first peak of its autocorrelation after the drop at short lags,
  i.e. the period in frames at which the energy of walking pedestrians rises and falls, and
  the median of those lags over the clips that have one.

No labels are read.

Usage::

    python benchmarks/ped2_difference_stats.py --data-dir ../shared/data --size 80 120
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memae.video import discover_clips, frame_differences, iter_frames


def first_peak(series: np.ndarray, max_lag: int = 30) -> int | None:
    """Lag of the first local maximum of the autocorrelation of ``series`` after its first
    local minimum (``None`` when the autocorrelation only falls within ``max_lag``)."""
    centred = series - series.mean()
    full = np.correlate(centred, centred, "full")[len(centred) - 1:]
    corr = full[: max_lag + 2] / full[0]
    fell = False
    for lag in range(1, len(corr) - 1):
        if corr[lag] < corr[lag - 1] and corr[lag] <= corr[lag + 1]:
            fell = True
        elif fell and corr[lag] > corr[lag - 1] and corr[lag] >= corr[lag + 1]:
            return lag
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, nargs=2, default=(80, 120), metavar=("H", "W"))
    args = parser.parse_args()
    size = (args.size[0], args.size[1])
    clips = discover_clips(args.data_dir / "ped2", "training")
    total, count, largest = 0.0, 0, 0.0
    peaks: dict[str, int | None] = {}
    for clip in clips:
        energy = []
        for change in frame_differences(iter_frames(clip, size)):
            square = float(np.square(change, dtype=np.float64).sum())
            total += square
            count += change.size
            largest = max(largest, float(np.abs(change).max()))
            energy.append(square / change.size)
        # the first difference of a video is zeros by definition: left out of its rhythm
        peaks[clip.name] = first_peak(np.array(energy[1:]))
    print(f"{len(clips)} training clips at {size[0]} x {size[1]}: mean square of the "
          f"differences {total / count:.6f}, largest magnitude {largest:.3f}")
    found = [lag for lag in peaks.values() if lag is not None]
    listed = ", ".join(f"{name}: {'none' if lag is None else lag}" for name, lag in peaks.items())
    median = f"{float(np.median(found)):g}" if found else "none"
    print(f"first autocorrelation peak of the motion energy, frames ({listed}); "
          f"median over {len(found)} clips: {median}")


if __name__ == "__main__":
    main()
